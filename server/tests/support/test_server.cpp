#include "support/test_server.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <boost/url.hpp>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>

#include "auth/device_keys.h"
#include "core/crypto.h"
#include "core/log.h"

namespace esocore::testing {

namespace fs = std::filesystem;

namespace {

fs::path makeTempDir() {
    std::string pattern = (fs::temp_directory_path() / "esocore-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    return pattern;
}

// The PostgreSQL server for tests, from ESOCORE_TEST_POSTGRES_URL: a URL whose database
// (e.g. `postgres`) is only used to create and drop the tests' own databases.
std::string maintenanceUrl() {
    const char* url = std::getenv("ESOCORE_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') {
        throw std::runtime_error("ESOCORE_TEST_POSTGRES_URL is not set");
    }
    return url;
}

void runOnMaintenanceDatabase(const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(maintenanceUrl().c_str()),
                                                      &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        throw std::runtime_error(std::string("test PostgreSQL: ") + PQerrorMessage(conn.get()));
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        throw std::runtime_error(sql + ": " + PQresultErrorMessage(result.get()));
    }
}

// One new database per test on the test server, all dropped when the test binary exits.
class TestDatabases {
public:
    static TestDatabases& instance() {
        static TestDatabases databases;
        return databases;
    }

    ~TestDatabases() {
        for (const auto& name : names_) {
            try {
                runOnMaintenanceDatabase("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            } catch (const std::exception&) {
                // The throwaway server may already be gone; it takes the database with it.
            }
        }
    }

    std::string create() {
        std::string name;
        {
            std::lock_guard lock(mutex_);
            name = "esocore_test_" + std::to_string(getpid()) + "_" + std::to_string(random_()) +
                   "_" + std::to_string(names_.size());
            names_.push_back(name);
        }
        runOnMaintenanceDatabase("CREATE DATABASE " + name);
        boost::urls::url url(maintenanceUrl());
        url.set_path("/" + name);
        return std::string(url.buffer());
    }

private:
    std::mutex mutex_;
    std::vector<std::string> names_;
    std::mt19937 random_{std::random_device{}()};
};

}  // namespace

TempDir::TempDir() : path_(makeTempDir()) {}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::vector<std::string> storeKinds() {
    std::vector<std::string> kinds{"sqlite"};
    if (const char* url = std::getenv("ESOCORE_TEST_POSTGRES_URL"); url != nullptr && *url) {
        kinds.push_back("postgresql");
    }
    return kinds;
}

std::string freshDatabaseUrl(const std::string& kind, const fs::path& dir) {
    if (kind == "sqlite") {
        return "sqlite:" + (dir / "esocore.db").string();
    }
    if (kind == "postgresql") {
        return TestDatabases::instance().create();
    }
    throw std::runtime_error("unknown store kind " + kind);
}

TestServer::TestServer(const std::string& store_kind, std::function<void(Config&)> adjust)
    : dir_(makeTempDir()) {
    static const bool crypto_ready = [] {
        initCrypto();
        log::setup(std::getenv("ESOCORE_TEST_LOG") ? std::getenv("ESOCORE_TEST_LOG") : "off");
        return true;
    }();
    (void)crypto_ready;
    Config config;
    config.database_url = freshDatabaseUrl(store_kind, dir_);
    config.data_dir = dir_.string();
    config.listen = "127.0.0.1:0";
    config.threads = 2;
    config.secret_key = "test-secret";
    if (adjust) {
        adjust(config);
    }
    app_ = std::make_unique<App>(config);
    app_->migrate();
    port_ = app_->bind();
    thread_ = std::thread([this] { app_->run(false); });
}

TestServer::~TestServer() {
    stop();
    app_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

void TestServer::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    app_->stop();
    if (thread_.joinable()) {
        thread_.join();
    }
}

TestDevice TestServer::createDevice(const std::string& status, const std::string& overrides) {
    auto org = store().ensureDefaultOrganization();
    if (!org) {
        throw std::runtime_error(org.error().message);
    }
    store::Device device;
    device.id = newUuid();
    device.serial = "TEST-" + sha256Hex(device.id).substr(0, 10);
    device.model = "esocore-edge";
    device.status = status;
    device.asset_id = "DOOR_7";
    device.organization_id = status == "unclaimed" ? "" : org->id;
    device.config_overrides_json = overrides;
    device.created_at = device.updated_at = nowMicros();
    auto key = auth::issueDeviceKey(device.id);
    if (auto ok = store().createDevice(device, key.stored); !ok) {
        throw std::runtime_error(ok.error().message);
    }
    return TestDevice{device.id, device.serial, key.secret, device.organization_id};
}

}  // namespace esocore::testing
