#pragma once

// Rollouts as stored, the devices each one reaches with the state of their updates, and its
// progress. Shared by the device API (offers, reports) and the management API.

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "live/bus.h"
#include "ota/rollout_rules.h"
#include "store/sql.h"
#include "store/types.h"

namespace esocore::ota {

/// The strings of a JSON array stored as text (device ids, tags, models); others skipped.
std::vector<std::string> jsonStrings(const std::string& text);

/// One rollout with the version, channel and models of its bundle.
struct Rollout {
    std::string id;
    std::string organization_id;
    std::string bundle_id;
    std::string version;
    std::string name;
    std::string status;  // active, paused, completed, cancelled
    RolloutTarget target;
    std::int64_t failure_threshold_bp = 1000;
    std::int64_t failure_minimum = 3;
    std::optional<std::string> paused_reason;
    std::optional<Micros> paused_at;
    std::optional<std::string> created_by;
    Micros created_at = 0;
    Micros updated_at = 0;

    /// Whether the rollout can still change state (active or paused).
    bool open() const { return status == "active" || status == "paused"; }
};

/// `SELECT <columns> FROM rollouts r JOIN firmware_bundles b ...`: append a WHERE clause.
extern const char* const kRolloutSelect;
/// Columns kRolloutSelect yields; extra selected columns follow them.
inline constexpr std::size_t kRolloutColumns = 19;

Rollout readRollout(const store::SqlRow& row);

/// The rollout, or nothing. With `lock`, its row stays locked until the transaction ends
/// (PostgreSQL; SQLite's one writer serializes transactions anyway).
Result<std::optional<Rollout>> findRollout(store::SqlSession& sql, const std::string& id,
                                           bool lock = false);

/// One device a rollout reaches or has reached, and where its update stands.
struct RolloutDevice {
    std::string device_id;
    std::string serial;
    std::string name;
    std::string site_id;
    std::string model;
    std::string channel;
    std::string running_version;
    /// pending (reached, not yet offered), up_to_date (already runs this version or newer),
    /// or the state of its update.
    std::string state;
    std::optional<store::DeviceUpdate> update;
};

/// Every device of the rollout: those with an update in it, and the devices of the
/// organization (active or in maintenance) it reaches but has not offered anything to yet.
/// Ordered by serial.
Result<std::vector<RolloutDevice>> rolloutDevices(store::SqlSession& sql, const Rollout& rollout);

/// Counts of a rollout's devices by state; `targeted` is their sum.
struct Progress {
    std::int64_t targeted = 0;
    std::int64_t pending = 0;
    std::int64_t up_to_date = 0;
    std::int64_t offered = 0;
    std::int64_t downloading = 0;
    std::int64_t installing = 0;
    std::int64_t completed = 0;
    std::int64_t failed = 0;
    std::int64_t rolled_back = 0;
};

Progress progressOf(const std::vector<RolloutDevice>& devices);
boost::json::object progressJson(const Progress& progress);

/// Failed and finished updates of the rollout so far.
Result<FailureCount> failureCount(store::SqlSession& sql, const std::string& rollout_id);

/// Publishes `rollout.progress` on the `devices` live channel, to the members of the
/// rollout's organization, when anyone listens. A failure to read the progress is logged:
/// live updates never fail the change that caused them.
void publishRolloutProgress(live::Bus& bus, store::SqlSession& sql, const Rollout& rollout);

}  // namespace esocore::ota
