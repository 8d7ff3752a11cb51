#pragma once

// The rules that decide which devices a rollout reaches and how a device's update moves
// (DESIGN §8). Pure functions: the store and the API apply them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esocore::ota {

/// Buckets of staged rollouts: 0 .. kBuckets - 1. A percentage is kept in hundredths
/// (basis points), so 10 % admits buckets 0 .. 999.
inline constexpr std::int64_t kBuckets = 10'000;

/// The device's bucket: the first eight bytes of SHA-256 of its id (canonical lowercase
/// form) modulo kBuckets. The same for every rollout, so that raising a rollout's percentage
/// only adds devices and a device is early or late in every rollout alike.
std::int64_t bucketOf(std::string_view device_id);

/// Whether a device on `device_channel` may run a bundle published on `bundle_channel`:
/// stable devices take stable bundles only, beta devices beta and stable, dev devices all.
bool channelAdmits(std::string_view device_channel, std::string_view bundle_channel);

/// The channels a device on `device_channel` takes, most stable first.
std::vector<std::string> channelsFor(std::string_view device_channel);

/// What a rollout's targeting needs to know of a device.
struct DeviceFacts {
    std::string id;
    std::string model;
    std::string channel = "stable";
    std::vector<std::string> tags;
};

/// The targeting part of a rollout and its bundle.
struct RolloutTarget {
    std::string kind;  // immediate, staged, manual
    std::int64_t percentage_bp = kBuckets;
    std::vector<std::string> device_ids;  // manual
    std::string tag;                      // manual, may be empty
    std::string bundle_channel = "stable";
    std::vector<std::string> bundle_models;
};

/// Whether the rollout reaches the device: its model is one of the bundle's, its channel
/// takes the bundle's, and the kind's rule admits it (immediate: every device; staged: bucket
/// below the percentage; manual: listed by id or carrying the tag).
bool reaches(const RolloutTarget& target, const DeviceFacts& device);

/// The states of a device update, in order.
inline constexpr const char* kUpdateStates[] = {"offered",   "downloading", "installing",
                                                "completed", "failed",      "rolled_back"};

/// Whether a device may report `to` while its update is `from`. Repeating the current state
/// is allowed (a resent report); states may be skipped forward (a lost report); a failed
/// update may be retried (downloading); only an installed update can be rolled back.
bool transitionAllowed(std::string_view from, std::string_view to);

/// Whether the update has ended one way or the other.
bool isFinished(std::string_view state);

/// Failures of a rollout so far, and whether they reach its threshold: at least `minimum`
/// failed or rolled-back updates, making at least `threshold_bp` of the finished ones.
struct FailureCount {
    std::int64_t failures = 0;  // failed + rolled_back
    std::int64_t finished = 0;  // completed + failed + rolled_back
};
bool reachesThreshold(const FailureCount& count, std::int64_t threshold_bp, std::int64_t minimum);

/// "12.5" for 1250 basis points; whole percentages without decimals.
std::string percentText(std::int64_t basis_points);

/// Basis points of a percentage given as a number (0 .. 100, at most two decimals); nothing
/// when it is out of range or finer than a hundredth.
std::optional<std::int64_t> basisPoints(double percent);

}  // namespace esocore::ota
