#include "series_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace esocore::sim {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

// The stator warms towards ambient plus this while running, and cools towards ambient plus a
// little when idle, with a first-order lag.
constexpr double kStatorRiseRunningC = 38.0;
constexpr double kStatorRiseIdleC = 4.0;
constexpr double kStatorTimeConstantS = 240.0;

struct SensorSpec {
    std::string_view series;
    std::string_view unit;
    int decimals;
};

constexpr std::array<SensorSpec, kSensorCount> kSensors{{
    {"temp_ambient", "°C", 1},
    {"rh", "%", 1},
    {"temp_stator", "°C", 1},
    {"current_rms", "A", 2},
    {"vibration_rms", "g", 3},
    {"acoustic_level", "dBA", 1},
}};

double roundTo(double value, int decimals) {
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

boost::json::object sensorMeta(Sensor sensor) {
    switch (sensor) {
        case Sensor::TempAmbient:
            return {{"sensor_id", "SHT40_01"}, {"firmware_ver", kFirmwareVersion}};
        case Sensor::Rh:
            return {{"sensor_id", "SHT40_01"}};
        case Sensor::TempStator:
            return {{"sensor_id", "PT100_01"}};
        case Sensor::CurrentRms:
            return {{"sample_rate", 250}};
        case Sensor::VibrationRms:
            return {{"sample_rate", 500}};
        case Sensor::AcousticLevel:
            return {{"sensor_id", "MIC_01"}, {"weighting", "A"}};
    }
    return {};
}

}  // namespace

std::string_view sensorSeries(Sensor sensor) {
    return kSensors[static_cast<std::size_t>(sensor)].series;
}

std::optional<Sensor> sensorFromSeries(std::string_view series) {
    for (std::size_t i = 0; i < kSensorCount; ++i) {
        if (kSensors[i].series == series) {
            return static_cast<Sensor>(i);
        }
    }
    return std::nullopt;
}

SamplingPlan defaultSamplingPlan() {
    return {10'000, 10'000, 5'000, 1'000, 1'000, 1'000};
}

SamplingPlan scaleSamplingPlan(SamplingPlan plan, double rate) {
    for (auto& period_ms : plan) {
        period_ms = std::max<std::int64_t>(1, std::llround(static_cast<double>(period_ms) / rate));
    }
    return plan;
}

SeriesModel::SeriesModel(const ModelSettings& settings, std::uint64_t seed, std::int64_t start_ms)
    : settings_(settings),
      rng_(seed),
      now_(start_ms),
      stator_c_(settings.site_temp_c + kStatorRiseIdleC),
      stator_updated_(start_ms) {
    // Devices boot at different moments, so each sensor starts at a random phase.
    for (std::size_t i = 0; i < kSensorCount; ++i) {
        next_sample_[i] = start_ms + uniformMs(0, settings_.sampling[i] - 1);
    }
    cycle_id_ = uniformMs(1'000, 90'000);
    schedule(start_ms + uniformMs(2'000, 30'000), Happening::CycleOpen);
    scheduleNextSystemEvent(start_ms);
}

void SeriesModel::advanceTo(std::int64_t until_ms, std::vector<Record>& out) {
    while (true) {
        const std::int64_t sample_due = powered_ ? earliestSample() : kNever;
        const std::int64_t happening_due =
            happenings_.empty() ? kNever : happenings_.begin()->first;
        const std::int64_t due = std::min(sample_due, happening_due);
        if (due > until_ms) {
            break;
        }
        now_ = std::max(now_, due);
        if (happening_due <= sample_due) {
            const Happening happening = happenings_.begin()->second;
            happenings_.erase(happenings_.begin());
            handleHappening(due, happening, out);
        } else {
            sampleSensors(due, out);
        }
    }
    now_ = std::max(now_, until_ms);
}

void SeriesModel::setFleetOutage(bool down, std::vector<Record>& out) {
    fleet_outage_ = down;
    syncLinkEvents(now_, out);
}

void SeriesModel::restoreAll(std::vector<Record>& out) {
    if (!powered_ || power_failing_) {
        cancel(Happening::SafeShutdown);
        cancel(Happening::PowerRestored);
        restorePower(now_, out);
    }
    cancel(Happening::LinkRestored);
    random_link_loss_ = false;
    fleet_outage_ = false;
    syncLinkEvents(now_, out);
}

