#include "latency_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

namespace esocore::bench {

namespace {

double percentile(const std::vector<double>& sorted, double fraction) {
    if (sorted.empty()) {
        return 0;
    }
    auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

boost::json::value kibOrNull(const std::optional<std::uint64_t>& kib) {
    return kib ? boost::json::value(*kib) : boost::json::value(nullptr);
}

// "99.2% within 10 ms, 99.9% within 100 ms" of the server's send queue waits.
std::string sendWaitLine(const SendWait& wait) {
    std::string line;
    for (double bound : {0.01, 0.1}) {
        auto found = wait.at_most.find(bound);
        if (found == wait.at_most.end() || wait.count == 0) {
            continue;
        }
        double share = 100.0 * static_cast<double>(found->second) / static_cast<double>(wait.count);
        line += fmt::format("{}{:.2f}% within {:.0f} ms", line.empty() ? "" : ", ", share,
                            bound * 1000);
    }
    return line;
}

std::string mib(const std::optional<std::uint64_t>& kib) {
    return kib ? fmt::format("{:.1f} MiB", static_cast<double>(*kib) / 1024.0) : "-";
}

}  // namespace

void measureLatency(const UploadResult& uploads, const SocketFleet& fleet, std::uint32_t series,
                    LiveFigures& figures) {
    for (std::uint32_t d = 0; d < uploads.acked.size(); ++d) {
        auto acked = std::count_if(uploads.acked[d].begin(), uploads.acked[d].end(),
                                   [](const auto& at) { return at.has_value(); });
        figures.expected += static_cast<std::size_t>(acked) * series * fleet.subscribersOf(d);
    }
    std::vector<double> latencies;
    latencies.reserve(fleet.receipts().size());
    for (const Receipt& receipt : fleet.receipts()) {
        if (receipt.device >= uploads.acked.size() ||
            receipt.batch >= uploads.acked[receipt.device].size()) {
            continue;
        }
        const auto& acked = uploads.acked[receipt.device][receipt.batch];
        if (!acked) {
            continue;
        }
        double ms = std::chrono::duration<double, std::milli>(receipt.at - *acked).count();
        if (ms < 0) {
            ++figures.before_answer;
            ms = 0;
        }
        latencies.push_back(ms);
    }
    std::sort(latencies.begin(), latencies.end());
    figures.received = latencies.size();
    figures.p50_ms = percentile(latencies, 0.50);
    figures.p99_ms = percentile(latencies, 0.99);
    figures.max_ms = latencies.empty() ? 0 : latencies.back();
}

void printLiveReport(const LiveFigures& f) {
    const RunShape& s = f.shape;
    fmt::print("bench-live ({})\n", s.store);
    fmt::print(
        "  {} WebSocket clients, {} devices registered, {} uploading a batch every {} ms "
        "({} series x {} points) for {} s\n",
        s.clients, s.registered_devices, s.uploading_devices, s.interval_ms, s.series,
        s.points_per_series, s.duration_s);
    fmt::print("  clients connected and subscribed in {:.1f} s\n", f.connect_seconds);
    fmt::print("  batches acknowledged: {}  failed: {}\n", f.batches_ok, f.batches_failed);
    for (const auto& note : f.failure_notes) {
        fmt::print("    {}\n", note);
    }
    fmt::print("  messages delivered: {} of {} expected ({} before the batch's 200 was read)\n",
               f.received, f.expected, f.before_answer);
    fmt::print("  batch 2xx -> message received: p50 {:.1f} ms  p99 {:.1f} ms  max {:.1f} ms\n",
               f.p50_ms, f.p99_ms, f.max_ms);
    fmt::print(
        "  server memory: VmRSS {} with all clients subscribed, {} after the uploads; "
        "VmHWM {}\n",
        mib(f.rss_connected_kib), mib(f.rss_end_kib), mib(f.hwm_kib));
    if (f.send_wait) {
        fmt::print("  server send queue: {} messages written, {}\n", f.send_wait->count,
                   sendWaitLine(*f.send_wait));
    }
    if (f.lost_connections > 0) {
        fmt::print("  connections lost during the run: {}\n", f.lost_connections);
    }
    boost::json::object result{{"store", s.store},
                               {"clients", s.clients},
                               {"registered_devices", s.registered_devices},
                               {"uploading_devices", s.uploading_devices},
                               {"batches_ok", f.batches_ok},
                               {"batches_failed", f.batches_failed},
                               {"messages_expected", f.expected},
                               {"messages_received", f.received},
                               {"p50_ms", f.p50_ms},
                               {"p99_ms", f.p99_ms},
                               {"max_ms", f.max_ms},
                               {"server_vmrss_connected_kib", kibOrNull(f.rss_connected_kib)},
                               {"server_vmrss_end_kib", kibOrNull(f.rss_end_kib)},
                               {"server_vmhwm_kib", kibOrNull(f.hwm_kib)},
                               {"lost_connections", f.lost_connections}};
    fmt::print("RESULT {}\n", boost::json::serialize(result));
}

}  // namespace esocore::bench
