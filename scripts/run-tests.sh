#!/usr/bin/env bash
# Runs every test suite: the normal build and the sanitizer build, each against SQLite and
# a throwaway PostgreSQL server started here and removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
asan_build=${2:-build-asan}
jobs=$(nproc)

pg_dir=$(mktemp -d /tmp/esocore-pg-XXXXXX)
cleanup() {
    scripts/pg-test-server.sh stop "$pg_dir" >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap cleanup EXIT

if [[ -x scripts/pg-test-server.sh ]]; then
    ESOCORE_TEST_POSTGRES_URL=$(scripts/pg-test-server.sh start "$pg_dir")
    export ESOCORE_TEST_POSTGRES_URL
    echo "PostgreSQL for tests: $ESOCORE_TEST_POSTGRES_URL"
fi

echo "== tests (sanitizers: address, undefined) =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$asan_build" --output-on-failure -j"$jobs" -LE slow

echo "== tests =="
ctest --test-dir "$build" --output-on-failure -j"$jobs"
