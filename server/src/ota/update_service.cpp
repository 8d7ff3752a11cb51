#include "ota/update_service.h"

#include <boost/json.hpp>
#include <unordered_map>

#include "accounts/audit_log.h"
#include "core/crypto.h"
#include "core/metrics.h"
#include "live/publish.h"
#include "ota/firmware.h"
#include "ota/semver.h"

namespace esocore::ota {

namespace json = boost::json;

struct UpdateService::ReportEffects {
    std::vector<json::object> events;
    std::optional<Rollout> rollout;
};

namespace {

void countReport(const std::string& status) {
    metrics::Registry::instance()
        .counter("esocore_ota_reports_total", "Device update reports that moved an update",
                 metrics::labels({{"status", status}}))
        .add();
}

void countEvent(const char* name, const char* help) {
    metrics::Registry::instance().counter(name, help).add();
}

constexpr const char* kBundleColumns =
    "id, version, channel, models, release_notes, size, sha256, signature, path, created_at";

constexpr const char* kUpdateColumns =
    "id, device_id, bundle_id, from_version, to_version, status, error, created_at, updated_at, "
    "rollout_id";

store::DeviceUpdate readUpdate(const store::SqlRow& row) {
    return store::DeviceUpdate{row.text(0), row.text(1), row.text(2),    row.text(3),   row.text(4),
                               row.text(5), row.text(6), row.integer(7), row.integer(8)};
}

bool started(const std::string& state) {
    return state == "downloading" || state == "installing";
}

json::value textOrNull(const std::string& text) {
    return text.empty() ? json::value(nullptr) : json::value(text);
}

// An event the server raises about firmware, stored like the events devices send, and the
// object the events API would answer for it (published once the transaction commits).
struct OtaEvent {
    std::string organization_id;
    const store::Device* device = nullptr;  // none for an event of a whole rollout
    std::string type;
    std::string severity;
    std::string description;
    json::object metadata;
};

Result<json::object> insertEvent(store::SqlSession& tx, const OtaEvent& event, Micros now) {
    std::string id = newUuid();
    store::SqlValue device_id = event.device ? store::SqlValue(event.device->id) : nullptr;
    auto inserted = tx.execute(
        "INSERT INTO events (id, organization_id, device_id, ts, received_at, type, category, "
        "severity, description, metadata, status) "
        "VALUES ($1, $2, $3, $4, $5, $6, 'ota', $7, $8, $9, 'active')",
        {id, store::textOrNull(event.organization_id), device_id, now, now, event.type,
         event.severity, event.description, json::serialize(event.metadata)});
    if (!inserted) {
        return inserted.takeError();
    }
    const store::Device* d = event.device;
    return json::object{
        {"id", id},
        {"organization_id", textOrNull(event.organization_id)},
        {"device_id", d ? json::value(d->id) : nullptr},
        {"device_serial", d ? json::value(d->serial) : nullptr},
        {"device_name", d ? json::value(d->name) : nullptr},
        {"site_id", d ? textOrNull(d->site_id) : nullptr},
        {"asset_ref", ""},
        {"site_ref", ""},
        {"ts", formatRfc3339Millis(now)},
        {"received_at", formatRfc3339Millis(now)},
        {"type", event.type},
        {"category", "ota"},
        {"severity", event.severity},
        {"description", event.description},
        {"duration_ms", nullptr},
        {"metadata", event.metadata},
        {"status", "active"},
        {"acknowledged_by", nullptr},
        {"acknowledged_at", nullptr},
        {"resolved_by", nullptr},
        {"resolved_at", nullptr},
    };
}

// A failed update leaves the device on its old firmware (medium); a rollback means the new
// firmware ran and had to be undone (high).
OtaEvent failureEvent(const store::Device& device, const store::DeviceUpdate& update,
                      const std::string& rollout_id) {
    bool failed = update.status == "failed";
    std::string description = "update to " + update.to_version +
                              (failed ? " failed" : " was rolled back") +
                              (update.error.empty() ? "" : ": " + update.error);
    json::object metadata{{"version", update.to_version},  {"from_version", update.from_version},
                          {"bundle_id", update.bundle_id}, {"rollout_id", textOrNull(rollout_id)},
                          {"update_id", update.id},        {"error", update.error}};
    return OtaEvent{device.organization_id,
                    &device,
                    failed ? "ota_failed" : "ota_rolled_back",
                    failed ? "medium" : "high",
                    std::move(description),
                    std::move(metadata)};
}

// One rollout that reaches the device with a bundle newer than what it runs.
struct Candidate {
    Rollout rollout;
    Version version;
    std::string update_id;  // the device's update in this rollout, if offered already
    std::string update_state;
};

// An update the device started comes first, then the newer version, then an offer already
// made; otherwise the older rollout (the rows come oldest first) keeps its place.
bool better(const Candidate& a, const Candidate& b) {
    if (started(a.update_state) != started(b.update_state)) {
        return started(a.update_state);
    }
    if (int c = compareVersions(a.version, b.version); c != 0) {
        return c > 0;
    }
    return !a.update_id.empty() && b.update_id.empty();
}

// The device's update (id, state) in each rollout that offered it one.
using UpdatesByRollout = std::unordered_map<std::string, std::pair<std::string, std::string>>;

std::optional<Candidate> bestCandidate(const std::vector<store::SqlRow>& rollouts,
                                       const UpdatesByRollout& updates, const store::Device& device,
                                       const std::string& running) {
    DeviceFacts facts{device.id, device.model, device.firmware_channel,
                      jsonStrings(device.tags_json)};
    auto current = parseVersion(running);
    std::optional<Candidate> best;
    for (const auto& row : rollouts) {
        Rollout rollout = readRollout(row);
        auto version = parseVersion(rollout.version);
        auto update = updates.find(rollout.id);
        bool has_update = update != updates.end();
        if (!version || !reaches(rollout.target, facts) ||
            (current && compareVersions(*version, *current) <= 0) ||
            (has_update && isFinished(update->second.second))) {
            continue;
        }
        Candidate candidate{std::move(rollout), std::move(*version),
                            has_update ? update->second.first : "",
                            has_update ? update->second.second : ""};
        if (!best || better(candidate, *best)) {
            best = std::move(candidate);
        }
    }
    return best;
}

Result<void> recordSystemAudit(store::SqlSession& tx, const Rollout& rollout,
                               const std::string& action, const std::string& summary, Micros now) {
    return accounts::recordAudit(tx, accounts::Actor{{}, rollout.organization_id, {}, {}},
                                 accounts::AuditEntry{action, "rollout", rollout.id, summary}, now);
}

}  // namespace

Result<std::optional<store::FirmwareBundle>> UpdateService::findBundle(const std::string& id) {
    std::string query = "SELECT ";
    query.append(kBundleColumns).append(" FROM firmware_bundles WHERE id = $1");
    auto rows = sql_.query(query, {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<store::FirmwareBundle>{};
    }
    const store::SqlRow& r = rows->front();
    return std::optional<store::FirmwareBundle>{
        store::FirmwareBundle{r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5),
                              r.text(6), r.text(7), r.text(8), r.integer(9)}};
}

Result<std::optional<Offer>> UpdateService::findOffer(const store::Device& device,
                                                      const std::string& running) {
    if (device.organization_id.empty()) {
        return std::optional<Offer>{};
    }
    std::string query = kRolloutSelect;
    query.append(
        " WHERE r.organization_id = $1 AND r.status = 'active' ORDER BY r.created_at, r.id");
    auto rows = sql_.query(query, {device.organization_id});
    auto history = sql_.query(
        "SELECT rollout_id, id, status FROM device_updates "
        "WHERE device_id = $1 AND rollout_id IS NOT NULL",
        {device.id});
    if (!rows || !history) {
        return rows ? history.takeError() : rows.takeError();
    }
    UpdatesByRollout updates;
    for (const auto& row : *history) {
        updates[row.text(0)] = {row.text(1), row.text(2)};
    }
    auto best = bestCandidate(*rows, updates, device, running);
    if (!best) {
        return std::optional<Offer>{};
    }
    auto bundle = findBundle(best->rollout.bundle_id);
    if (!bundle) {
        return bundle.takeError();
    }
    if (!*bundle) {
        return std::optional<Offer>{};
    }
    return std::optional<Offer>{Offer{std::move(**bundle), best->rollout.id, best->update_id}};
}

Result<std::optional<Offer>> UpdateService::offer(const store::Device& device,
                                                  const std::string& running) {
    auto found = findOffer(device, running);
    if (!found || !*found || !(*found)->update_id.empty()) {
        return found;
    }
    if (auto recorded = recordOffer(device, running, **found); !recorded) {
        return recorded.takeError();
    }
    return found;
}

Result<void> UpdateService::recordOffer(const store::Device& device, const std::string& running,
                                        Offer& offer) {
    Micros now = nowMicros();
    store::DeviceUpdate update{
        newUuid(), device.id, offer.bundle.id, running, offer.bundle.version, "offered", "",
        now,       now};
    bool created = false;
    auto recorded = sql_.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto inserted = tx.execute(
            "INSERT INTO device_updates (id, device_id, bundle_id, from_version, to_version, "
            "status, error, created_at, updated_at, rollout_id) "
            "VALUES ($1, $2, $3, $4, $5, 'offered', '', $6, $7, $8) "
            "ON CONFLICT (device_id, rollout_id) DO NOTHING",
            {update.id, device.id, offer.bundle.id, running, offer.bundle.version, now, now,
             offer.rollout_id});
        if (!inserted) {
            return inserted.takeError();
        }
        created = *inserted == 1;
        // An offer of another rollout that the device never started gives way to this one.
        auto withdrawn = tx.execute(
            "DELETE FROM device_updates WHERE device_id = $1 AND status = 'offered' "
            "AND rollout_id IS NOT NULL AND rollout_id <> $2",
            {device.id, offer.rollout_id});
        if (!withdrawn) {
            return withdrawn.takeError();
        }
        auto rows =
            tx.query("SELECT id FROM device_updates WHERE device_id = $1 AND rollout_id = $2",
                     {device.id, offer.rollout_id});
        if (!rows) {
            return rows.takeError();
        }
        if (rows->empty()) {
            return internalError("the offer of a rollout vanished while it was recorded");
        }
        offer.update_id = rows->front().text(0);
        return {};
    });
    if (!recorded) {
        return recorded;
    }
    if (created) {
        countEvent("esocore_ota_offers_total", "Updates offered to devices through rollouts");
        live::publishOtaProgress(bus_, live::factsOf(device), update);
        if (auto rollout = findRollout(sql_, offer.rollout_id); rollout && *rollout) {
            publishRolloutProgress(bus_, sql_, **rollout);
        }
    }
    return {};
}

