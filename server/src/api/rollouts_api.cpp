#include "api/rollouts_api.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <set>

#include "api/filters.h"
#include "api/json_values.h"
#include "api/list_filters.h"
#include "api/pagination.h"
#include "api/request_body.h"
#include "core/crypto.h"
#include "http/response.h"
#include "ota/rollout_rules.h"
#include "ota/rollouts.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

// Rollouts belong to one organization: its members with firmware.read see them, those with
// rollout.manage create and steer them. A rollout of another organization answers 404 like a
// missing one.

namespace {

constexpr std::string_view kWhat = "rollout";
constexpr std::size_t kMaxDevices = 10'000;
constexpr std::int64_t kDefaultThresholdBp = 1000;  // 10 %
constexpr std::int64_t kDefaultMinimum = 3;
constexpr std::array<std::string_view, 4> kStatuses{"active", "paused", "completed", "cancelled"};
constexpr std::array<std::string_view, 3> kKinds{"immediate", "staged", "manual"};
constexpr std::array<std::string_view, 8> kDeviceStates{"pending",     "up_to_date", "offered",
                                                        "downloading", "installing", "completed",
                                                        "failed",      "rolled_back"};

json::value percentValue(std::int64_t basis_points) {
    if (basis_points % 100 == 0) {
        return json::value(basis_points / 100);
    }
    return json::value(static_cast<double>(basis_points) / 100.0);
}

json::object rolloutJson(const ota::Rollout& r, const ota::Progress& progress) {
    json::array device_ids;
    for (const auto& id : r.target.device_ids) {
        device_ids.emplace_back(id);
    }
    return json::object{
        {"id", r.id},
        {"organization_id", r.organization_id},
        {"bundle_id", r.bundle_id},
        {"version", r.version},
        {"channel", r.target.bundle_channel},
        {"name", r.name},
        {"kind", r.target.kind},
        {"percentage", percentValue(r.target.percentage_bp)},
        {"device_ids", std::move(device_ids)},
        {"tag", r.target.tag.empty() ? json::value(nullptr) : json::value(r.target.tag)},
        {"failure_threshold_percent", percentValue(r.failure_threshold_bp)},
        {"failure_minimum", r.failure_minimum},
        {"status", r.status},
        {"paused_reason", r.paused_reason ? json::value(*r.paused_reason) : nullptr},
        {"paused_at", timeOrNull(r.paused_at)},
        {"created_by", r.created_by ? json::value(*r.created_by) : nullptr},
        {"created_at", formatRfc3339Millis(r.created_at)},
        {"updated_at", formatRfc3339Millis(r.updated_at)},
        {"progress", ota::progressJson(progress)},
    };
}

Result<json::object> rolloutWithProgress(store::SqlSession& sql, const ota::Rollout& rollout) {
    auto devices = ota::rolloutDevices(sql, rollout);
    if (!devices) {
        return devices.takeError();
    }
    return rolloutJson(rollout, ota::progressOf(*devices));
}

Response answerRollout(const ApiContext& ctx, int status, const std::string& id) {
    auto rollout = ota::findRollout(ctx.sql, id);
    if (!rollout) {
        return errorResponse(rollout.error());
    }
    if (!*rollout) {
        return errorResponse(notFound(kWhat));
    }
    auto body = rolloutWithProgress(ctx.sql, **rollout);
    if (!body) {
        return errorResponse(body.error());
    }
    ota::publishRolloutProgress(ctx.live, ctx.sql, **rollout);
    return jsonResponse(status, *body);
}

// The rollout named by the path when the caller may perform `action` on it; 404 when it is
// missing, malformed or another organization's.
Result<ota::Rollout> visibleRollout(const ApiContext& ctx, const Request& request,
                                    const Principal& principal, auth::Action action) {
    std::string id = pathId(request);
    if (id.empty()) {
        return notFound(kWhat);
    }
    auto rollout = ota::findRollout(ctx.sql, id);
    if (!rollout) {
        return rollout.takeError();
    }
    if (!*rollout) {
        return notFound(kWhat);
    }
    if (auto allowed =
            require(principal, action, Target{(*rollout)->organization_id, {}, {}}, kWhat);
        !allowed) {
        return allowed.takeError();
    }
    return std::move(**rollout);
}

Error rolloutClosed(const ota::Rollout& rollout) {
    return Error{
        409, "rollout_closed", "this rollout is " + rollout.status + ": it cannot change", {}};
}

// ---- Targeting fields of a create or update ------------------------------------------------

struct TargetFields {
    std::optional<std::string> name;
    std::optional<std::int64_t> percentage_bp;
    std::optional<std::vector<std::string>> device_ids;
    std::optional<std::string> tag;  // empty: cleared
    std::optional<std::int64_t> threshold_bp;
    std::optional<std::int64_t> minimum;
};

std::optional<std::int64_t> percentField(BodyReader& body, std::string_view key, bool positive) {
    auto number = body.number(key);
    if (!number) {
        return std::nullopt;
    }
    auto bp = ota::basisPoints(*number);
    if (!bp || (positive && *bp == 0)) {
        body.fail(std::string(key), positive ? "a percentage above 0, at most 100, in hundredths"
                                             : "a percentage from 0 to 100, in hundredths");
        return std::nullopt;
    }
    return bp;
}

std::optional<std::vector<std::string>> deviceIdsField(BodyReader& body,
                                                       const json::object& object) {
    if (!body.stringArray("device_ids")) {
        return std::nullopt;
    }
    std::set<std::string> ids;
    for (const auto& item : object.at("device_ids").as_array()) {
        std::string id = lowercase(std::string(item.as_string()));
        if (!isUuid(id)) {
            body.fail("device_ids", "must be device ids (UUIDs)");
            return std::nullopt;
        }
        ids.insert(std::move(id));
    }
    if (ids.size() > kMaxDevices) {
        body.fail("device_ids", "at most 10000 devices");
        return std::nullopt;
    }
    return std::vector<std::string>(ids.begin(), ids.end());
}

TargetFields readTargetFields(BodyReader& body, const json::object& object) {
    TargetFields fields;
    fields.name = body.text("name", {.max_length = 200});
    fields.percentage_bp = percentField(body, "percentage", false);
    fields.device_ids = deviceIdsField(body, object);
    fields.tag = body.text("tag", {.max_length = 64, .allow_empty = false});
    if (!fields.tag && body.isNull("tag")) {
        fields.tag = "";
    }
    fields.threshold_bp = percentField(body, "failure_threshold_percent", true);
    fields.minimum = body.integer("failure_minimum", {.min = 1, .max = 1'000'000});
    return fields;
}

// The fields that only some kinds have, and what a manual rollout must name.
void checkKind(BodyReader& body, const std::string& kind, const TargetFields& fields,
               bool has_devices, bool has_tag) {
    if (kind != "staged" && fields.percentage_bp) {
        body.fail("percentage", "only staged rollouts have a percentage");
    }
    if (kind != "manual" && (fields.device_ids || (fields.tag && !fields.tag->empty()))) {
        body.fail(fields.device_ids ? "device_ids" : "tag",
                  "only manual rollouts name devices or a tag");
    }
    if (kind == "manual" && !has_devices && !has_tag) {
        body.fail("device_ids", "a manual rollout names devices, a tag, or both");
    }
}

// 400 naming `device_ids` when one of them is not a device of the organization.
Result<void> checkDevices(store::SqlSession& sql, const std::string& organization_id,
                          const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
        auto rows = sql.query("SELECT count(*) FROM devices WHERE id = $1 AND organization_id = $2",
                              {id, organization_id});
        if (!rows) {
            return rows.takeError();
        }
        if (rows->front().integer(0) == 0) {
            return invalidField("device_ids", "not a device of this organization: " + id);
        }
    }
    return {};
}

