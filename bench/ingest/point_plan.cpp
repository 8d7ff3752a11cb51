#include "point_plan.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace esocore::bench {

namespace {

constexpr std::int64_t kSeriesCount = kBenchSeries.size();

// Whole-day span at 1 s resolution keeps default runs looking like real telemetry; bigger runs
// shrink the step towards 1 ms rather than reach weeks into the past.
constexpr std::int64_t kPreferredStepMs = 1000;
constexpr std::int64_t kPreferredSpanMs = 24LL * 3600 * 1000;

// The newest point stays this far behind "now" so clock skew never makes one look future.
constexpr std::int64_t kSafetyMarginMs = 10LL * 60 * 1000;

constexpr double kSwingPeriodSteps = 600.0;

std::uint64_t splitMix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// Uniform in [0, 1), a pure function of the point's identity so every rerun sends the same values.
double unitNoise(std::uint32_t device, std::uint32_t series, std::uint64_t step) {
    const std::uint64_t key = (static_cast<std::uint64_t>(device) << 40) ^
                              (static_cast<std::uint64_t>(series) << 32) ^ step;
    return static_cast<double>(splitMix64(key) >> 11) * 0x1.0p-53;
}

}  // namespace

PointPlan::PointPlan(std::uint64_t total_points, std::uint32_t devices, std::uint32_t batch_size,
                     std::int64_t now_ms)
    : total_points_(total_points),
      devices_(devices),
      batch_size_(batch_size),
      batch_count_((total_points + batch_size - 1) / batch_size) {
    const std::uint64_t rounds = (batch_count_ + devices_ - 1) / devices_;
    const auto steps =
        static_cast<std::int64_t>((rounds * batch_size_ + kSeriesCount - 1) / kSeriesCount);
    step_ms_ = std::clamp<std::int64_t>(kPreferredSpanMs / std::max<std::int64_t>(steps, 1), 1,
                                        kPreferredStepMs);
    first_ts_ms_ = now_ms - kSafetyMarginMs - steps * step_ms_;
}

BatchSlice PointPlan::batch(std::size_t index) const {
    const std::uint64_t first_global = static_cast<std::uint64_t>(index) * batch_size_;
    const auto points = std::min<std::uint64_t>(batch_size_, total_points_ - first_global);
    return BatchSlice{
        .device = static_cast<std::uint32_t>(index % devices_),
        .first_point = static_cast<std::uint64_t>(index / devices_) * batch_size_,
        .points = static_cast<std::uint32_t>(points),
    };
}

Point PointPlan::point(std::uint32_t device, std::uint64_t index) const {
    const auto series = static_cast<std::uint32_t>(index % kSeriesCount);
    const std::uint64_t step = index / kSeriesCount;
    const SeriesSpec& spec = kBenchSeries[series];

    // A fixed sub-step offset per (device, series) gives realistic milliseconds without ever
    // making two timestamps of one series collide.
    const std::int64_t offset_ms = (device * 7 + series * 131) % step_ms_;
    const std::int64_t ts_ms =
        first_ts_ms_ + static_cast<std::int64_t>(step) * step_ms_ + offset_ms;

    const double phase = 2.0 * std::numbers::pi * static_cast<double>(step) / kSwingPeriodSteps;
    const double raw = spec.level + spec.swing * std::sin(phase + device) +
                       spec.noise * (unitNoise(device, series, step) - 0.5);
    return Point{.series = series, .ts_ms = ts_ms, .value = std::round(raw * 1000.0) / 1000.0};
}

}  // namespace esocore::bench
