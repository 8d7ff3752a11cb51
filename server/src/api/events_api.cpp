#include "api/events_api.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <vector>

#include "api/area_routes.h"
#include "api/json_values.h"
#include "api/list_filters.h"
#include "api/pagination.h"
#include "api/request_body.h"
#include "http/response.h"
#include "live/publish.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t kMaxNote = 2000;

constexpr std::array<std::string_view, 5> kSeverities{"info", "low", "medium", "high", "critical"};
constexpr std::array<std::string_view, 4> kStatuses{"active", "acknowledged", "resolved",
                                                    "suppressed"};
// Severities sort by weight, not by name.
constexpr const char* kSeverityRank =
    "CASE e.severity WHEN 'info' THEN 0 WHEN 'low' THEN 1 WHEN 'medium' THEN 2 "
    "WHEN 'high' THEN 3 ELSE 4 END";

constexpr const char* kEventSelect =
    "SELECT e.id, e.organization_id, e.device_id, d.serial, d.name, d.site_id, e.asset_ref, "
    "e.site_ref, e.ts, e.received_at, e.type, e.category, e.severity, e.description, "
    "e.duration_ms, e.metadata, e.status, e.acknowledged_by, e.acknowledged_at, e.resolved_by, "
    "e.resolved_at FROM events e LEFT JOIN devices d ON d.id = e.device_id";
constexpr std::size_t kEventColumns = 21;

json::object eventJson(const store::SqlRow& row) {
    return json::object{
        {"id", row.text(0)},
        {"organization_id", textOrNull(row, 1)},
        {"device_id", textOrNull(row, 2)},
        {"device_serial", textOrNull(row, 3)},
        {"device_name", textOrNull(row, 4)},
        {"site_id", textOrNull(row, 5)},
        {"asset_ref", row.text(6)},
        {"site_ref", row.text(7)},
        {"ts", formatRfc3339Millis(row.integer(8))},
        {"received_at", formatRfc3339Millis(row.integer(9))},
        {"type", row.text(10)},
        {"category", row.text(11)},
        {"severity", row.text(12)},
        {"description", row.text(13)},
        {"duration_ms", integerOrNull(row, 14)},
        {"metadata", storedJson(row.text(15), json::object{})},
        {"status", row.text(16)},
        {"acknowledged_by", textOrNull(row, 17)},
        {"acknowledged_at", timeOrNull(row.optionalInteger(18))},
        {"resolved_by", textOrNull(row, 19)},
        {"resolved_at", timeOrNull(row.optionalInteger(20))},
    };
}

Target eventTarget(const store::SqlRow& row) {
    return Target{row.text(1), row.text(5), row.text(2)};
}