Result<std::optional<std::pair<store::DeviceUpdate, std::string>>> UpdateService::findUpdate(
    store::SqlSession& sql, const store::Device& device, const std::string& version) {
    std::string query = "SELECT ";
    query.append(kUpdateColumns).append(" FROM device_updates WHERE device_id = $1");
    store::SqlParams params{device.id};
    if (!version.empty()) {
        query.append(" AND to_version = $2");
        params.emplace_back(canonicalVersion(version));
    }
    query.append(" ORDER BY created_at DESC, id LIMIT 1");
    if (sql.dialect() == "postgresql") {
        query.append(" FOR UPDATE");
    }
    auto rows = sql.query(query, params);
    if (!rows) {
        return rows.takeError();
    }
    using Found = std::optional<std::pair<store::DeviceUpdate, std::string>>;
    if (rows->empty()) {
        return Found{};
    }
    const store::SqlRow& row = rows->front();
    return Found{std::pair{readUpdate(row), row.text(9)}};
}

Result<store::DeviceUpdate> UpdateService::report(const store::Device& device,
                                                  const UpdateReport& report) {
    store::DeviceUpdate update;
    ReportEffects effects;
    bool changed = false;
    auto applied = sql_.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto found = findUpdate(tx, device, report.version);
        if (!found) {
            return found.takeError();
        }
        if (!*found) {
            return Error{409,
                         "no_update_in_progress",
                         "no update to " +
                             (report.version.empty() ? "any version" : report.version) +
                             " was offered to this device",
                         {}};
        }
        update = (*found)->first;
        if (!transitionAllowed(update.status, report.status)) {
            return Error{409,
                         "invalid_transition",
                         "cannot go from " + update.status + " to " + report.status,
                         {}};
        }
        if (update.status == report.status) {
            return {};  // a resent report
        }
        changed = true;
        update.status = report.status;
        update.error = report.error;
        update.updated_at = nowMicros();
        return applyReport(tx, device, update, (*found)->second, effects);
    });
    if (!applied) {
        return applied.takeError();
    }
    if (changed) {
        countReport(update.status);
        publish(device, update, effects);
    }
    return update;
}

