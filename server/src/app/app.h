#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/config.h"
#include "http/router.h"
#include "store/store.h"

namespace esocore {

namespace api {
class AuthApi;
struct ApiContext;
class DeviceApi;
class LiveApi;
}  // namespace api
namespace http {
class Server;
}
namespace ingest {
class IngestQueue;
}
namespace live {
class Bus;
class OfflineWatch;
}  // namespace live
namespace ota {
class FirmwareService;
}
class JobRunner;

/// The credentials made for the first sign-in on an empty database.
struct FirstRunCredentials {
    std::string email;
    std::string password;
    std::string file;
};

/// The whole server: store, ingest, device API, portal files and background jobs.
class App {
public:
    /// Opens the store and builds everything; throws on configuration or store errors.
    explicit App(Config config);
    ~App();

    /// Applies pending migrations; creates the default organization.
    void migrate();

    /// On a database without users, creates the first administrator.
    std::optional<FirstRunCredentials> ensureFirstUser();

    /// Binds the listening socket; returns the port.
    unsigned short bind();

    /// Serves until stop() or a signal; stops accepting, drains requests, commits the
    /// queued batches, then returns.
    void run(bool handle_signals);
    void stop();

    const Config& config() const { return config_; }
    store::Store& store() { return *store_; }
    ota::FirmwareService& firmware() { return *firmware_; }
    /// Where live updates are published (the /ws subscriptions listen here).
    live::Bus& bus() { return *bus_; }
    const http::Router& router() const { return router_; }

private:
    Config config_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<live::Bus> bus_;  // before everything that publishes
    std::unique_ptr<live::OfflineWatch> offline_watch_;
    std::unique_ptr<ingest::IngestQueue> queue_;
    std::unique_ptr<ota::FirmwareService> firmware_;
    std::unique_ptr<api::DeviceApi> device_api_;
    std::unique_ptr<api::AuthApi> auth_api_;
    std::unique_ptr<api::ApiContext> api_context_;
    std::unique_ptr<api::LiveApi> live_api_;
    http::Router router_;
    std::unique_ptr<http::Server> server_;
    std::unique_ptr<JobRunner> jobs_;
};

}  // namespace esocore