Result<std::optional<store::SqlRow>> findEvent(store::SqlSession& sql, const std::string& id) {
    auto rows = sql.query(std::string(kEventSelect) + " WHERE e.id = $1", {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<store::SqlRow>{};
    }
    return std::optional<store::SqlRow>{rows->front()};
}

// The event with that id when the caller may perform `action` on it; 404 as for a missing
// event otherwise. An event belongs to the organization its device was in when it arrived.
Result<store::SqlRow> loadEvent(store::SqlSession& sql, const Principal& principal,
                                std::string_view id, auth::Action action) {
    std::string event_id = canonicalId(id);
    if (event_id.empty()) {
        return notFound("event");
    }
    auto row = findEvent(sql, event_id);
    if (!row) {
        return row.takeError();
    }
    if (!*row) {
        return notFound("event");
    }
    if (auto allowed = require(principal, action, eventTarget(**row), "event"); !allowed) {
        return allowed.takeError();
    }
    return std::move(**row);
}

// `?min_severity=high`: " AND e.severity IN ('high', 'critical')" as parameters.
Result<std::string> minSeverityFilter(const Request& request, store::SqlParams& params) {
    auto minimum = request.queryParam("min_severity");
    if (!minimum) {
        return std::string{};
    }
    auto from = std::find(kSeverities.begin(), kSeverities.end(), *minimum);
    if (from == kSeverities.end()) {
        return invalidParameter("min_severity", "one of: info, low, medium, high, critical");
    }
    std::string placeholders;
    for (auto it = from; it != kSeverities.end(); ++it) {
        placeholders.append(placeholders.empty() ? "" : ", ")
            .append(addParam(params, std::string(*it)));
    }
    return " AND e.severity IN (" + placeholders + ")";
}

Result<std::string> eventTimeFilter(const Request& request, store::SqlParams& params) {
    std::string conditions;
    for (auto [name, op] : {std::pair{"since", " >= "}, std::pair{"until", " < "}}) {
        auto at = timeParam(request, name);
        if (!at) {
            return at.takeError();
        }
        if (*at) {
            conditions.append(" AND e.ts").append(op).append(addParam(params, **at));
        }
    }
    return conditions;
}

Result<std::string> eventFilters(const Request& request, store::SqlParams& params) {
    std::string conditions;
    for (auto filter : {idFilter(request, "organization_id", "e.organization_id", params),
                        idFilter(request, "site_id", "d.site_id", params),
                        idFilter(request, "device_id", "e.device_id", params),
                        choiceFilter(request, "severity", "e.severity", kSeverities, params, true),
                        minSeverityFilter(request, params),
                        choiceFilter(request, "status", "e.status", kStatuses, params, true),
                        eventTimeFilter(request, params)}) {
        if (!filter) {
            return filter.takeError();
        }
        conditions += *filter;
    }
    conditions += textFilter(request, "asset", "e.asset_ref", params);
    conditions += textFilter(request, "type", "e.type", params);
    conditions += textFilter(request, "category", "e.category", params);
    return conditions + searchCondition(request, {"e.type", "e.description"}, params);
}

Response listEvents(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto page = Page::parse(request,
                            {{"ts", "e.ts", true},
                             {"received_at", "e.received_at", true},
                             {"severity", kSeverityRank, true}},
                            "-ts", "e.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string visible = allowedRows(principal, auth::Action::event_read,
                                      {"e.organization_id", "d.site_id", "e.device_id"}, params);
    auto filters = eventFilters(request, params);
    if (!filters) {
        return errorResponse(filters.error());
    }
    std::string sql = kEventSelect;
    sql.insert(sql.find(" FROM "), ", " + page->sortColumn());
    auto rows = ctx.sql.query(
        sql + " WHERE " + visible + *filters + page->where(params) + page->orderAndLimit(), params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(eventJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kEventColumns, 0));
}

Response getEvent(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto event = loadEvent(ctx.sql, principal, request.param("id"), auth::Action::event_read);
    if (!event) {
        return errorResponse(event.error());
    }
    return jsonResponse(200, eventJson(*event));
}

// A change of an event's status by a person: from one of `from` to `to`, stamping who and
// when in `by_column` and `at_column`.
struct Transition {
    auth::Action action;
    std::vector<std::string_view> from;
    const char* to;
    const char* by_column;
    const char* at_column;
    const char* log_action;  // the event log's and the audit log's word for it
};

const Transition kAcknowledge{auth::Action::event_acknowledge,
                              {"active"},
                              "acknowledged",
                              "acknowledged_by",
                              "acknowledged_at",
                              "acknowledged"};
const Transition kResolve{auth::Action::event_resolve,
                          {"active", "acknowledged"},
                          "resolved",
                          "resolved_by",
                          "resolved_at",
                          "resolved"};

Error invalidTransition(const std::string& status, const Transition& transition) {
    return Error{409,
                 "invalid_transition",
                 "the event is " + status + " and cannot become " + transition.to,
                 {}};
}

// Moves the event and writes the event log and the audit log, all or nothing. The status
// is checked again in the UPDATE, so of two concurrent changes only one applies.
Result<void> applyTransition(store::SqlSession& sql, const Principal& principal,
                             const Request& request, const store::SqlRow& event,
                             const Transition& transition, const std::string& note) {
    std::string id = event.text(0);
    std::string from = event.text(16);
    Micros now = nowMicros();
    return sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        store::SqlParams params{std::string(transition.to), principal.user.id, now, id};
        std::string statuses;
        for (std::string_view status : transition.from) {
            statuses.append(statuses.empty() ? "" : ", ")
                .append(addParam(params, std::string(status)));
        }
        auto moved = tx.execute(std::string("UPDATE events SET status = $1, ") +
                                    transition.by_column + " = $2, " + transition.at_column +
                                    " = $3 WHERE id = $4 AND status IN (" + statuses + ")",
                                params);
        if (!moved) {
            return moved.takeError();
        }
        if (*moved == 0) {
            return invalidTransition(from, transition);
        }
        auto logged = tx.execute(
            "INSERT INTO event_log (event_id, user_id, action, from_status, to_status, note, "
            "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            {id, principal.user.id, std::string(transition.log_action), from,
             std::string(transition.to), note, now});
        if (!logged) {
            return logged.takeError();
        }
        std::string summary = event.text(10) + " event " + transition.log_action;
        if (!note.empty()) {
            summary.append(": ").append(note);
        }
        return audit(tx, principal, request, event.text(1),
                     {std::string("event.") + transition.log_action, "event", id, summary});
    });
}

