#include "ingest_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <string>

namespace esocore::bench {

namespace {

// Rates computed from the figures, shared by the human lines and the RESULT line.
struct Rates {
    double ingest_points_per_s = 0.0;
    double raw_rows_per_s = 0.0;
    double ratio = 0.0;
    double batches_per_s = 0.0;
    double p50_ms = 0.0;
    double p99_ms = 0.0;
};

double perSecond(double count, double seconds) {
    return seconds > 0.0 ? count / seconds : 0.0;
}

// Fewer digits than a double carries: the machines are noisy and the line should stay readable.
double rounded(double value, int decimals) {
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

// A string as a JSON literal, quotes and escapes included.
std::string jsonString(std::string_view text) {
    return boost::json::serialize(boost::json::value(text));
}

// The raw figure is an append on SQLite and a COPY on PostgreSQL; the label says which.
std::string_view rawLabel(const RunShape& shape) {
    return shape.store == "postgresql" ? "raw COPY" : "raw append";
}

void printRawLines(const RunShape& shape, const RawAppendResult& raw) {
    fmt::print("  {:<16}{:>10.0f} rows/s    ({:.2f} s)\n", rawLabel(shape), raw.rowsPerSecond(),
               raw.seconds);
    fmt::print("  raw method      {}\n", raw.method);
}

Rates computeRates(const IngestFigures& figures) {
    const DriveResult& drive = figures.drive;
    Rates rates;
    rates.ingest_points_per_s =
        perSecond(static_cast<double>(drive.points_accepted), drive.wall_seconds);
    rates.raw_rows_per_s = figures.raw.rowsPerSecond();
    rates.ratio =
        rates.raw_rows_per_s > 0.0 ? rates.ingest_points_per_s / rates.raw_rows_per_s : 0.0;
    rates.batches_per_s = perSecond(static_cast<double>(drive.batches_ok), drive.wall_seconds);
    rates.p50_ms = percentile(drive.latencies_ms, 0.50);
    rates.p99_ms = percentile(drive.latencies_ms, 0.99);
    return rates;
}

void printHumanLines(const IngestFigures& figures, const Rates& rates) {
    const RunShape& shape = figures.shape;
    const DriveResult& drive = figures.drive;
    fmt::print("ingest ({}): {} points in {} batches of {}, {} devices, {} connections\n",
               shape.store, shape.points, shape.batches, shape.batch_size, shape.devices,
               shape.connections);
    fmt::print("  end-to-end      {:>10.0f} points/s  ({:.2f} s, {:.1f} batches/s)\n",
               rates.ingest_points_per_s, drive.wall_seconds, rates.batches_per_s);
    fmt::print("  batch latency   p50 {:.1f} ms, p99 {:.1f} ms\n", rates.p50_ms, rates.p99_ms);
    printRawLines(shape, figures.raw);
    fmt::print("  ratio           {:>10.4f} (end-to-end / raw)\n", rates.ratio);
    if (figures.server_peak_kib) {
        fmt::print("  server memory   VmHWM {:.1f} MiB\n", *figures.server_peak_kib / 1024.0);
    }
    fmt::print("  client cpu      {:.2f} s ({:.0f}% of one core)\n", drive.client_cpu_seconds,
               100.0 * perSecond(drive.client_cpu_seconds, drive.wall_seconds));
    fmt::print("  server stop     {}\n", figures.server_stop.description);
    fmt::print("  batches         {} ok, {} failed, {} unsent; {} throttle waits, {} reconnects\n",
               drive.batches_ok, drive.batches_failed, drive.batches_unsent, drive.throttle_waits,
               drive.reconnects);
    for (const std::string& note : drive.failure_notes) {
        fmt::print("  failure         {}\n", note);
    }
}

void printResultLine(const IngestFigures& figures, const Rates& rates) {
    const RunShape& shape = figures.shape;
    const DriveResult& drive = figures.drive;
    const std::string peak =
        figures.server_peak_kib ? std::to_string(*figures.server_peak_kib) : "null";
    fmt::print(R"(RESULT {{"store":{},"ingest_points_per_s":{},"raw_rows_per_s":{},"ratio":{},)"
               R"("batches_per_s":{},)"
               R"("batch_p50_ms":{},"batch_p99_ms":{},"server_vmhwm_kib":{},"ingest_seconds":{},)"
               R"("raw_seconds":{},"points":{},"points_accepted":{},"batches":{},"batches_ok":{},)"
               R"("batches_failed":{},"batches_unsent":{},"batch_size":{},"devices":{},)"
               R"("connections":{},"throttle_waits":{},"reconnects":{},"client_cpu_s":{},)"
               R"("server_exit_clean":{},"raw_method":{}}})"
               "\n",
               jsonString(shape.store), rounded(rates.ingest_points_per_s, 0),
               rounded(rates.raw_rows_per_s, 0), rounded(rates.ratio, 4),
               rounded(rates.batches_per_s, 1), rounded(rates.p50_ms, 2), rounded(rates.p99_ms, 2),
               peak, rounded(drive.wall_seconds, 3), rounded(figures.raw.seconds, 3), shape.points,
               drive.points_accepted, shape.batches, drive.batches_ok, drive.batches_failed,
               drive.batches_unsent, shape.batch_size, shape.devices, shape.connections,
               drive.throttle_waits, drive.reconnects, rounded(drive.client_cpu_seconds, 3),
               figures.server_stop.clean, jsonString(figures.raw.method));
}

}  // namespace

double percentile(std::vector<double> samples, double fraction) {
    if (samples.empty()) {
        return 0.0;
    }
    const auto rank = static_cast<std::size_t>(std::ceil(fraction * samples.size()));
    const std::size_t index = std::clamp<std::size_t>(rank, 1, samples.size()) - 1;
    std::nth_element(samples.begin(), samples.begin() + index, samples.end());
    return samples[index];
}

void printIngestReport(const IngestFigures& figures) {
    const Rates rates = computeRates(figures);
    printHumanLines(figures, rates);
    printResultLine(figures, rates);
}

void printRawReport(const RunShape& shape, const RawAppendResult& raw) {
    fmt::print("{} ({}): {} rows ({} devices x {} series)\n", rawLabel(shape), shape.store,
               raw.rows, shape.devices, kBenchSeries.size());
    printRawLines(shape, raw);
    fmt::print(
        R"(RESULT {{"store":{},"raw_rows_per_s":{},"raw_seconds":{},"points":{},"devices":{},)"
        R"("raw_method":{}}})"
        "\n",
        jsonString(shape.store), rounded(raw.rowsPerSecond(), 0), rounded(raw.seconds, 3), raw.rows,
        shape.devices, jsonString(raw.method));
}

bool runSucceeded(const IngestFigures& figures) {
    return figures.drive.allDelivered() && figures.drive.points_accepted == figures.shape.points &&
           figures.server_stop.clean;
}

}  // namespace esocore::bench
