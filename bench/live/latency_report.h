#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "paced_uploads.h"
#include "server_metrics.h"
#include "socket_fleet.h"

namespace esocore::bench {

struct RunShape {
    std::string store;
    std::uint32_t clients = 0;
    std::uint32_t registered_devices = 0;
    std::uint32_t uploading_devices = 0;
    std::uint32_t series = 0;
    std::uint32_t points_per_series = 0;
    std::int64_t interval_ms = 0;
    std::int64_t duration_s = 0;
};

struct LiveFigures {
    RunShape shape;
    double connect_seconds = 0;
    std::size_t batches_ok = 0;
    std::size_t batches_failed = 0;
    std::vector<std::string> failure_notes;
    std::size_t expected = 0;       // messages the acknowledged batches should have produced
    std::size_t received = 0;       // of those, the ones that arrived
    std::size_t before_answer = 0;  // arrived before the uploader read the batch's 200
    std::size_t lost_connections = 0;
    double p50_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;
    std::optional<std::uint64_t> rss_connected_kib;  // VmRSS with every client subscribed
    std::optional<std::uint64_t> rss_end_kib;        // VmRSS after the uploads
    std::optional<std::uint64_t> hwm_kib;            // VmHWM of the whole run
    std::optional<SendWait> send_wait;               // the server's own queueing of messages
};

/// Latency of each delivered message: its receipt minus its batch's 200 (a message that came
/// first counts as 0 ms). Fills expected, received, before_answer and the percentiles.
void measureLatency(const UploadResult& uploads, const SocketFleet& fleet, std::uint32_t series,
                    LiveFigures& figures);

/// The report for people, then a `RESULT {json}` line for scripts.
void printLiveReport(const LiveFigures& figures);

}  // namespace esocore::bench