std::string idsJson(const std::vector<std::string>& ids) {
    json::array array;
    for (const auto& id : ids) {
        array.emplace_back(id);
    }
    return json::serialize(array);
}

// ---- List, create, detail ----------------------------------------------------------------

Response listRollouts(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto page = Page::parse(request,
                            {{"created_at", "r.created_at", true},
                             {"updated_at", "r.updated_at", true},
                             {"name", "r.name"}},
                            "-created_at", "r.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string where =
        allowedRows(principal, auth::Action::firmware_read, {"r.organization_id", "", ""}, params);
    for (const char* name : {"organization_id", "bundle_id"}) {
        auto id = idParam(request, name);
        if (!id) {
            return errorResponse(id.error());
        }
        if (*id) {
            where.append(" AND r.").append(name).append(" = ").append(addParam(params, **id));
        }
    }
    auto status = choiceFilter(request, "status", "r.status", kStatuses, params, true);
    auto kind = choiceFilter(request, "kind", "r.kind", kKinds, params, true);
    if (!status || !kind) {
        return errorResponse(status ? kind.error() : status.error());
    }
    where.append(*status).append(*kind);
    if (auto search = request.queryParam("search"); search && !search->empty()) {
        where.append(" AND ").append(containsText({"r.name", "b.version"}, *search, params));
    }
    std::string query = ota::kRolloutSelect;
    query.append(" WHERE ").append(where).append(page->where(params)).append(page->orderAndLimit());
    auto rows = ctx.sql.query(query, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (std::size_t i = 0; i < rows->size() && i < static_cast<std::size_t>(page->limit()); ++i) {
        auto item = rolloutWithProgress(ctx.sql, ota::readRollout((*rows)[i]));
        if (!item) {
            return errorResponse(item.error());
        }
        items.push_back(std::move(*item));
    }
    // The sort value is one of the rollout's own columns: name 6, created_at 17, updated_at 18.
    const std::string& sort = page->sortColumn();
    std::size_t sort_index = sort == "r.name" ? 6 : sort == "r.updated_at" ? 18 : 17;
    return jsonResponse(200, page->answer(std::move(items), *rows, sort_index, 0));
}

struct NewRollout {
    std::string organization_id;
    std::string bundle_id;
    std::string kind;
    TargetFields fields;
};

Result<NewRollout> readNewRollout(const ApiContext& ctx, const Request& request,
                                  const Principal& principal) {
    auto object = readObject(request);
    if (!object) {
        return object.takeError();
    }
    BodyReader body(*object);
    auto requested = bodyId(body, "organization_id");
    auto bundle_id = bodyId(body, "bundle_id", true);
    auto kind = body.choice("kind", {"immediate", "staged", "manual"}, true);
    TargetFields fields = readTargetFields(body, *object);
    body.rejectUnknown({"organization_id", "bundle_id", "kind", "name", "percentage", "device_ids",
                        "tag", "failure_threshold_percent", "failure_minimum"});
    if (kind) {
        checkKind(body, *kind, fields, fields.device_ids && !fields.device_ids->empty(),
                  fields.tag && !fields.tag->empty());
        if (*kind == "staged" && !fields.percentage_bp && !body.has("percentage")) {
            body.fail("percentage", "required");
        }
    }
    if (bundle_id) {
        auto bundle =
            ctx.sql.query("SELECT count(*) FROM firmware_bundles WHERE id = $1", {*bundle_id});
        if (!bundle) {
            return bundle.takeError();
        }
        if (bundle->front().integer(0) == 0) {
            body.fail("bundle_id", "no such firmware bundle");
        }
    }
    if (auto checked = body.result(); !checked) {
        return checked.takeError();
    }
    auto organization = targetOrganization(principal, auth::Action::rollout_manage, requested);
    if (!organization) {
        return organization.takeError();
    }
    if (fields.device_ids) {
        if (auto known = checkDevices(ctx.sql, *organization, *fields.device_ids); !known) {
            return known.takeError();
        }
    }
    return NewRollout{*organization, *bundle_id, *kind, std::move(fields)};
}

Result<void> insertRollout(store::SqlSession& tx, const std::string& id, const NewRollout& r,
                           const Principal& principal) {
    auto open = tx.query(
        "SELECT count(*) FROM rollouts WHERE organization_id = $1 AND bundle_id = $2 "
        "AND status IN ('active', 'paused')",
        {r.organization_id, r.bundle_id});
    if (!open) {
        return open.takeError();
    }
    if (open->front().integer(0) > 0) {
        return Error{409,
                     "rollout_exists",
                     "an active or paused rollout of this bundle exists in the organization",
                     {{"bundle_id", "already being rolled out"}}};
    }
    Micros now = nowMicros();
    const TargetFields& f = r.fields;
    auto inserted = tx.execute(
        "INSERT INTO rollouts (id, organization_id, bundle_id, name, kind, percentage_bp, "
        "device_ids, tag, failure_threshold_bp, failure_minimum, status, created_by, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12, $13)",
        {id, r.organization_id, r.bundle_id, f.name.value_or(""), r.kind,
         r.kind == "staged" ? f.percentage_bp.value_or(0) : ota::kBuckets,
         idsJson(f.device_ids.value_or(std::vector<std::string>{})),
         store::textOrNull(f.tag.value_or("")), f.threshold_bp.value_or(kDefaultThresholdBp),
         f.minimum.value_or(kDefaultMinimum), principal.user.id, now, now});
    if (!inserted) {
        return inserted.takeError();
    }
    return {};
}

Response createRollout(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto rollout = readNewRollout(ctx, request, principal);
    if (!rollout) {
        return errorResponse(rollout.error());
    }
    std::string id = newUuid();
    auto made = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto inserted = insertRollout(tx, id, *rollout, principal); !inserted) {
            return inserted;
        }
        auto created = ota::findRollout(tx, id);
        if (!created || !*created) {
            return created ? internalError("the new rollout vanished") : created.takeError();
        }
        std::string summary = rollout->kind + " rollout of firmware " + (*created)->version;
        if (rollout->kind == "staged") {
            summary.append(" to " + ota::percentText((*created)->target.percentage_bp) + " %");
        }
        return audit(tx, principal, request, rollout->organization_id,
                     {"rollout.created", "rollout", id, summary});
    });
    if (!made) {
        return errorResponse(made.error());
    }
    return answerRollout(ctx, 201, id);
}

