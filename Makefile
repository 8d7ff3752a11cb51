# EsoCore Cloud: `make run` serves everything on SQLite; `make test` runs every test.

BUILD       ?= build
ASAN_BUILD  ?= build-asan
BUILD_TYPE  ?= RelWithDebInfo
JOBS        ?= $(shell nproc)
DATA_DIR    ?= data
PORTAL_OUT  := portal/.output/public
# Swagger UI and ReDoc from npm (scripts/docs-assets.sh): packages and the served files (dist).
DOCS_CACHE  ?= build/docs-assets

# ccache hits across checkouts in different folders (CI builds a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

export ESOCORE_DATA_DIR ?= $(DATA_DIR)
export ESOCORE_DATABASE_URL ?= sqlite:$(DATA_DIR)/esocore.db
# Where the docs browser test (ctest) finds the pages and playwright-core.
export ESOCORE_DOCS_CACHE := $(abspath $(DOCS_CACHE))

CXX_SOURCES = $(shell git ls-files '*.cpp' '*.h' 2>/dev/null)

.PHONY: run test build build-server build-asan bootstrap bootstrap-test portal docs docs-tools sim \
        bench format format-check test-unit test-asan clean

run: bootstrap build-server portal docs
	ESOCORE_PORTAL_DIR=$(PORTAL_OUT) ESOCORE_DOCS_DIR=$(DOCS_CACHE)/dist $(BUILD)/esocore serve

bootstrap:
	@scripts/bootstrap.sh run

bootstrap-test:
	@scripts/bootstrap.sh test

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: $(BUILD)/build.ninja docs
	ninja -C $(BUILD) -j$(JOBS)

# Only what `make run` needs: the server and the simulator, not the tests.
build-server: $(BUILD)/build.ninja
	ninja -C $(BUILD) -j$(JOBS) esocore esocore-sim

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DESOCORE_SANITIZE=ON \
	    -DESOCORE_BUILD_BENCH=OFF

build-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j$(JOBS)

# The files of /api/docs/ (Swagger UI) and /api/redoc/ (ReDoc), installed from npm once per
# lock file. docs-tools adds what make test uses: @redocly/cli and playwright-core.
docs:
	@scripts/docs-assets.sh $(DOCS_CACHE)

docs-tools:
	@scripts/docs-assets.sh --dev $(DOCS_CACHE)

# The portal is built when its sources exist; the server serves what it finds.
portal:
	@if [ -f portal/package.json ]; then scripts/build-portal.sh; fi

# The portal's ESLint, nuxt typecheck and Vitest unit tests.
.PHONY: test-portal
test-portal:
	scripts/test-portal.sh

test: bootstrap-test format-check docs-tools build build-asan portal
	scripts/openapi-lint.sh $(DOCS_CACHE)
	scripts/test-portal.sh
	scripts/run-tests.sh $(BUILD) $(ASAN_BUILD)

format:
	clang-format -i $(CXX_SOURCES)

format-check:
	@clang-format --dry-run --Werror $(CXX_SOURCES) && echo "format: ok"

# The simulator talks to the server `make run` started, wherever ESOCORE_LISTEN put it.
SIM_SERVER ?= http://$(or $(ESOCORE_LISTEN),127.0.0.1:8000)

sim: build-server
	$(BUILD)/esocore-sim --devices 50 --server $(SIM_SERVER)

# SQLite and a throwaway PostgreSQL, side by side (bootstrap-test installs PostgreSQL).
bench: bootstrap bootstrap-test build
	scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
