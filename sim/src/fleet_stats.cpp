#include "fleet_stats.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>

namespace esocore::sim {

std::uint64_t FleetStats::unackedRecords() const {
    return records_generated > records_acked ? records_generated - records_acked : 0;
}

bool FleetStats::allAcknowledged() const {
    return unackedRecords() == 0 && failed_batches == 0 && rejected == 0;
}

namespace {

boost::json::object firmwareVersions(const FleetStats& stats) {
    boost::json::object versions;
    for (const auto& [version, devices] : stats.firmware_versions) {
        versions[version] = devices;
    }
    return versions;
}

}  // namespace

std::string summaryText(const FleetStats& stats) {
    const double seconds = stats.elapsed_s > 0.0 ? stats.elapsed_s : 1.0;
    std::string text;
    auto out = std::back_inserter(text);
    fmt::format_to(out, "devices           {} over {:.1f} s\n", stats.devices, stats.elapsed_s);
    fmt::format_to(out, "records           {} generated, {} acknowledged, {} unacknowledged\n",
                   stats.records_generated, stats.records_acked, stats.unackedRecords());
    fmt::format_to(out, "stored            {} points, {} events ({:.0f} points/s)\n",
                   stats.points_acked, stats.events_acked,
                   static_cast<double>(stats.points_acked) / seconds);
    fmt::format_to(out, "server said       {} duplicates, {} rejected\n", stats.duplicates,
                   stats.rejected);
    fmt::format_to(out,
                   "batches           {} sent, {} acknowledged ({} by replay), {} failed "
                   "({} records)\n",
                   stats.batches_sent, stats.batches_acked, stats.replayed_acks,
                   stats.failed_batches, stats.records_failed);
    fmt::format_to(out,
                   "extra attempts    {} resends ({} answers dropped on purpose), {} retries\n",
                   stats.resends, stats.dropped_responses, stats.retries);
    fmt::format_to(out, "buffer overflow   {} records lost\n", stats.records_overflowed);
    if (stats.ota_checks > 0) {
        fmt::format_to(out,
                       "firmware          {} checks, {} offers, {} downloads ({} resumed after "
                       "{} cuts), {} completed, {} failed, {} images refused\n",
                       stats.ota_checks, stats.ota_offers, stats.ota_downloads, stats.ota_resumes,
                       stats.ota_cuts, stats.ota_completed, stats.ota_failed,
                       stats.ota_rejected_images);
        for (const auto& [version, devices] : stats.firmware_versions) {
            fmt::format_to(out, "  running {:<10}{} devices\n", version, devices);
        }
    }
    return text;
}

std::string summaryJson(const FleetStats& stats) {
    const boost::json::object summary{
        {"devices", stats.devices},
        {"elapsed_ms", std::llround(stats.elapsed_s * 1000.0)},
        {"batches_sent", stats.batches_sent},
        {"batches_acked", stats.batches_acked},
        {"replayed_acks", stats.replayed_acks},
        {"resends", stats.resends},
        {"retries", stats.retries},
        {"dropped_responses", stats.dropped_responses},
        {"records_generated", stats.records_generated},
        {"records_acked", stats.records_acked},
        {"points_acked", stats.points_acked},
        {"events_acked", stats.events_acked},
        {"duplicates", stats.duplicates},
        {"rejected", stats.rejected},
        {"count_mismatches", stats.count_mismatches},
        {"failed_batches", stats.failed_batches},
        {"records_failed", stats.records_failed},
        {"records_overflowed", stats.records_overflowed},
        {"heartbeats", stats.heartbeats},
        {"unacked_records", stats.unackedRecords()},
        {"ota_checks", stats.ota_checks},
        {"ota_offers", stats.ota_offers},
        {"ota_downloads", stats.ota_downloads},
        {"ota_resumes", stats.ota_resumes},
        {"ota_cuts", stats.ota_cuts},
        {"ota_bytes", stats.ota_bytes},
        {"ota_rejected_images", stats.ota_rejected_images},
        {"ota_failed", stats.ota_failed},
        {"ota_completed", stats.ota_completed},
        {"firmware_versions", firmwareVersions(stats)},
    };
    return boost::json::serialize(summary);
}

}  // namespace esocore::sim
