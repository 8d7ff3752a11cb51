// bench-live: time from a batch's 2xx to the WebSocket message it causes, with 1,000
// subscribed clients, and the server's resident memory with 10,000 devices registered and
// those clients connected (DESIGN.md section 11). Loopback only; every loop is bounded.

#include <fmt/format.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "esocore_server.h"
#include "latency_report.h"
#include "paced_uploads.h"
#include "postgres_database.h"
#include "server_metrics.h"
#include "sign_in.h"
#include "socket_fleet.h"
#include "work_dir.h"

namespace esocore::bench {

namespace {

struct LiveOptions {
    std::string store = "sqlite";
    std::string postgres_url;
    std::uint32_t clients = 1000;
    std::uint32_t devices = 10'000;
    std::uint32_t uploading = 100;
    std::uint32_t interval_ms = 1000;
    std::uint32_t series = 5;
    std::uint32_t points = 10;
    std::uint32_t duration_s = 30;
    std::filesystem::path esocore;
    bool keep = false;
};

void addOptions(CLI::App& app, LiveOptions& options) {
    app.add_option("--store", options.store, "The store the server runs on")
        ->check(CLI::IsMember({"sqlite", "postgresql"}));
    app.add_option("--postgres-url", options.postgres_url,
                   "Maintenance URL of a PostgreSQL server (--store postgresql)");
    app.add_option("--clients", options.clients, "WebSocket clients")->check(CLI::Range(1, 20'000));
    app.add_option("--devices", options.devices, "Devices registered")
        ->check(CLI::Range(1, 100'000));
    app.add_option("--uploading", options.uploading,
                   "Devices that upload; client i watches the telemetry of device i % uploading")
        ->check(CLI::Range(1, 10'000));
    app.add_option("--interval-ms", options.interval_ms, "Between two batches of one device")
        ->check(CLI::Range(50, 60'000));
    app.add_option("--series", options.series, "Series per batch")->check(CLI::Range(1, 100));
    app.add_option("--points", options.points, "Points per series and batch")
        ->check(CLI::Range(1, 1000));
    app.add_option("--duration", options.duration_s, "Seconds of uploading")
        ->check(CLI::Range(1, 3600));
    app.add_option("--esocore", options.esocore,
                   "The esocore binary (default: esocore next to bench-live)");
    app.add_flag("--keep", options.keep, "Keep the temporary directory and database");
}

void progress(std::string_view message) {
    fmt::print(stderr, "bench-live: {}\n", message);
}

// Both ends of 1,000 connections live on this machine: the clients here, the server in the
// child, which inherits the limit.
void raiseDescriptorLimit(std::uint32_t clients) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return;
    }
    rlim_t wanted = std::min<rlim_t>(limit.rlim_max, 2 * clients + 1024);
    if (limit.rlim_cur < wanted) {
        limit.rlim_cur = wanted;
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            progress("cannot raise the open-file limit; many clients may fail to connect");
        }
    }
}

std::filesystem::path esocoreBinary(const LiveOptions& options) {
    std::filesystem::path esocore = options.esocore;
    if (esocore.empty()) {
        std::error_code ec;
        auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
        esocore = ec ? std::filesystem::path("esocore") : self.parent_path() / "esocore";
    }
    if (!std::filesystem::exists(esocore)) {
        throw std::runtime_error("no esocore binary at " + esocore.string());
    }
    return esocore;
}

double secondsSince(Clock::time_point started) {
    return std::chrono::duration<double>(Clock::now() - started).count();
}

LiveFigures runAgainstServer(const LiveOptions& options, const ServerSetup& setup) {
    EsocoreServer server = EsocoreServer::start(setup);
    progress(fmt::format("server on 127.0.0.1:{}; registering {} devices", server.port(),
                         options.devices));
    auto devices = provisionDevices(setup, options.devices);
    devices.resize(std::min<std::size_t>(devices.size(), options.uploading));
    std::string token = signInAsAdministrator(setup, server.port());

    LiveFigures figures;
    std::vector<std::string> ids;
    for (const auto& device : devices) {
        ids.push_back(device.id);
    }
    progress(fmt::format("connecting {} WebSocket clients", options.clients));
    auto started = Clock::now();
    SocketFleet fleet(
        FleetSettings{.port = server.port(), .access_token = token, .clients = options.clients},
        ids);
    fleet.connect();
    figures.connect_seconds = secondsSince(started);
    figures.rss_connected_kib = server.residentKib();

    progress(fmt::format("{} devices uploading for {} s", devices.size(), options.duration_s));
    UploadResult uploads =
        runUploads(UploadSettings{.port = server.port(),
                                  .devices = devices,
                                  .interval = std::chrono::milliseconds(options.interval_ms),
                                  .series = options.series,
                                  .points_per_series = options.points,
                                  .duration = std::chrono::seconds(options.duration_s)});
    // Messages of the last batches still on their way.
    std::this_thread::sleep_for(std::chrono::seconds(2));
    fleet.stop();
    figures.rss_end_kib = server.residentKib();
    figures.send_wait = readSendWait(server.port());
    figures.hwm_kib = server.peakResidentKib();
    figures.batches_ok = uploads.batches_ok;
    figures.batches_failed = uploads.batches_failed;
    figures.failure_notes = uploads.failure_notes;
    figures.lost_connections = fleet.lost();
    measureLatency(uploads, fleet, options.series, figures);
    ServerStop stop = server.stop();
    if (!stop.clean) {
        progress("the server did not stop cleanly: " + stop.description);
    }
    return figures;
}

int runBenchmark(const LiveOptions& options) {
    raiseDescriptorLimit(options.clients);
    WorkDir work_dir{options.keep};
    std::unique_ptr<BenchDatabase> database;
    if (options.store == "postgresql") {
        if (options.postgres_url.empty()) {
            throw std::runtime_error("--store postgresql needs --postgres-url");
        }
        database = std::make_unique<BenchDatabase>(options.postgres_url, options.keep);
    }
    const ServerSetup setup{.esocore = esocoreBinary(options),
                            .work_dir = work_dir.path(),
                            .database_url = database ? database->url() : std::string{}};
    LiveFigures figures = runAgainstServer(options, setup);
    figures.shape = RunShape{.store = options.store,
                             .clients = options.clients,
                             .registered_devices = options.devices,
                             .uploading_devices = std::min(options.uploading, options.devices),
                             .series = options.series,
                             .points_per_series = options.points,
                             .interval_ms = options.interval_ms,
                             .duration_s = options.duration_s};
    printLiveReport(figures);
    bool complete = figures.batches_failed == 0 && figures.received == figures.expected &&
                    figures.lost_connections == 0;
    return complete ? 0 : 1;
}

}  // namespace

}  // namespace esocore::bench

int main(int argc, char** argv) {
    esocore::bench::LiveOptions options;
    CLI::App app{"Measures live-update latency and server memory with many WebSocket clients."};
    esocore::bench::addOptions(app, options);
    CLI11_PARSE(app, argc, argv);
    try {
        return esocore::bench::runBenchmark(options);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench-live: {}\n", e.what());
        return 1;
    }
}