Response changeStatus(const ApiContext& ctx, const Request& request, const Principal& principal,
                      const Transition& transition) {
    auto event = loadEvent(ctx.sql, principal, request.param("id"), transition.action);
    if (!event) {
        return errorResponse(event.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto note = body.text("note", {.max_length = kMaxNote});
    body.rejectUnknown({"note"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    std::string status = event->text(16);
    if (std::find(transition.from.begin(), transition.from.end(), status) ==
        transition.from.end()) {
        return errorResponse(invalidTransition(status, transition));
    }
    if (auto moved =
            applyTransition(ctx.sql, principal, request, *event, transition, note.value_or(""));
        !moved) {
        return errorResponse(moved.error());
    }
    auto changed = findEvent(ctx.sql, event->text(0));
    if (!changed || !*changed) {
        return errorResponse(!changed ? changed.error() : notFound("event"));
    }
    json::object answer = eventJson(**changed);
    live::publishEventChanged(ctx.live, answer);
    return jsonResponse(200, answer);
}

Response acknowledgeEvent(const ApiContext& ctx, const Request& request,
                          const Principal& principal) {
    return changeStatus(ctx, request, principal, kAcknowledge);
}

Response resolveEvent(const ApiContext& ctx, const Request& request, const Principal& principal) {
    return changeStatus(ctx, request, principal, kResolve);
}

json::object logEntryJson(const store::SqlRow& row) {
    return json::object{
        {"id", row.text(0)},
        {"event_id", row.text(1)},
        {"user_id", textOrNull(row, 2)},
        {"user_name", textOrNull(row, 3)},
        {"action", row.text(4)},
        {"from_status", row.text(5)},
        {"to_status", row.text(6)},
        {"note", row.text(7)},
        {"created_at", formatRfc3339Millis(row.integer(8))},
    };
}

Response listEventLog(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto event = loadEvent(ctx.sql, principal, request.param("id"), auth::Action::event_read);
    if (!event) {
        return errorResponse(event.error());
    }
    auto page =
        Page::parse(request, {{"created_at", "l.created_at", true}}, "created_at", "l.id", true);
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params{event->text(0)};
    auto rows = ctx.sql.query(
        "SELECT l.id, l.event_id, l.user_id, u.name, l.action, l.from_status, l.to_status, "
        "l.note, l.created_at, " +
            page->sortColumn() +
            " FROM event_log l LEFT JOIN users u ON u.id = l.user_id WHERE l.event_id = $1" +
            page->where(params) + page->orderAndLimit(),
        params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(logEntryJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, 9, 0));
}

}  // namespace

void addEventRoutes(http::Router& router, const ApiContext& context) {
    addAreaRoute(router, context, "GET", "/api/events", listEvents);
    addAreaRoute(router, context, "GET", "/api/events/{id}", getEvent);
    addAreaRoute(router, context, "POST", "/api/events/{id}/acknowledge", acknowledgeEvent);
    addAreaRoute(router, context, "POST", "/api/events/{id}/resolve", resolveEvent);
    addAreaRoute(router, context, "GET", "/api/events/{id}/log", listEventLog);
}

}  // namespace esocore::api
