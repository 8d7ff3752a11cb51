#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "record.h"

namespace esocore::sim {

/// The sensors every simulated device samples, in a fixed order.
enum class Sensor { TempAmbient, Rh, TempStator, CurrentRms, VibrationRms, AcousticLevel };
inline constexpr std::size_t kSensorCount = 6;

/// The series name a sensor uploads under.
std::string_view sensorSeries(Sensor sensor);

/// The sensor behind a series name, if it is a sensor series.
std::optional<Sensor> sensorFromSeries(std::string_view series);

/// Sampling period of every sensor in milliseconds, indexed by Sensor.
using SamplingPlan = std::array<std::int64_t, kSensorCount>;

/// Ambient temperature and humidity every 10 s, stator temperature every 5 s, current,
/// vibration and sound level every second.
SamplingPlan defaultSamplingPlan();

/// Divides every period by `rate` (a rate of 10 samples ten times as often), never below 1 ms
/// because timestamps carry millisecond precision.
SamplingPlan scaleSamplingPlan(SamplingPlan plan, double rate);

struct ModelSettings {
    SamplingPlan sampling = defaultSamplingPlan();
    double system_events_per_hour = 1.0;
    double site_temp_c = 19.0;  // the site's mean ambient temperature
};

/// Generates one device's sensor points, asset cycles and system events on the device clock.
/// The same seed and the same calls give the same records, and no (series, ts) pair is ever
/// produced twice.
class SeriesModel {
public:
    SeriesModel(const ModelSettings& settings, std::uint64_t seed, std::int64_t start_ms);

    /// Appends every record due up to and including `until_ms` to `out`.
    void advanceTo(std::int64_t until_ms, std::vector<Record>& out);

    /// Starts or ends a fleet-wide network outage at the model's current time.
    void setFleetOutage(bool down, std::vector<Record>& out);

    /// Ends every network and power outage now so the device can flush before the run ends.
    void restoreAll(std::vector<Record>& out);

    /// Whether the device is powered and its uplink works.
    bool linkUp() const;

    /// The latest device time the model has reached.
    std::int64_t now() const { return now_; }

private:
    enum class Happening {
        CycleOpen,
        CycleClose,
        SystemEvent,
        SafeShutdown,
        PowerRestored,
        LinkRestored
    };

    std::int64_t earliestSample() const;
    void handleHappening(std::int64_t at, Happening happening, std::vector<Record>& out);
    void sampleSensors(std::int64_t at, std::vector<Record>& out);
    Record sensorRecord(Sensor sensor, std::int64_t at);
    double sensorValue(Sensor sensor, std::int64_t at);
    double ambientMean(std::int64_t at) const;
    void updateStator(std::int64_t at);

    void openCycle(std::int64_t at, std::vector<Record>& out);
    void closeCycle(std::int64_t at, std::vector<Record>& out);
    void startSystemEvent(std::int64_t at, std::vector<Record>& out);
    void losePower(std::int64_t at, std::vector<Record>& out);
    void shutDown(std::int64_t at, std::vector<Record>& out);
    void restorePower(std::int64_t at, std::vector<Record>& out);
    void syncLinkEvents(std::int64_t at, std::vector<Record>& out);

    void emitEvent(std::vector<Record>& out, std::string series, std::int64_t at,
                   boost::json::object meta);
    void schedule(std::int64_t at, Happening happening);
    void cancel(Happening happening);
    void scheduleNextCycle(std::int64_t after);
    void scheduleNextSystemEvent(std::int64_t after);
    std::int64_t uniformMs(std::int64_t low, std::int64_t high);
    double normal(double mean, double stddev);

    ModelSettings settings_;
    std::mt19937_64 rng_;
    std::int64_t now_;
    std::array<std::int64_t, kSensorCount> next_sample_{};
    std::multimap<std::int64_t, Happening> happenings_;
    std::map<std::string, std::int64_t, std::less<>> last_event_ts_;

    bool running_ = false;
    std::int64_t cycle_id_ = 0;
    std::int64_t cycle_started_ = 0;
    double stator_c_;
    double ambient_drift_c_ = 0.0;
    double rh_drift_pct_ = 0.0;
    std::int64_t stator_updated_;

    bool powered_ = true;
    bool power_failing_ = false;
    std::int64_t power_lost_at_ = 0;

    bool random_link_loss_ = false;
    bool fleet_outage_ = false;
    bool link_reported_down_ = false;
    std::int64_t link_lost_at_ = 0;
};

}  // namespace esocore::sim
