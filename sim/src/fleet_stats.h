#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace esocore::sim {

/// Counters over the whole fleet for one run. Every attempt to upload a batch is exactly one
/// of: its first send (`batches_sent`), a resend after an answer that was lost or never came
/// (`resends`), or a retry the server asked for or a refused connection forced (`retries`).
struct FleetStats {
    std::size_t devices = 0;
    std::uint64_t records_generated = 0;
    std::uint64_t batches_sent = 0;
    std::uint64_t batches_acked = 0;
    std::uint64_t replayed_acks = 0;  // batches acknowledged by a 409 duplicate_batch replay
    std::uint64_t resends = 0;
    std::uint64_t retries = 0;
    std::uint64_t dropped_responses = 0;  // answers discarded on purpose (--drop-responses)
    std::uint64_t records_acked = 0;
    std::uint64_t points_acked = 0;
    std::uint64_t events_acked = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t rejected = 0;
    std::uint64_t count_mismatches = 0;  // answers whose counts do not add up to the batch size
    std::uint64_t failed_batches = 0;
    std::uint64_t records_failed = 0;      // records in refused batches
    std::uint64_t records_overflowed = 0;  // records lost to a full offline buffer
    std::uint64_t heartbeats = 0;
    // Firmware updates: offers the checks brought, images downloaded whole, downloads resumed
    // with Range after a cut, cuts simulated (--ota-cut-rate), images refused for a bad size,
    // hash or signature, installs that failed (--ota-failure-rate), updates completed.
    std::uint64_t ota_checks = 0;
    std::uint64_t ota_offers = 0;
    std::uint64_t ota_downloads = 0;
    std::uint64_t ota_resumes = 0;
    std::uint64_t ota_cuts = 0;
    std::uint64_t ota_bytes = 0;
    std::uint64_t ota_rejected_images = 0;
    std::uint64_t ota_failed = 0;
    std::uint64_t ota_completed = 0;
    std::map<std::string, std::uint64_t> firmware_versions;  // devices per version at the end
    double elapsed_s = 0.0;

    /// Generated records that no acknowledged batch carried.
    std::uint64_t unackedRecords() const;

    /// Whether the server stored everything: every record acknowledged and none rejected.
    bool allAcknowledged() const;
};

/// A few human-readable lines for the end of a run.
std::string summaryText(const FleetStats& stats);

/// The run's counters as one JSON object on one line.
std::string summaryJson(const FleetStats& stats);

}  // namespace esocore::sim
