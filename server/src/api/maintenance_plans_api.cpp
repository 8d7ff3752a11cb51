#include "api/maintenance_plans_api.h"

#include <boost/json.hpp>

#include "api/area_routes.h"
#include "api/json_values.h"
#include "api/list_filters.h"
#include "api/pagination.h"
#include "api/request_body.h"
#include "core/crypto.h"
#include "http/response.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr Micros kDay = 86'400'000'000;
constexpr std::int64_t kMaxEveryDays = 36'500;
// A completion may be stamped this far ahead of the server's clock (clients' clocks drift).
constexpr Micros kClockSkew = 120'000'000;

constexpr const char* kPlanColumns =
    "p.id, p.organization_id, p.asset_id, p.name, p.every_cycles, p.every_days, p.last_done_at, "
    "p.last_done_cycles, p.active, p.created_at, p.updated_at";

// A plan's row (kPlanColumns) and the asset it belongs to.
struct Plan {
    AssetScope asset;
    store::SqlRow row;
};

// The plan as answered, with how far it is from being due at `now`: cycles and days count
// from its last completion, or from its creation when it was never done.
Result<json::object> planJson(store::SqlSession& sql, const Plan& plan, Micros now) {
    const store::SqlRow& row = plan.row;
    auto every_cycles = row.optionalInteger(4);
    auto every_days = row.optionalInteger(5);
    auto last_done_at = row.optionalInteger(6);
    bool active = row.integer(8) != 0;
    Micros since = last_done_at.value_or(row.integer(9));
    auto cycles = countCycles(sql, plan.asset, since);
    if (!cycles) {
        return cycles.takeError();
    }
    std::optional<Micros> due_at;
    if (every_days) {
        due_at = since + *every_days * kDay;
    }
    json::value cycles_remaining = nullptr;
    if (every_cycles) {
        cycles_remaining = std::max<std::int64_t>(0, *every_cycles - *cycles);
    }
    bool due = active && ((every_cycles && *cycles >= *every_cycles) || (due_at && now >= *due_at));
    return json::object{
        {"id", row.text(0)},
        {"organization_id", row.text(1)},
        {"asset_id", row.text(2)},
        {"name", row.text(3)},
        {"every_cycles", integerOrNull(row, 4)},
        {"every_days", integerOrNull(row, 5)},
        {"last_done_at", timeOrNull(last_done_at)},
        {"last_done_cycles", row.integer(7)},
        {"active", active},
        {"created_at", formatRfc3339Millis(row.integer(9))},
        {"updated_at", formatRfc3339Millis(row.integer(10))},
        {"cycles_since_done", *cycles},
        {"days_since_done", std::max<Micros>(0, now - since) / kDay},
        {"cycles_remaining", std::move(cycles_remaining)},
        {"due_at", timeOrNull(due_at)},
        {"due", due},
    };
}

