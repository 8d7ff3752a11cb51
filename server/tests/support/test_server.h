#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "app/app.h"
#include "support/http_client.h"

namespace esocore::testing {

/// A device registered directly in the store, with its key.
struct TestDevice {
    std::string id;
    std::string serial;
    std::string key;
    std::string organization_id;
};

/// Which store a test runs against: "sqlite", or "postgresql" when ESOCORE_TEST_POSTGRES_URL
/// names a server to use.
std::vector<std::string> storeKinds();

/// A fresh, empty database URL of the given kind (a new SQLite file, or a new PostgreSQL
/// schema-isolated database).
std::string freshDatabaseUrl(const std::string& kind, const std::filesystem::path& dir);

/// A real server on 127.0.0.1 and a free port, with its own store and data directory,
/// serving on background threads until destroyed.
class TestServer {
public:
    explicit TestServer(const std::string& store_kind = "sqlite",
                        std::function<void(Config&)> adjust = {});
    ~TestServer();

    std::string baseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }
    HttpClient client() const { return HttpClient(baseUrl()); }
    App& app() { return *app_; }
    store::Store& store() { return app_->store(); }
    const std::filesystem::path& dataDir() const { return dir_; }

    TestDevice createDevice(const std::string& status = "active",
                            const std::string& overrides_json = "{}");

    /// Stops the server gracefully and waits for it.
    void stop();

private:
    std::filesystem::path dir_;
    std::unique_ptr<App> app_;
    std::thread thread_;
    unsigned short port_ = 0;
    bool stopped_ = false;
};

/// A scratch directory removed on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace esocore::testing