Response getRollout(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto rollout = visibleRollout(ctx, request, principal, auth::Action::firmware_read);
    if (!rollout) {
        return errorResponse(rollout.error());
    }
    auto body = rolloutWithProgress(ctx.sql, *rollout);
    if (!body) {
        return errorResponse(body.error());
    }
    return jsonResponse(200, *body);
}

// ---- Update --------------------------------------------------------------------------------

Result<TargetFields> readChanges(const ApiContext& ctx, const Request& request,
                                 const ota::Rollout& rollout) {
    auto object = readObject(request);
    if (!object) {
        return object.takeError();
    }
    BodyReader body(*object);
    TargetFields fields = readTargetFields(body, *object);
    body.rejectUnknown({"name", "percentage", "device_ids", "tag", "failure_threshold_percent",
                        "failure_minimum"});
    bool has_devices =
        fields.device_ids ? !fields.device_ids->empty() : !rollout.target.device_ids.empty();
    bool has_tag = fields.tag ? !fields.tag->empty() : !rollout.target.tag.empty();
    checkKind(body, rollout.target.kind, fields, has_devices, has_tag);
    if (auto checked = body.result(); !checked) {
        return checked.takeError();
    }
    if (fields.device_ids) {
        if (auto known = checkDevices(ctx.sql, rollout.organization_id, *fields.device_ids);
            !known) {
            return known.takeError();
        }
    }
    return fields;
}

