#include "ota/rollouts.h"

#include <algorithm>
#include <boost/json.hpp>
#include <unordered_map>

#include "core/log.h"
#include "live/channels.h"
#include "ota/semver.h"

namespace esocore::ota {

namespace json = boost::json;

const char* const kRolloutSelect =
    "SELECT r.id, r.organization_id, r.bundle_id, b.version, b.channel, b.models, r.name, "
    "r.kind, r.percentage_bp, r.device_ids, r.tag, r.failure_threshold_bp, r.failure_minimum, "
    "r.status, r.paused_reason, r.paused_at, r.created_by, r.created_at, r.updated_at "
    "FROM rollouts r JOIN firmware_bundles b ON b.id = r.bundle_id";

namespace {

// Devices of the organization that a rollout may reach: those that can still run firmware.
constexpr const char* kOrganizationDevices =
    "SELECT d.id, d.serial, d.name, d.site_id, d.model, d.firmware_channel, d.firmware_version, "
    "d.tags FROM devices d WHERE d.organization_id = $1 "
    "AND d.status IN ('active', 'maintenance')";

constexpr const char* kRolloutUpdates =
    "SELECT d.id, d.serial, d.name, d.site_id, d.model, d.firmware_channel, d.firmware_version, "
    "d.tags, u.id, u.bundle_id, u.from_version, u.to_version, u.status, u.error, u.created_at, "
    "u.updated_at FROM device_updates u JOIN devices d ON d.id = u.device_id "
    "WHERE u.rollout_id = $1";

RolloutDevice deviceOf(const store::SqlRow& row) {
    return RolloutDevice{row.text(0), row.text(1), row.text(2), row.text(3), row.text(4),
                         row.text(5), row.text(6), "",          std::nullopt};
}

// Whether the device already runs `version` or a newer one.
bool runsAtLeast(const std::string& running, const std::string& version) {
    auto current = parseVersion(running);
    auto wanted = parseVersion(version);
    return current && wanted && compareVersions(*current, *wanted) >= 0;
}

Result<std::vector<RolloutDevice>> devicesWithUpdates(store::SqlSession& sql,
                                                      const std::string& rollout_id) {
    auto rows = sql.query(kRolloutUpdates, {rollout_id});
    if (!rows) {
        return rows.takeError();
    }
    std::vector<RolloutDevice> devices;
    for (const auto& row : *rows) {
        RolloutDevice device = deviceOf(row);
        device.update = store::DeviceUpdate{row.text(8),  row.text(0),     row.text(9),
                                            row.text(10), row.text(11),    row.text(12),
                                            row.text(13), row.integer(14), row.integer(15)};
        device.state = device.update->status;
        devices.push_back(std::move(device));
    }
    return devices;
}

}  // namespace

std::vector<std::string> jsonStrings(const std::string& text) {
    std::vector<std::string> out;
    json::error_code ec;
    json::value value = json::parse(text, ec);
    if (ec || !value.is_array()) {
        return out;
    }
    for (const auto& item : value.as_array()) {
        if (item.is_string()) {
            out.emplace_back(item.as_string());
        }
    }
    return out;
}

Rollout readRollout(const store::SqlRow& row) {
    Rollout r;
    r.id = row.text(0);
    r.organization_id = row.text(1);
    r.bundle_id = row.text(2);
    r.version = row.text(3);
    r.target.bundle_channel = row.text(4);
    r.target.bundle_models = jsonStrings(row.text(5));
    r.name = row.text(6);
    r.target.kind = row.text(7);
    r.target.percentage_bp = row.integer(8);
    r.target.device_ids = jsonStrings(row.text(9));
    r.target.tag = row.text(10);
    r.failure_threshold_bp = row.integer(11);
    r.failure_minimum = row.integer(12);
    r.status = row.text(13);
    r.paused_reason = row.optionalText(14);
    r.paused_at = row.optionalInteger(15);
    r.created_by = row.optionalText(16);
    r.created_at = row.integer(17);
    r.updated_at = row.integer(18);
    return r;
}

Result<std::optional<Rollout>> findRollout(store::SqlSession& sql, const std::string& id,
                                           bool lock) {
    std::string query = kRolloutSelect;
    query.append(" WHERE r.id = $1");
    if (lock && sql.dialect() == "postgresql") {
        query.append(" FOR UPDATE OF r");
    }
    auto rows = sql.query(query, {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<Rollout>{};
    }
    return std::optional<Rollout>{readRollout(rows->front())};
}

Result<std::vector<RolloutDevice>> rolloutDevices(store::SqlSession& sql, const Rollout& rollout) {
    auto devices = devicesWithUpdates(sql, rollout.id);
    if (!devices) {
        return devices.takeError();
    }
    std::unordered_map<std::string, bool> listed;
    for (const auto& device : *devices) {
        listed[device.device_id] = true;
    }
    auto rows = sql.query(kOrganizationDevices, {rollout.organization_id});
    if (!rows) {
        return rows.takeError();
    }
    for (const auto& row : *rows) {
        RolloutDevice device = deviceOf(row);
        if (listed.contains(device.device_id)) {
            continue;
        }
        DeviceFacts facts{device.device_id, device.model, device.channel, jsonStrings(row.text(7))};
        if (!reaches(rollout.target, facts)) {
            continue;
        }
        device.state =
            runsAtLeast(device.running_version, rollout.version) ? "up_to_date" : "pending";
        devices->push_back(std::move(device));
    }
    std::sort(devices->begin(), devices->end(),
              [](const RolloutDevice& a, const RolloutDevice& b) { return a.serial < b.serial; });
    return devices;
}

Progress progressOf(const std::vector<RolloutDevice>& devices) {
    Progress p;
    for (const auto& device : devices) {
        ++p.targeted;
        const std::string& s = device.state;
        std::int64_t& counter = s == "pending"       ? p.pending
                                : s == "up_to_date"  ? p.up_to_date
                                : s == "offered"     ? p.offered
                                : s == "downloading" ? p.downloading
                                : s == "installing"  ? p.installing
                                : s == "completed"   ? p.completed
                                : s == "failed"      ? p.failed
                                                     : p.rolled_back;
        ++counter;
    }
    return p;
}

json::object progressJson(const Progress& p) {
    return json::object{
        {"targeted", p.targeted},   {"pending", p.pending},         {"up_to_date", p.up_to_date},
        {"offered", p.offered},     {"downloading", p.downloading}, {"installing", p.installing},
        {"completed", p.completed}, {"failed", p.failed},           {"rolled_back", p.rolled_back}};
}

Result<FailureCount> failureCount(store::SqlSession& sql, const std::string& rollout_id) {
    auto rows = sql.query(
        "SELECT status, count(*) FROM device_updates WHERE rollout_id = $1 "
        "AND status IN ('completed', 'failed', 'rolled_back') GROUP BY status",
        {rollout_id});
    if (!rows) {
        return rows.takeError();
    }
    FailureCount count;
    for (const auto& row : *rows) {
        count.finished += row.integer(1);
        if (row.text(0) != "completed") {
            count.failures += row.integer(1);
        }
    }
    return count;
}

void publishRolloutProgress(live::Bus& bus, store::SqlSession& sql, const Rollout& rollout) {
    if (!bus.hasSubscribers(live::kDevicesChannel)) {
        return;
    }
    auto devices = rolloutDevices(sql, rollout);
    if (!devices) {
        log::warn("live: cannot read a rollout's progress",
                  {{"rollout_id", rollout.id}, {"error", devices.error().message}});
        return;
    }
    json::object data{
        {"rollout_id", rollout.id},
        {"organization_id", rollout.organization_id},
        {"bundle_id", rollout.bundle_id},
        {"version", rollout.version},
        {"status", rollout.status},
        {"paused_reason", rollout.paused_reason ? json::value(*rollout.paused_reason) : nullptr},
        {"progress", progressJson(progressOf(*devices))}};
    json::object message{
        {"type", "rollout.progress"}, {"channel", live::kDevicesChannel}, {"data", data}};
    bus.publish(live::kDevicesChannel, live::Scope{rollout.organization_id, {}, {}},
                json::serialize(message));
}

}  // namespace esocore::ota