Result<void> UpdateService::applyReport(store::SqlSession& tx, const store::Device& device,
                                        store::DeviceUpdate& update, const std::string& rollout_id,
                                        ReportEffects& effects) {
    auto saved = tx.execute(
        "UPDATE device_updates SET status = $1, error = $2, updated_at = $3 WHERE id = $4",
        {update.status, update.error, update.updated_at, update.id});
    if (!saved) {
        return saved.takeError();
    }
    if (update.status == "completed") {
        auto set =
            tx.execute("UPDATE devices SET firmware_version = $1, updated_at = $2 WHERE id = $3",
                       {update.to_version, update.updated_at, device.id});
        if (!set) {
            return set.takeError();
        }
    }
    if (update.status == "failed" || update.status == "rolled_back") {
        auto event = insertEvent(tx, failureEvent(device, update, rollout_id), update.updated_at);
        if (!event) {
            return event.takeError();
        }
        effects.events.push_back(std::move(*event));
    }
    if (rollout_id.empty()) {
        return {};
    }
    auto rollout = findRollout(tx, rollout_id, true);
    if (!rollout) {
        return rollout.takeError();
    }
    if (!*rollout) {
        return {};
    }
    effects.rollout = std::move(**rollout);
    return checkRollout(tx, *effects.rollout, update.status, effects);
}