bool SeriesModel::linkUp() const {
    return powered_ && !random_link_loss_ && !fleet_outage_;
}

std::int64_t SeriesModel::earliestSample() const {
    return *std::min_element(next_sample_.begin(), next_sample_.end());
}

void SeriesModel::handleHappening(std::int64_t at, Happening happening, std::vector<Record>& out) {
    switch (happening) {
        case Happening::CycleOpen:
            openCycle(at, out);
            break;
        case Happening::CycleClose:
            closeCycle(at, out);
            scheduleNextCycle(at);
            break;
        case Happening::SystemEvent:
            startSystemEvent(at, out);
            scheduleNextSystemEvent(at);
            break;
        case Happening::SafeShutdown:
            shutDown(at, out);
            break;
        case Happening::PowerRestored:
            restorePower(at, out);
            break;
        case Happening::LinkRestored:
            random_link_loss_ = false;
            syncLinkEvents(at, out);
            break;
    }
}

void SeriesModel::sampleSensors(std::int64_t at, std::vector<Record>& out) {
    for (std::size_t i = 0; i < kSensorCount; ++i) {
        if (next_sample_[i] == at) {
            out.push_back(sensorRecord(static_cast<Sensor>(i), at));
            next_sample_[i] = at + settings_.sampling[i];
        }
    }
}

Record SeriesModel::sensorRecord(Sensor sensor, std::int64_t at) {
    const SensorSpec& spec = kSensors[static_cast<std::size_t>(sensor)];
    Record record;
    record.ts_ms = at;
    record.series = spec.series;
    record.val = roundTo(sensorValue(sensor, at), spec.decimals);
    record.unit = spec.unit;
    record.meta = sensorMeta(sensor);
    return record;
}

double SeriesModel::sensorValue(Sensor sensor, std::int64_t at) {
    switch (sensor) {
        case Sensor::TempAmbient:
            ambient_drift_c_ = 0.98 * ambient_drift_c_ + normal(0.0, 0.08);
            return ambientMean(at) + normal(0.0, 0.05);
        case Sensor::Rh: {
            // Relative humidity falls as the air warms.
            rh_drift_pct_ = 0.98 * rh_drift_pct_ + normal(0.0, 0.2);
            const double warming = ambientMean(at) - settings_.site_temp_c;
            return std::clamp(50.0 - 2.0 * warming + rh_drift_pct_ + normal(0.0, 0.3), 5.0, 95.0);
        }
        case Sensor::TempStator:
            updateStator(at);
            return stator_c_ + normal(0.0, 0.1);
        case Sensor::CurrentRms:
            return std::max(0.0, running_ ? normal(3.8, 0.15) : normal(0.25, 0.03));
        case Sensor::VibrationRms:
            return std::max(0.0, running_ ? normal(0.21, 0.02) : normal(0.015, 0.003));
        case Sensor::AcousticLevel:
            return running_ ? normal(68.0, 1.5) : normal(42.0, 1.0);
    }
    return 0.0;
}

double SeriesModel::ambientMean(std::int64_t at) const {
    // A diurnal swing of ±3.5 °C peaking mid-afternoon UTC, plus a slow random drift.
    constexpr std::int64_t kDayMs = 86'400'000;
    const double day_fraction = static_cast<double>(((at % kDayMs) + kDayMs) % kDayMs) / kDayMs;
    const double swing = 3.5 * std::sin(2.0 * std::numbers::pi * (day_fraction - 9.0 / 24.0));
    return settings_.site_temp_c + swing + ambient_drift_c_;
}

void SeriesModel::updateStator(std::int64_t at) {
    const double elapsed_s = static_cast<double>(at - stator_updated_) / 1000.0;
    const double target = ambientMean(at) + (running_ ? kStatorRiseRunningC : kStatorRiseIdleC);
    stator_c_ += (target - stator_c_) * (1.0 - std::exp(-elapsed_s / kStatorTimeConstantS));
    stator_updated_ = at;
}

}  // namespace esocore::sim