std::string updateSummary(const ota::Rollout& before, const TargetFields& f) {
    std::string summary = "rollout of firmware " + before.version + ":";
    if (f.percentage_bp && *f.percentage_bp != before.target.percentage_bp) {
        summary.append(" percentage " + ota::percentText(before.target.percentage_bp) + " % -> " +
                       ota::percentText(*f.percentage_bp) + " %;");
    }
    if (f.name) {
        summary.append(" name;");
    }
    if (f.device_ids || f.tag) {
        summary.append(" devices or tag;");
    }
    if (f.threshold_bp || f.minimum) {
        summary.append(" failure threshold;");
    }
    summary.pop_back();
    return summary;
}

Result<void> updateRollout(store::SqlSession& tx, const ota::Rollout& r, const TargetFields& f) {
    auto updated = tx.execute(
        "UPDATE rollouts SET name = $1, percentage_bp = $2, device_ids = $3, tag = $4, "
        "failure_threshold_bp = $5, failure_minimum = $6, updated_at = $7 WHERE id = $8",
        {f.name.value_or(r.name), f.percentage_bp.value_or(r.target.percentage_bp),
         idsJson(f.device_ids.value_or(r.target.device_ids)),
         store::textOrNull(f.tag.value_or(r.target.tag)),
         f.threshold_bp.value_or(r.failure_threshold_bp), f.minimum.value_or(r.failure_minimum),
         nowMicros(), r.id});
    if (!updated) {
        return updated.takeError();
    }
    return {};
}

Response patchRollout(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto rollout = visibleRollout(ctx, request, principal, auth::Action::rollout_manage);
    if (!rollout) {
        return errorResponse(rollout.error());
    }
    auto fields = readChanges(ctx, request, *rollout);
    if (!fields) {
        return errorResponse(fields.error());
    }
    auto changed = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto current = ota::findRollout(tx, rollout->id, true);
        if (!current || !*current) {
            return current ? notFound(kWhat) : current.takeError();
        }
        if (!(*current)->open()) {
            return rolloutClosed(**current);
        }
        if (auto updated = updateRollout(tx, **current, *fields); !updated) {
            return updated;
        }
        return audit(
            tx, principal, request, rollout->organization_id,
            {"rollout.updated", "rollout", rollout->id, updateSummary(**current, *fields)});
    });
    if (!changed) {
        return errorResponse(changed.error());
    }
    return answerRollout(ctx, 200, rollout->id);
}