Result<std::optional<Plan>> findPlan(store::SqlSession& sql, const std::string& id) {
    auto rows = sql.query(std::string("SELECT ") + kPlanColumns +
                              ", a.site_id, a.external_id, s.time_zone FROM maintenance_plans p "
                              "JOIN assets a ON a.id = p.asset_id "
                              "LEFT JOIN sites s ON s.id = a.site_id WHERE p.id = $1",
                          {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<Plan>{};
    }
    const store::SqlRow& row = rows->front();
    AssetScope asset{row.text(2), row.text(1), row.text(11), row.text(12),
                     row.optionalText(13).value_or("UTC")};
    return std::optional<Plan>{Plan{std::move(asset), row}};
}

// The plan with that id when the caller may perform `action` on its asset; 404 as for a
// missing plan otherwise.
Result<Plan> loadPlan(store::SqlSession& sql, const Principal& principal, std::string_view id,
                      auth::Action action) {
    std::string plan_id = canonicalId(id);
    if (plan_id.empty()) {
        return notFound("maintenance plan");
    }
    auto plan = findPlan(sql, plan_id);
    if (!plan) {
        return plan.takeError();
    }
    if (!*plan) {
        return notFound("maintenance plan");
    }
    if (auto allowed = require(principal, action, (*plan)->asset.target(), "maintenance plan");
        !allowed) {
        return allowed.takeError();
    }
    return std::move(**plan);
}

Response answerPlan(store::SqlSession& sql, const std::string& id, int status) {
    auto plan = findPlan(sql, id);
    if (!plan) {
        return errorResponse(plan.error());
    }
    if (!*plan) {
        return errorResponse(notFound("maintenance plan"));  // deleted meanwhile
    }
    auto answer = planJson(sql, **plan, nowMicros());
    if (!answer) {
        return errorResponse(answer.error());
    }
    return jsonResponse(status, *answer);
}

// The schedule fields of a body. Each is optional here; the caller checks that one remains.
struct Schedule {
    std::optional<std::string> name;
    std::optional<std::optional<std::int64_t>> every_cycles;  // nullopt inside: cleared
    std::optional<std::optional<std::int64_t>> every_days;
    std::optional<bool> active;
};

Schedule readSchedule(BodyReader& body, bool creating) {
    Schedule schedule;
    schedule.name =
        body.text("name", {.required = creating, .max_length = 200, .allow_empty = false});
    if (body.isNull("every_cycles")) {
        schedule.every_cycles.emplace(std::nullopt);
    } else if (auto every = body.integer("every_cycles", {.min = 1})) {
        schedule.every_cycles = every;
    }
    if (body.isNull("every_days")) {
        schedule.every_days.emplace(std::nullopt);
    } else if (auto every = body.integer("every_days", {.min = 1, .max = kMaxEveryDays})) {
        schedule.every_days = every;
    }
    schedule.active = body.boolean("active");
    if (body.isNull("name") || body.isNull("active")) {
        body.fail(body.isNull("name") ? "name" : "active", "must not be null");
    }
    return schedule;
}

void requireInterval(BodyReader& body, bool every_cycles, bool every_days) {
    if (!every_cycles && !every_days) {
        body.fail("every_cycles", "set every_cycles, every_days or both");
    }
}

// A completion time from the body: not in the future.
std::optional<Micros> readDoneAt(BodyReader& body, std::string_view key, Micros now) {
    auto done_at = body.time(key);
    if (done_at && *done_at > now + kClockSkew) {
        body.fail(std::string(key), "must not be in the future");
        return std::nullopt;
    }
    return done_at;
}

Response createPlan(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto asset =
        loadAsset(ctx.sql, principal, request.param("id"), auth::Action::maintenance_write);
    if (!asset) {
        return errorResponse(asset.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    Micros now = nowMicros();
    BodyReader body(*object);
    Schedule schedule = readSchedule(body, true);
    auto every_cycles = schedule.every_cycles.value_or(std::nullopt);
    auto every_days = schedule.every_days.value_or(std::nullopt);
    requireInterval(body, every_cycles.has_value(), every_days.has_value());
    auto done_at = readDoneAt(body, "last_done_at", now);
    body.rejectUnknown({"name", "every_cycles", "every_days", "active", "last_done_at"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }

    std::string id = newUuid();
    auto saved = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        std::int64_t done_cycles = 0;
        if (done_at) {
            auto counted = countCycles(tx, *asset, std::nullopt, *done_at);
            if (!counted) {
                return counted.takeError();
            }
            done_cycles = *counted;
        }
        auto inserted = tx.execute(
            "INSERT INTO maintenance_plans (id, organization_id, asset_id, name, every_cycles, "
            "every_days, last_done_at, last_done_cycles, active, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            {id, asset->organization_id, asset->id, *schedule.name,
             store::integerOrNull(every_cycles), store::integerOrNull(every_days),
             store::integerOrNull(done_at), done_cycles,
             std::int64_t{schedule.active.value_or(true) ? 1 : 0}, now, now});
        if (!inserted) {
            return inserted.takeError();
        }
        return audit(tx, principal, request, asset->organization_id,
                     {"maintenance_plan.created", "maintenance_plan", id,
                      "created plan " + *schedule.name + " of asset " + asset->external_id});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return answerPlan(ctx.sql, id, 201);
}

// The SET list of a schedule change, and what it names for the audit log.
std::string scheduleAssignments(const Schedule& schedule, store::SqlParams& params,
                                std::string& changed) {
    std::string assignments;
    auto set = [&](const char* column, store::SqlValue value) {
        assignments.append(column).append(" = ").append(addParam(params, std::move(value)));
        assignments.append(", ");
        changed.append(changed.empty() ? "" : ", ").append(column);
    };
    if (schedule.name) {
        set("name", *schedule.name);
    }
    if (schedule.every_cycles) {
        set("every_cycles", store::integerOrNull(*schedule.every_cycles));
    }
    if (schedule.every_days) {
        set("every_days", store::integerOrNull(*schedule.every_days));
    }
    if (schedule.active) {
        set("active", std::int64_t{*schedule.active ? 1 : 0});
    }
    return assignments;
}

Response updatePlan(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto plan = loadPlan(ctx.sql, principal, request.param("id"), auth::Action::maintenance_write);
    if (!plan) {
        return errorResponse(plan.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    Schedule schedule = readSchedule(body, false);
    requireInterval(body, schedule.every_cycles.value_or(plan->row.optionalInteger(4)).has_value(),
                    schedule.every_days.value_or(plan->row.optionalInteger(5)).has_value());
    body.rejectUnknown({"name", "every_cycles", "every_days", "active"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    std::string id = plan->row.text(0);
    store::SqlParams params;
    std::string changed;
    std::string assignments = scheduleAssignments(schedule, params, changed);
    if (changed.empty()) {
        return answerPlan(ctx.sql, id, 200);
    }
    assignments.append("updated_at = ").append(addParam(params, nowMicros()));
    std::string where = " WHERE id = " + addParam(params, id);
    auto saved = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto updated = tx.execute("UPDATE maintenance_plans SET " + assignments + where, params);
        if (!updated) {
            return updated.takeError();
        }
        return audit(tx, principal, request, plan->asset.organization_id,
                     {"maintenance_plan.updated", "maintenance_plan", id,
                      "changed " + changed + " of plan " + plan->row.text(3)});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return answerPlan(ctx.sql, id, 200);
}

// Records that the plan's maintenance was done (now, or at `done_at`): its cycles and days
// count again from then.
Response markPlanDone(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto plan = loadPlan(ctx.sql, principal, request.param("id"), auth::Action::maintenance_write);
    if (!plan) {
        return errorResponse(plan.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    Micros now = nowMicros();
    BodyReader body(*object);
    Micros done_at = readDoneAt(body, "done_at", now).value_or(now);
    body.rejectUnknown({"done_at"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    std::string id = plan->row.text(0);
    auto saved = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto counted = countCycles(tx, plan->asset, std::nullopt, done_at);
        if (!counted) {
            return counted.takeError();
        }
        auto updated = tx.execute(
            "UPDATE maintenance_plans SET last_done_at = $1, last_done_cycles = $2, "
            "updated_at = $3 WHERE id = $4",
            {done_at, *counted, now, id});
        if (!updated) {
            return updated.takeError();
        }
        return audit(
            tx, principal, request, plan->asset.organization_id,
            {"maintenance_plan.done", "maintenance_plan", id,
             "plan " + plan->row.text(3) + " done at " + formatRfc3339Millis(done_at) + " after " +
                 std::to_string(*counted) + " cycles of asset " + plan->asset.external_id});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return answerPlan(ctx.sql, id, 200);
}

Response getPlan(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto plan = loadPlan(ctx.sql, principal, request.param("id"), auth::Action::maintenance_read);
    if (!plan) {
        return errorResponse(plan.error());
    }
    auto answer = planJson(ctx.sql, *plan, nowMicros());
    if (!answer) {
        return errorResponse(answer.error());
    }
    return jsonResponse(200, *answer);
}

Response deletePlan(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto plan = loadPlan(ctx.sql, principal, request.param("id"), auth::Action::maintenance_write);
    if (!plan) {
        return errorResponse(plan.error());
    }
    std::string id = plan->row.text(0);
    auto deleted = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto removed = tx.execute("DELETE FROM maintenance_plans WHERE id = $1", {id});
        if (!removed) {
            return removed.takeError();
        }
        return audit(
            tx, principal, request, plan->asset.organization_id,
            {"maintenance_plan.deleted", "maintenance_plan", id,
             "deleted plan " + plan->row.text(3) + " of asset " + plan->asset.external_id});
    });
    if (!deleted) {
        return errorResponse(deleted.error());
    }
    Response response;
    response.status = 204;
    return response;
}

// The asset's plans, a page at a time, each with its due state at `now`.
Result<json::object> planPage(store::SqlSession& sql, const Request& request,
                              const AssetScope& asset) {
    auto page = Page::parse(request, {{"name", "p.name"}, {"created_at", "p.created_at", true}},
                            "name", "p.id");
    if (!page) {
        return page.takeError();
    }
    store::SqlParams params;
    std::string conditions = "p.asset_id = " + addParam(params, asset.id);
    auto active = booleanFilter(request, "active", "p.active", params);
    if (!active) {
        return active.takeError();
    }
    conditions += *active;
    auto rows = sql.query(std::string("SELECT ") + kPlanColumns + ", " + page->sortColumn() +
                              " FROM maintenance_plans p WHERE " + conditions +
                              page->where(params) + page->orderAndLimit(),
                          params);
    if (!rows) {
        return rows.takeError();
    }
    Micros now = nowMicros();
    json::array items;
    for (std::size_t i = 0; i < rows->size() && i < static_cast<std::size_t>(page->limit()); ++i) {
        auto item = planJson(sql, Plan{asset, (*rows)[i]}, now);
        if (!item) {
            return item.takeError();
        }
        items.push_back(std::move(*item));
    }
    return page->answer(std::move(items), *rows, 11, 0);
}

Response listPlans(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto asset = loadAsset(ctx.sql, principal, request.param("id"), auth::Action::maintenance_read);
    if (!asset) {
        return errorResponse(asset.error());
    }
    auto page = planPage(ctx.sql, request, *asset);
    if (!page) {
        return errorResponse(page.error());
    }
    return jsonResponse(200, *page);
}

}  // namespace

Result<json::array> maintenanceDue(store::SqlSession& sql, const AssetScope& asset, Micros now) {
    auto rows = sql.query(std::string("SELECT ") + kPlanColumns +
                              " FROM maintenance_plans p WHERE p.asset_id = $1 AND p.active = $2 "
                              "ORDER BY p.name, p.id",
                          {asset.id, std::int64_t{1}});
    if (!rows) {
        return rows.takeError();
    }
    json::array plans;
    for (const auto& row : *rows) {
        auto plan = planJson(sql, Plan{asset, row}, now);
        if (!plan) {
            return plan.takeError();
        }
        plans.push_back(std::move(*plan));
    }
    return plans;
}

void addMaintenancePlanRoutes(http::Router& router, const ApiContext& context) {
    addAreaRoute(router, context, "GET", "/api/assets/{id}/maintenance-plans", listPlans);
    addAreaRoute(router, context, "POST", "/api/assets/{id}/maintenance-plans", createPlan);
    addAreaRoute(router, context, "GET", "/api/maintenance-plans/{id}", getPlan);
    addAreaRoute(router, context, "PATCH", "/api/maintenance-plans/{id}", updatePlan);
    addAreaRoute(router, context, "DELETE", "/api/maintenance-plans/{id}", deletePlan);
    addAreaRoute(router, context, "POST", "/api/maintenance-plans/{id}/done", markPlanDone);
}

}  // namespace esocore::api
