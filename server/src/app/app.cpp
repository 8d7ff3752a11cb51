#include "app/app.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "accounts/sessions.h"
#include "api/auth_api.h"
#include "api/device_api.h"
#include "api/live_api.h"
#include "api/management_routes.h"
#include "api/ops_api.h"
#include "app/jobs.h"
#include "core/crypto.h"
#include "core/log.h"
#include "http/server.h"
#include "http/static_files.h"
#include "ingest/ingest_queue.h"
#include "live/bus.h"
#include "live/presence.h"
#include "live/publish.h"
#include "ota/firmware.h"

namespace esocore {

namespace {

constexpr std::size_t kMaxGroupRecords = 200'000;

// Runs `work` only on the instance that claims the job for this period, so that any number
// of servers on one database do it once.
// A frequent job (`quiet`) logs a run only when it did something.
std::function<void()> claimed(store::Store& store, std::string name, std::chrono::seconds every,
                              std::function<Result<std::string>()> work, bool quiet = false) {
    return [&store, name = std::move(name), every, work = std::move(work), quiet] {
        Micros now = nowMicros();
        auto claim = store.claimJob(name, now, Micros{every.count()} * 1'000'000);
        if (!claim) {
            log::warn("job claim failed", {{"job", name}, {"error", claim.error().message}});
            return;
        }
        if (!*claim) {
            return;
        }
        auto done = work();
        if (!done) {
            log::warn("job failed", {{"job", name}, {"error", done.error().message}});
        } else if (!quiet || !done->empty()) {
            log::info("job ran", {{"job", name}, {"result", *done}});
        }
    };
}

// Publishes device.offline for the devices whose silence passed their offline timeout.
Result<std::string> checkOffline(live::OfflineWatch& watch) {
    auto offline = watch.check(nowMicros());
    if (!offline) {
        return offline.takeError();
    }
    return *offline > 0 ? std::to_string(*offline) + " devices went offline" : std::string();
}

std::vector<JobRunner::Job> housekeeping(store::Store& store, const Config& config,
                                         live::OfflineWatch& offline_watch) {
    using std::chrono::hours;
    Micros keep_packets = Micros{config.idempotency_days} * 86'400'000'000LL;
    Micros keep_telemetry = Micros{config.telemetry_retention_days} * 86'400'000'000LL;
    std::vector<JobRunner::Job> jobs;
    jobs.push_back({"purge_packets", hours(1),
                    claimed(store, "purge_packets", hours(1), [&store, keep_packets] {
                        auto removed = store.purgePackets(nowMicros() - keep_packets);
                        if (!removed) {
                            return Result<std::string>(removed.takeError());
                        }
                        return Result<std::string>(
                            *removed > 0 ? std::to_string(*removed) + " packets removed" : "");
                    })});
    jobs.push_back(
        {"maintain_partitions", hours(6), claimed(store, "maintain_partitions", hours(6), [&store] {
             auto ok = store.maintainPartitions(nowMicros());
             return ok ? Result<std::string>(std::string()) : Result<std::string>(ok.takeError());
         })});
    jobs.push_back(
        {"purge_sign_ins", hours(1), claimed(store, "purge_sign_ins", hours(1), [&store] {
             auto removed = accounts::purgeExpiredSignIns(store.sql(), nowMicros());
             if (!removed) {
                 return Result<std::string>(removed.takeError());
             }
             return Result<std::string>(*removed > 0 ? std::to_string(*removed) + " rows removed"
                                                     : "");
         })});
    std::chrono::seconds offline_every(std::max(1, config.offline_check_seconds));
    jobs.push_back({"offline_check", offline_every,
                    claimed(
                        store, "offline_check", offline_every,
                        [&offline_watch] { return checkOffline(offline_watch); }, true)});
    if (keep_telemetry > 0) {
        jobs.push_back({"telemetry_retention", hours(6),
                        claimed(store, "telemetry_retention", hours(6), [&store, keep_telemetry] {
                            auto ok = store.dropTelemetryBefore(nowMicros() - keep_telemetry);
                            return ok ? Result<std::string>(std::string())
                                      : Result<std::string>(ok.takeError());
                        })});
    }
    return jobs;
}

}  // namespace

App::App(Config config) : config_(std::move(config)) {
    std::filesystem::create_directories(config_.data_dir);
    ensureSecretKey(config_);
    store_ = store::openStore(config_);
    bus_ = std::make_unique<live::InProcessBus>();
    offline_watch_ = std::make_unique<live::OfflineWatch>(config_, *store_, *bus_);
    queue_ = std::make_unique<ingest::IngestQueue>(
        *store_, static_cast<std::size_t>(config_.ingest_queue_limit), kMaxGroupRecords);
    queue_->onCommitted([bus = bus_.get(), store = store_.get()](
                            const store::IngestBatch& batch, const store::IngestCounts& counts) {
        live::publishBatch(*bus, store->sql(), batch, counts);
    });
    firmware_ =
        std::make_unique<ota::FirmwareService>(*store_, config_.data_dir, config_.secret_key);
    device_api_ = std::make_unique<api::DeviceApi>(config_, *store_, *queue_, *firmware_, *bus_);
    device_api_->addRoutes(router_);
    auth_api_ = std::make_unique<api::AuthApi>(config_, *store_);
    auth_api_->addRoutes(router_);
    api_context_ = std::make_unique<api::ApiContext>(
        api::ApiContext{config_, *store_, store_->sql(), auth_api_->authenticator(), *bus_});
    api::addManagementRoutes(router_, *api_context_);
    live_api_ = std::make_unique<api::LiveApi>(*api_context_, *bus_);
    live_api_->addRoutes(router_);
    api::addOpsRoutes(router_, *store_, *queue_);
    router_.setFallback(http::staticFiles(config_.portal_dir));
}

App::~App() {
    if (jobs_) {
        jobs_->stop();
    }
    queue_->stop();
}

void App::migrate() {
    auto state = store_->migrate();
    if (!state) {
        throw std::runtime_error("migration failed: " + state.error().message);
    }
    auto org = store_->ensureDefaultOrganization();
    if (!org) {
        throw std::runtime_error("cannot create the default organization: " + org.error().message);
    }
}

std::optional<FirstRunCredentials> App::ensureFirstUser() {
    auto users = store_->countUsers();
    if (!users) {
        throw std::runtime_error(users.error().message);
    }
    if (*users > 0) {
        return std::nullopt;
    }
    FirstRunCredentials credentials{"admin@esocore.local", randomToken(12), {}};
    store::User user{
        newUuid(), credentials.email, "Administrator", hashPassword(credentials.password), true,
        "UTC",     nowMicros()};
    auto created = store_->createUser(user);
    if (!created && created.error().code == "email_taken") {
        return std::nullopt;  // another instance on the same database made it first
    }
    auto org = store_->ensureDefaultOrganization();
    if (!created || !org) {
        throw std::runtime_error("cannot create the first user: " +
                                 (created ? org.error().message : created.error().message));
    }
    if (auto ok = store_->addMembership(user.id, org->id, "owner"); !ok) {
        throw std::runtime_error(ok.error().message);
    }
    std::filesystem::path file =
        std::filesystem::path(config_.data_dir) / "first-run-credentials.txt";
    std::ofstream out(file);
    out << "email: " << credentials.email << "\npassword: " << credentials.password << "\n";
    std::filesystem::permissions(
        file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    credentials.file = file.string();
    return credentials;
}

unsigned short App::bind() {
    http::ServerOptions options;
    options.listen = config_.listen;
    options.threads = config_.threads;
    server_ = std::make_unique<http::Server>(options, router_);
    return server_->bind();
}

void App::run(bool handle_signals) {
    if (!server_) {
        bind();
    }
    jobs_ = std::make_unique<JobRunner>(housekeeping(*store_, config_, *offline_watch_));
    server_->run(handle_signals);
    // Every request in flight has been answered, so every batch it queued is committed;
    // stop() commits anything still waiting before it returns.
    queue_->stop();
    jobs_->stop();
    log::info("stopped");
}

void App::stop() {
    if (server_) {
        server_->stop();
    }
}

}  // namespace esocore