// ---- Pause, resume, cancel ---------------------------------------------------------------

// One change of a rollout's status: from the states it applies to, to `to`. Asking for the
// state the rollout is already in changes nothing.
struct StatusChange {
    const char* to;
    std::vector<std::string_view> from;
    const char* action;  // audit action
};

Result<std::optional<std::string>> pauseReason(const Request& request, const Principal& principal,
                                               const StatusChange& change) {
    auto object = readObject(request);
    if (!object) {
        return object.takeError();
    }
    BodyReader body(*object);
    bool pausing = std::string_view(change.to) == "paused";
    auto reason = pausing ? body.text("reason", {.max_length = 500}) : std::nullopt;
    if (pausing) {
        body.rejectUnknown({"reason"});
    } else {
        body.rejectUnknown({});
    }
    if (auto checked = body.result(); !checked) {
        return checked.takeError();
    }
    if (!pausing) {
        return std::optional<std::string>{};
    }
    return std::optional<std::string>{
        reason && !reason->empty() ? *reason : "paused by " + principal.user.email};
}

Result<void> applyStatus(store::SqlSession& tx, const ota::Rollout& rollout,
                         const StatusChange& change, const std::optional<std::string>& reason) {
    Micros now = nowMicros();
    bool pausing = std::string_view(change.to) == "paused";
    auto updated = tx.execute(
        "UPDATE rollouts SET status = $1, paused_reason = $2, paused_at = $3, updated_at = $4 "
        "WHERE id = $5",
        {std::string(change.to), pausing ? store::textOrNull(reason.value_or("")) : nullptr,
         pausing ? store::SqlValue(now) : nullptr, now, rollout.id});
    if (!updated) {
        return updated.takeError();
    }
    return {};
}

Response changeStatus(const ApiContext& ctx, const Request& request, const Principal& principal,
                      const StatusChange& change) {
    auto rollout = visibleRollout(ctx, request, principal, auth::Action::rollout_manage);
    if (!rollout) {
        return errorResponse(rollout.error());
    }
    auto reason = pauseReason(request, principal, change);
    if (!reason) {
        return errorResponse(reason.error());
    }
    auto changed = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto current = ota::findRollout(tx, rollout->id, true);
        if (!current || !*current) {
            return current ? notFound(kWhat) : current.takeError();
        }
        const std::string& status = (*current)->status;
        if (status == change.to) {
            return {};
        }
        if (std::find(change.from.begin(), change.from.end(), status) == change.from.end()) {
            return rolloutClosed(**current);
        }
        if (auto applied = applyStatus(tx, **current, change, *reason); !applied) {
            return applied;
        }
        std::string summary = "rollout of firmware " + (*current)->version + ": " + status +
                              " -> " + change.to + (*reason ? " (" + **reason + ")" : "");
        return audit(tx, principal, request, rollout->organization_id,
                     {change.action, "rollout", rollout->id, summary});
    });
    if (!changed) {
        return errorResponse(changed.error());
    }
    return answerRollout(ctx, 200, rollout->id);
}

Response pauseRollout(const ApiContext& ctx, const Request& request, const Principal& principal) {
    return changeStatus(ctx, request, principal, {"paused", {"active"}, "rollout.paused"});
}

Response resumeRollout(const ApiContext& ctx, const Request& request, const Principal& principal) {
    return changeStatus(ctx, request, principal, {"active", {"paused"}, "rollout.resumed"});
}

Response cancelRollout(const ApiContext& ctx, const Request& request, const Principal& principal) {
    return changeStatus(ctx, request, principal,
                        {"cancelled", {"active", "paused"}, "rollout.cancelled"});
}

// ---- Devices -----------------------------------------------------------------------------

json::object rolloutDeviceJson(const ota::RolloutDevice& d) {
    const auto& u = d.update;
    auto text = [](const std::string& value) {
        return value.empty() ? json::value(nullptr) : json::value(value);
    };
    return json::object{
        {"device_id", d.device_id},
        {"serial", d.serial},
        {"name", d.name},
        {"site_id", text(d.site_id)},
        {"model", d.model},
        {"channel", d.channel},
        {"running_version", text(d.running_version)},
        {"state", d.state},
        {"update_id", u ? json::value(u->id) : nullptr},
        {"from_version", u ? text(u->from_version) : nullptr},
        {"to_version", u ? json::value(u->to_version) : nullptr},
        {"error", u ? text(u->error) : nullptr},
        {"offered_at", u ? json::value(formatRfc3339Millis(u->created_at)) : nullptr},
        {"updated_at", u ? json::value(formatRfc3339Millis(u->updated_at)) : nullptr},
    };
}

