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
    };
    return boost::json::serialize(summary);
}

}  // namespace esocore::sim