// An active rollout pauses when its failures reach the threshold, and completes when its last
// update finished and nobody it reaches waits for an offer.
Result<void> UpdateService::checkRollout(store::SqlSession& tx, Rollout& rollout,
                                         const std::string& status, ReportEffects& effects) {
    if (rollout.status != "active" || !isFinished(status)) {
        return {};
    }
    if (status != "completed") {
        auto count = failureCount(tx, rollout.id);
        if (!count) {
            return count.takeError();
        }
        if (reachesThreshold(*count, rollout.failure_threshold_bp, rollout.failure_minimum)) {
            return pauseForFailures(tx, rollout, *count, effects);
        }
    }
    return completeIfDone(tx, rollout);
}

Result<void> UpdateService::pauseForFailures(store::SqlSession& tx, Rollout& rollout,
                                             const FailureCount& count, ReportEffects& effects) {
    Micros now = nowMicros();
    std::int64_t share_bp = count.failures * kBuckets / count.finished;
    std::string reason = std::to_string(count.failures) + " of " + std::to_string(count.finished) +
                         " finished updates failed or were rolled back (" + percentText(share_bp) +
                         " %), reaching the threshold of " +
                         percentText(rollout.failure_threshold_bp) + " % and at least " +
                         std::to_string(rollout.failure_minimum);
    auto paused = tx.execute(
        "UPDATE rollouts SET status = 'paused', paused_reason = $1, paused_at = $2, "
        "updated_at = $3 WHERE id = $4 AND status = 'active'",
        {reason, now, now, rollout.id});
    if (!paused) {
        return paused.takeError();
    }
    countEvent("esocore_ota_rollouts_paused_total", "Rollouts paused by their failure threshold");
    rollout.status = "paused";
    rollout.paused_reason = reason;
    rollout.paused_at = now;
    rollout.updated_at = now;
    json::object metadata{{"rollout_id", rollout.id},
                          {"bundle_id", rollout.bundle_id},
                          {"version", rollout.version},
                          {"failures", count.failures},
                          {"finished", count.finished},
                          {"failure_threshold_percent", percentText(rollout.failure_threshold_bp)},
                          {"failure_minimum", rollout.failure_minimum}};
    OtaEvent event{rollout.organization_id,
                   nullptr,
                   "rollout_paused",
                   "high",
                   "rollout of firmware " + rollout.version + " paused: " + reason,
                   std::move(metadata)};
    auto stored = insertEvent(tx, event, now);
    if (!stored) {
        return stored.takeError();
    }
    effects.events.push_back(std::move(*stored));
    return recordSystemAudit(tx, rollout, "rollout.paused", "paused automatically: " + reason, now);
}

Result<void> UpdateService::completeIfDone(store::SqlSession& tx, Rollout& rollout) {
    if (rollout.target.kind == "staged" && rollout.target.percentage_bp < kBuckets) {
        return {};
    }
    auto open = tx.query(
        "SELECT count(*) FROM device_updates WHERE rollout_id = $1 "
        "AND status IN ('offered', 'downloading', 'installing')",
        {rollout.id});
    if (!open) {
        return open.takeError();
    }
    if (open->front().integer(0) > 0) {
        return {};
    }
    auto devices = rolloutDevices(tx, rollout);
    if (!devices) {
        return devices.takeError();
    }
    Progress progress = progressOf(*devices);
    if (progress.pending > 0 || progress.targeted == 0) {
        return {};
    }
    Micros now = nowMicros();
    auto completed = tx.execute(
        "UPDATE rollouts SET status = 'completed', updated_at = $1 WHERE id = $2 "
        "AND status = 'active'",
        {now, rollout.id});
    if (!completed) {
        return completed.takeError();
    }
    rollout.status = "completed";
    rollout.updated_at = now;
    return recordSystemAudit(
        tx, rollout, "rollout.completed",
        "every device it reaches finished: " + std::to_string(progress.completed) + " completed, " +
            std::to_string(progress.failed + progress.rolled_back) + " failed",
        now);
}

void UpdateService::publish(const store::Device& device, const store::DeviceUpdate& update,
                            const ReportEffects& effects) {
    live::publishOtaProgress(bus_, live::factsOf(device), update);
    for (const auto& event : effects.events) {
        live::publishEvent(bus_, "event.created", event);
    }
    if (effects.rollout) {
        publishRolloutProgress(bus_, sql_, *effects.rollout);
    }
}

}  // namespace esocore::ota
