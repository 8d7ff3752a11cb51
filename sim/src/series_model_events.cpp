// The event side of SeriesModel: asset cycles, power outages, uplink losses and SD errors.

#include <algorithm>
#include <cmath>

#include "series_model.h"

namespace esocore::sim {
namespace {

constexpr std::int64_t kCycleMinMs = 3'000;
constexpr std::int64_t kCycleMaxMs = 15'000;
constexpr std::int64_t kIdleMinMs = 10'000;
constexpr std::int64_t kIdleMaxMs = 90'000;
constexpr std::int64_t kLinkLossMinMs = 20'000;
constexpr std::int64_t kLinkLossMaxMs = 180'000;
constexpr std::int64_t kPowerOffMinMs = 10'000;
constexpr std::int64_t kPowerOffMaxMs = 60'000;

}  // namespace

void SeriesModel::openCycle(std::int64_t at, std::vector<Record>& out) {
    updateStator(at);
    running_ = true;
    cycle_started_ = at;
    ++cycle_id_;
    emitEvent(out, "cycle_open", at, {{"event_type", "asset"}, {"cycle_id", cycle_id_}});
    schedule(at + uniformMs(kCycleMinMs, kCycleMaxMs), Happening::CycleClose);
}

void SeriesModel::closeCycle(std::int64_t at, std::vector<Record>& out) {
    updateStator(at);
    running_ = false;
    emitEvent(
        out, "cycle_close", at,
        {{"event_type", "asset"}, {"cycle_id", cycle_id_}, {"duration_ms", at - cycle_started_}});
}

void SeriesModel::startSystemEvent(std::int64_t at, std::vector<Record>& out) {
    // A device without power records nothing; the draw is simply lost.
    if (!powered_) {
        return;
    }
    const double draw = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    if (draw < 0.5) {
        if (!random_link_loss_) {
            random_link_loss_ = true;
            syncLinkEvents(at, out);
            schedule(at + uniformMs(kLinkLossMinMs, kLinkLossMaxMs), Happening::LinkRestored);
        }
    } else if (draw < 0.75) {
        if (!power_failing_) {
            losePower(at, out);
        }
    } else {
        emitEvent(out, "sd_error", at,
                  {{"event_type", "system"},
                   {"severity", "medium"},
                   {"description", "SD card write failed and was retried"},
                   {"error_code", "EIO"},
                   {"retries", uniformMs(1, 3)}});
    }
}

void SeriesModel::losePower(std::int64_t at, std::vector<Record>& out) {
    power_failing_ = true;
    // The machine stops with the mains, so a running cycle ends here.
    if (running_) {
        closeCycle(at, out);
    }
    cancel(Happening::CycleOpen);
    cancel(Happening::CycleClose);
    const double supercap_v = std::round((11.6 + normal(0.0, 0.1)) * 10.0) / 10.0;
    emitEvent(out, "power_outage", at,
              {{"event_type", "power"},
               {"severity", "critical"},
               {"description", "Mains lost, running on supercapacitor"},
               {"main_voltage", 0.0},
               {"supercap_voltage", supercap_v},
               {"estimated_runtime_sec", 27}});
    schedule(at + uniformMs(1'500, 2'500), Happening::SafeShutdown);
}

void SeriesModel::shutDown(std::int64_t at, std::vector<Record>& out) {
    const double flushed_mb = static_cast<double>(uniformMs(2, 40)) / 10.0;
    emitEvent(out, "safe_shutdown_initiated", at,
              {{"event_type", "power"},
               {"severity", "critical"},
               {"description", "Flushing buffers before shutdown"},
               {"supercap_voltage", 10.3},
               {"data_flushed_mb", flushed_mb},
               {"shutdown_reason", "power_outage"}});
    powered_ = false;
    power_lost_at_ = at;
    schedule(at + uniformMs(kPowerOffMinMs, kPowerOffMaxMs), Happening::PowerRestored);
}

void SeriesModel::restorePower(std::int64_t at, std::vector<Record>& out) {
    const std::int64_t off_ms = powered_ ? 0 : at - power_lost_at_;
    powered_ = true;
    power_failing_ = false;
    emitEvent(out, "power_restored", at,
              {{"event_type", "power"},
               {"severity", "info"},
               {"description", "Mains restored, device rebooted"},
               {"outage_ms", off_ms}});
    // Sensors resume one period after boot; samples missed while off are never invented.
    for (std::size_t i = 0; i < kSensorCount; ++i) {
        next_sample_[i] = std::max(next_sample_[i], at + settings_.sampling[i]);
    }
    updateStator(at);
    scheduleNextCycle(at);
    syncLinkEvents(at, out);
}

void SeriesModel::syncLinkEvents(std::int64_t at, std::vector<Record>& out) {
    // A device without power cannot log its uplink; it reconciles once it boots again.
    if (!powered_) {
        return;
    }
    const bool down = random_link_loss_ || fleet_outage_;
    if (down && !link_reported_down_) {
        link_reported_down_ = true;
        link_lost_at_ = at;
        emitEvent(out, "connectivity_lost", at,
                  {{"event_type", "connectivity"},
                   {"severity", "medium"},
                   {"description", "Uplink lost, buffering to SD card"}});
    } else if (!down && link_reported_down_) {
        link_reported_down_ = false;
        emitEvent(out, "connectivity_restored", at,
                  {{"event_type", "connectivity"},
                   {"severity", "info"},
                   {"description", "Uplink restored, sending backlog"},
                   {"duration_ms", at - link_lost_at_}});
    }
}

void SeriesModel::emitEvent(std::vector<Record>& out, std::string series, std::int64_t at,
                            boost::json::object meta) {
    // Two events of one series in the same millisecond would collide on (series, ts).
    auto [last, inserted] = last_event_ts_.try_emplace(series, at);
    if (!inserted) {
        last->second = std::max(at, last->second + 1);
    }
    Record record;
    record.ts_ms = last->second;
    record.series = std::move(series);
    record.meta = std::move(meta);
    out.push_back(std::move(record));
}

void SeriesModel::schedule(std::int64_t at, Happening happening) {
    happenings_.emplace(at, happening);
}

void SeriesModel::cancel(Happening happening) {
    std::erase_if(happenings_,
                  [happening](const auto& entry) { return entry.second == happening; });
}

void SeriesModel::scheduleNextCycle(std::int64_t after) {
    schedule(after + uniformMs(kIdleMinMs, kIdleMaxMs), Happening::CycleOpen);
}

void SeriesModel::scheduleNextSystemEvent(std::int64_t after) {
    if (settings_.system_events_per_hour <= 0.0) {
        return;
    }
    // Poisson arrivals: exponential gaps with the configured mean rate.
    const double mean_gap_ms = 3'600'000.0 / settings_.system_events_per_hour;
    const double gap_ms = std::exponential_distribution<double>(1.0 / mean_gap_ms)(rng_);
    schedule(after + 1 + static_cast<std::int64_t>(gap_ms), Happening::SystemEvent);
}

std::int64_t SeriesModel::uniformMs(std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(rng_);
}

double SeriesModel::normal(double mean, double stddev) {
    return std::normal_distribution<double>(mean, stddev)(rng_);
}

}  // namespace esocore::sim
