#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace esocore::bench {

/// A sensor series every benchmark device reports, with the shape of its readings.
struct SeriesSpec {
    std::string_view name;
    std::string_view unit;
    double level;  // typical reading
    double swing;  // slow oscillation around the level
    double noise;  // peak-to-peak jitter on top of the swing
};

inline constexpr std::array<SeriesSpec, 4> kBenchSeries{{
    {"temp_ambient", "°C", 21.0, 3.0, 0.4},
    {"current_rms", "A", 3.8, 1.2, 0.3},
    {"vibration_rms", "g", 0.21, 0.05, 0.04},
    {"acoustic_level", "dBA", 63.0, 4.0, 2.0},
}};

/// One reading of the run: which series, when, and the value the device reports.
struct Point {
    std::uint32_t series;  // index into kBenchSeries
    std::int64_t ts_ms;    // milliseconds since the epoch, always in the past
    double value;          // already rounded to what the JSON text carries
};

/// Which device sends a batch and which part of that device's point sequence it carries.
struct BatchSlice {
    std::uint32_t device;
    std::uint64_t first_point;  // index into the device's own point sequence
    std::uint32_t points;
};

/// The deterministic set of points one run sends. The upload batches and the raw SQLite rows
/// both come from here, so the two rates are measured over exactly the same rows.
class PointPlan {
public:
    /// Spreads `total_points` over `devices` in batches of `batch_size`; every (device, series)
    /// gets distinct timestamps that end a few minutes before `now_ms`.
    PointPlan(std::uint64_t total_points, std::uint32_t devices, std::uint32_t batch_size,
              std::int64_t now_ms);

    std::uint64_t totalPoints() const { return total_points_; }
    std::uint32_t devices() const { return devices_; }
    std::uint32_t batchSize() const { return batch_size_; }
    std::size_t batchCount() const { return batch_count_; }

    /// Batches go to devices in turn, so concurrent connections upload for many devices.
    BatchSlice batch(std::size_t index) const;

    /// The `index`-th point of `device`; the series rotate, time advances every full round.
    Point point(std::uint32_t device, std::uint64_t index) const;

    /// A small integer naming (device, series) in the raw table.
    static std::int64_t seriesId(std::uint32_t device, std::uint32_t series) {
        return static_cast<std::int64_t>(device) * kBenchSeries.size() + series + 1;
    }

private:
    std::uint64_t total_points_;
    std::uint32_t devices_;
    std::uint32_t batch_size_;
    std::size_t batch_count_;
    std::int64_t step_ms_;
    std::int64_t first_ts_ms_;
};

/// A point as the raw comparison tables hold it.
struct RawRow {
    std::int64_t series_id;  // PointPlan::seriesId
    std::int64_t ts_us;      // microseconds since the epoch
    double value;
};

/// Calls `visit(const RawRow&)` for every point of `plan` in upload order: batch by batch, each
/// batch's points in sequence. Both raw measurements read the rows through this.
template <typename Visit>
void forEachRawRow(const PointPlan& plan, Visit&& visit) {
    for (std::size_t b = 0; b < plan.batchCount(); ++b) {
        const BatchSlice slice = plan.batch(b);
        for (std::uint32_t i = 0; i < slice.points; ++i) {
            const Point point = plan.point(slice.device, slice.first_point + i);
            visit(RawRow{.series_id = PointPlan::seriesId(slice.device, point.series),
                         .ts_us = point.ts_ms * 1000,
                         .value = point.value});
        }
    }
}

}  // namespace esocore::bench
