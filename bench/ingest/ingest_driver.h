#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "batch_builder.h"
#include "esocore_server.h"

namespace esocore::bench {

/// How hard to drive the server and for how long at most.
struct DriveSettings {
    std::uint16_t port = 0;  // on 127.0.0.1
    std::uint32_t connections = 8;
    std::chrono::seconds run_timeout{900};  // no new batch starts after this
};

/// What the upload phase achieved.
struct DriveResult {
    std::size_t batches_ok = 0;      // 200 with every point accepted
    std::size_t batches_failed = 0;  // any other answer, or no answer
    std::size_t batches_unsent = 0;  // not attempted: the run stopped early
    std::uint64_t points_accepted = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t rejected = 0;
    std::size_t throttle_waits = 0;          // 429/503 answers waited out
    std::size_t reconnects = 0;              // connections lost and opened again
    double wall_seconds = 0.0;               // first request sent to last 200 received
    double client_cpu_seconds = 0.0;         // this process's CPU time while uploading
    std::vector<double> latencies_ms;        // one per successful batch, in no order
    std::vector<std::string> failure_notes;  // the first few failures, for people

    bool allDelivered() const { return batches_failed == 0 && batches_unsent == 0; }
};

/// Uploads every batch over `settings.connections` keep-alive HTTP/1.1 connections, all driven
/// by one thread so the client takes as little CPU from the server as possible. A 429 or 503
/// is waited out per its Retry-After and retried, a lost connection is reopened, both bounded.
/// `devices[i]` authenticates the batches of device i.
DriveResult driveIngest(const std::vector<PreparedBatch>& batches,
                        const std::vector<DeviceCredential>& devices,
                        const DriveSettings& settings);

}  // namespace esocore::bench
