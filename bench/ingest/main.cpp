// bench-ingest: end-to-end ingest rate of the esocore server against the raw append rate of a
// bare table in the same store, measured in one run (DESIGN.md section 11). On SQLite the raw
// rate is a plain INSERT loop on the same disk; on PostgreSQL it is COPY on the same server.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "batch_builder.h"
#include "esocore_server.h"
#include "ingest_driver.h"
#include "ingest_report.h"
#include "point_plan.h"
#include "postgres_database.h"
#include "raw_append.h"
#include "raw_copy.h"
#include "work_dir.h"

namespace esocore::bench {

namespace {

using Clock = std::chrono::steady_clock;

struct IngestOptions {
    std::string store = "sqlite";  // or "postgresql"
    std::string postgres_url;
    std::uint64_t points = 2'000'000;
    std::uint32_t connections = 8;
    std::uint32_t devices = 64;
    std::uint32_t batch_size = 1000;
    std::uint32_t timeout_s = 900;
    std::filesystem::path esocore;
    bool keep = false;
    bool raw_only = false;
};

void addOptions(CLI::App& app, IngestOptions& options) {
    app.add_option("--store", options.store, "The store the server runs on")
        ->check(CLI::IsMember({"sqlite", "postgresql"}));
    app.add_option("--postgres-url", options.postgres_url,
                   "Maintenance URL of a PostgreSQL server (--store postgresql); the run creates "
                   "a fresh database there and drops it afterwards");
    app.add_option("--points", options.points, "Points to upload in total")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
    app.add_option("--connections", options.connections, "Concurrent keep-alive connections")
        ->check(CLI::Range(1, 1024));
    // Enough devices that the per-device rate limit (20 batches/s each) never paces the run.
    app.add_option("--devices", options.devices, "Devices to provision and upload as")
        ->check(CLI::Range(1, 100'000));
    app.add_option("--batch-size", options.batch_size, "Point records per batch")
        ->check(CLI::Range(1, 10'000));
    app.add_option("--timeout", options.timeout_s,
                   "Seconds after which no new batch is started; unsent batches fail the run")
        ->check(CLI::Range(1, 86'400));
    app.add_option("--esocore", options.esocore,
                   "The esocore binary (default: esocore next to bench-ingest)");
    app.add_flag("--keep", options.keep, "Keep the temporary directory and its databases");
    app.add_flag("--raw-only", options.raw_only,
                 "Measure only the raw append (SQLite) or COPY (PostgreSQL) rate; no server is "
                 "started");
    app.footer(
        "The server runs on 127.0.0.1 with a fresh database: SQLite in a temporary directory, or "
        "a new database on the --postgres-url server. ESOCORE_* variables of the calling "
        "environment are not passed on.");
}

std::filesystem::path defaultEsocorePath() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path{"esocore"} : self.parent_path() / "esocore";
}

std::int64_t nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

double secondsSince(Clock::time_point started) {
    return std::chrono::duration<double>(Clock::now() - started).count();
}

void progress(std::string_view message) {
    fmt::print(stderr, "bench-ingest: {}\n", message);
}

// The raw rate on the same store the server will use: same disk, or same PostgreSQL server.
RawAppendResult measureRaw(const PointPlan& plan, const WorkDir& work_dir,
                           const BenchDatabase* database) {
    if (database != nullptr) {
        progress(fmt::format("copying {} rows into a bare PostgreSQL table in {}",
                             plan.totalPoints(), database->name()));
        return measureRawCopy(plan, database->url());
    }
    progress(fmt::format("appending {} rows to a bare SQLite table", plan.totalPoints()));
    return measureRawAppend(plan, work_dir.path() / "raw.db");
}

// Upload phase: server up, devices provisioned, batches sent, memory read, server stopped.
IngestFigures runAgainstServer(const IngestOptions& options, const ServerSetup& setup,
                               const std::vector<PreparedBatch>& batches) {
    progress(fmt::format("starting {} on a fresh {} database", setup.esocore.string(),
                         setup.database_url.empty() ? "SQLite" : "PostgreSQL"));
    EsocoreServer server = EsocoreServer::start(setup);
    progress(fmt::format("server listens on 127.0.0.1:{}; provisioning {} devices", server.port(),
                         options.devices));
    const auto devices = provisionDevices(setup, options.devices);

    progress(fmt::format("uploading over {} connections", options.connections));
    IngestFigures figures;
    figures.drive =
        driveIngest(batches, devices,
                    DriveSettings{.port = server.port(),
                                  .connections = options.connections,
                                  .run_timeout = std::chrono::seconds{options.timeout_s}});
    // Read before SIGTERM: the figure disappears with the process.
    figures.server_peak_kib = server.peakResidentKib();
    figures.server_stop = server.stop();
    return figures;
}

std::filesystem::path esocoreBinary(const IngestOptions& options) {
    const auto esocore = options.esocore.empty() ? defaultEsocorePath() : options.esocore;
    if (!std::filesystem::exists(esocore)) {
        throw std::runtime_error(fmt::format(
            "no esocore binary at {} (build the server or pass --esocore)", esocore.string()));
    }
    return esocore;
}

// Null on SQLite, whose database lives in the work directory.
std::unique_ptr<BenchDatabase> createDatabase(const IngestOptions& options) {
    if (options.store != "postgresql") {
        return nullptr;
    }
    if (options.postgres_url.empty()) {
        throw std::runtime_error("--store postgresql needs --postgres-url");
    }
    auto database = std::make_unique<BenchDatabase>(options.postgres_url, options.keep);
    progress(fmt::format("created database {}", database->name()));
    return database;
}

int runBenchmark(const IngestOptions& options) {
    const PointPlan plan{options.points, options.devices, options.batch_size, nowMs()};
    const RunShape shape{.store = options.store,
                         .points = plan.totalPoints(),
                         .batches = plan.batchCount(),
                         .batch_size = plan.batchSize(),
                         .devices = plan.devices(),
                         .connections = options.connections};
    WorkDir work_dir{options.keep};
    const std::unique_ptr<BenchDatabase> database = createDatabase(options);
    if (options.raw_only) {
        printRawReport(shape, measureRaw(plan, work_dir, database.get()));
        return 0;
    }

    const ServerSetup setup{.esocore = esocoreBinary(options),
                            .work_dir = work_dir.path(),
                            .database_url = database ? database->url() : std::string{}};
    const auto started = Clock::now();
    const auto batches = prepareBatches(plan);
    progress(
        fmt::format("prepared {} gzip batches in {:.1f} s", batches.size(), secondsSince(started)));
    const RawAppendResult raw = measureRaw(plan, work_dir, database.get());

    IngestFigures figures = runAgainstServer(options, setup, batches);
    figures.shape = shape;
    figures.raw = raw;
    printIngestReport(figures);
    return runSucceeded(figures) ? 0 : 1;
}

}  // namespace

}  // namespace esocore::bench

int main(int argc, char** argv) {
    esocore::bench::IngestOptions options;
    CLI::App app{"Measures end-to-end ingest against raw appends to the same store, in one run."};
    esocore::bench::addOptions(app, options);
    CLI11_PARSE(app, argc, argv);
    try {
        return esocore::bench::runBenchmark(options);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench-ingest: {}\n", e.what());
        return 1;
    }
}