// `?status=` (comma-separated states) and `?search=` (serial or name, ignoring case).
Result<std::vector<ota::RolloutDevice>> filterDevices(const Request& request,
                                                      std::vector<ota::RolloutDevice> devices) {
    std::vector<std::string> states;
    if (auto status = request.queryParam("status")) {
        std::string_view rest = *status;
        while (true) {
            std::size_t comma = rest.find(',');
            std::string_view state = rest.substr(0, comma);
            if (std::find(kDeviceStates.begin(), kDeviceStates.end(), state) ==
                kDeviceStates.end()) {
                return invalidParameter("status",
                                        "comma-separated values of: pending, up_to_date, offered, "
                                        "downloading, installing, completed, failed, rolled_back");
            }
            states.emplace_back(state);
            if (comma == std::string_view::npos) {
                break;
            }
            rest.remove_prefix(comma + 1);
        }
    }
    std::string term = lowercase(request.queryParam("search").value_or(""));
    std::erase_if(devices, [&](const ota::RolloutDevice& d) {
        bool state_ok =
            states.empty() || std::find(states.begin(), states.end(), d.state) != states.end();
        bool term_ok = term.empty() || lowercase(d.serial).find(term) != std::string::npos ||
                       lowercase(d.name).find(term) != std::string::npos;
        return !state_ok || !term_ok;
    });
    return devices;
}

// Devices are computed, not rows of one table: they page by serial (unique) with the last
// serial of a page, base64url-encoded, as the cursor.
Response listRolloutDevices(const ApiContext& ctx, const Request& request,
                            const Principal& principal) {
    auto rollout = visibleRollout(ctx, request, principal, auth::Action::firmware_read);
    if (!rollout) {
        return errorResponse(rollout.error());
    }
    auto limit = integerParam(request, "limit");
    if (!limit) {
        return errorResponse(limit.error());
    }
    std::int64_t size = limit->value_or(Page::kDefaultLimit);
    if (size < 1 || size > Page::kMaxLimit) {
        return errorResponse(invalidParameter("limit", "from 1 to 500"));
    }
    std::optional<std::string> after;
    if (auto cursor = request.queryParam("cursor")) {
        after = base64UrlDecode(*cursor);
        if (!after) {
            return errorResponse(400, "invalid_cursor", "this cursor was not handed out here");
        }
    }
    auto devices = ota::rolloutDevices(ctx.sql, *rollout);
    if (!devices) {
        return errorResponse(devices.error());
    }
    auto filtered = filterDevices(request, std::move(*devices));
    if (!filtered) {
        return errorResponse(filtered.error());
    }
    auto first = std::find_if(filtered->begin(), filtered->end(), [&](const ota::RolloutDevice& d) {
        return !after || d.serial > *after;
    });
    json::array results;
    std::string last;
    for (auto it = first; it != filtered->end() && std::ssize(results) < size; ++it) {
        results.push_back(rolloutDeviceJson(*it));
        last = it->serial;
    }
    bool more = std::distance(first, filtered->end()) > size;
    json::value next = more ? json::value(base64UrlEncode(last)) : json::value(nullptr);
    return jsonResponse(200, json::object{{"results", std::move(results)}, {"next", next}});
}

}  // namespace

void addRolloutRoutes(http::Router& router, const ApiContext& context) {
    const ApiContext* ctx = &context;
    auto route = [&](const char* method, const char* pattern,
                     Response (*handler)(const ApiContext&, const Request&, const Principal&)) {
        addManaged(router, context.authenticator, method, pattern,
                   [ctx, handler](const Request& request, const Principal& principal) {
                       return handler(*ctx, request, principal);
                   });
    };
    route("GET", "/api/rollouts", listRollouts);
    route("POST", "/api/rollouts", createRollout);
    route("GET", "/api/rollouts/{id}", getRollout);
    route("PATCH", "/api/rollouts/{id}", patchRollout);
    route("POST", "/api/rollouts/{id}/pause", pauseRollout);
    route("POST", "/api/rollouts/{id}/resume", resumeRollout);
    route("POST", "/api/rollouts/{id}/cancel", cancelRollout);
    route("GET", "/api/rollouts/{id}/devices", listRolloutDevices);
}

}  // namespace esocore::api
