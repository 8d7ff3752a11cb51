#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "esocore_server.h"
#include "socket_fleet.h"

namespace esocore::bench {

struct UploadSettings {
    std::uint16_t port = 0;                    // on 127.0.0.1
    std::vector<DeviceCredential> devices;     // each uploads on its own keep-alive connection
    std::chrono::milliseconds interval{1000};  // between two batches of one device
    std::uint32_t series = 5;                  // per batch
    std::uint32_t points_per_series = 10;      // per batch
    std::chrono::seconds duration{30};         // no batch starts after this
};

struct UploadResult {
    /// acked[device][batch]: when the batch's 200 arrived (batches count from 1).
    std::vector<std::vector<std::optional<Clock::time_point>>> acked;
    std::size_t batches_ok = 0;
    std::size_t batches_failed = 0;
    std::vector<std::string> failure_notes;  // the first few, for people
};

/// Every device uploads a gzip batch through the device API once per interval, the devices'
/// starts spread evenly over one interval, all from this thread. Every point of batch n has the
/// value n, so that a live message names the batch it came from.
UploadResult runUploads(const UploadSettings& settings);

}  // namespace esocore::bench
