#include "api/maintenance_tickets_api.h"

#include <array>
#include <boost/json.hpp>

#include "api/area_routes.h"
#include "api/asset_scope.h"
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

constexpr std::size_t kMaxTitle = 200;
constexpr std::size_t kMaxDescription = 10'000;
constexpr std::array<std::string_view, 3> kTicketStatuses{"open", "assigned", "done"};

constexpr const char* kTicketSelect =
    "SELECT t.id, t.organization_id, t.asset_id, a.external_id, t.plan_id, t.event_id, t.title, "
    "t.description, t.status, t.assignee_id, u.name, t.created_by, t.created_at, t.updated_at, "
    "t.done_at, a.site_id FROM maintenance_tickets t LEFT JOIN assets a ON a.id = t.asset_id "
    "LEFT JOIN users u ON u.id = t.assignee_id";
constexpr std::size_t kSiteColumn = 15;

json::object ticketJson(const store::SqlRow& row) {
    return json::object{
        {"id", row.text(0)},
        {"organization_id", row.text(1)},
        {"asset_id", textOrNull(row, 2)},
        {"asset_external_id", textOrNull(row, 3)},
        {"plan_id", textOrNull(row, 4)},
        {"event_id", textOrNull(row, 5)},
        {"title", row.text(6)},
        {"description", row.text(7)},
        {"status", row.text(8)},
        {"assignee_id", textOrNull(row, 9)},
        {"assignee_name", textOrNull(row, 10)},
        {"created_by", textOrNull(row, 11)},
        {"created_at", formatRfc3339Millis(row.integer(12))},
        {"updated_at", formatRfc3339Millis(row.integer(13))},
        {"done_at", timeOrNull(row.optionalInteger(14))},
    };
}

Result<std::optional<store::SqlRow>> findTicket(store::SqlSession& sql, const std::string& id) {
    auto rows = sql.query(std::string(kTicketSelect) + " WHERE t.id = $1", {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<store::SqlRow>{};
    }
    return std::optional<store::SqlRow>{rows->front()};
}

Target ticketTarget(const store::SqlRow& row) {
    return Target{row.text(1), row.text(kSiteColumn), {}};
}

// The ticket with that id when the caller may perform `action` on it; 404 as for a missing
// ticket otherwise.
Result<store::SqlRow> loadTicket(store::SqlSession& sql, const Principal& principal,
                                 std::string_view id, auth::Action action) {
    std::string ticket_id = canonicalId(id);
    if (ticket_id.empty()) {
        return notFound("maintenance ticket");
    }
    auto row = findTicket(sql, ticket_id);
    if (!row) {
        return row.takeError();
    }
    if (!*row) {
        return notFound("maintenance ticket");
    }
    if (auto allowed = require(principal, action, ticketTarget(**row), "maintenance ticket");
        !allowed) {
        return allowed.takeError();
    }
    return std::move(**row);
}

Response answerTicket(store::SqlSession& sql, const std::string& id, int status) {
    auto row = findTicket(sql, id);
    if (!row) {
        return errorResponse(row.error());
    }
    if (!*row) {
        return errorResponse(notFound("maintenance ticket"));  // deleted meanwhile
    }
    return jsonResponse(status, ticketJson(**row));
}

// What a new ticket refers to, as the body names it.
struct TicketRefs {
    std::optional<std::string> organization_id;
    std::optional<std::string> asset_id;
    std::optional<std::string> plan_id;
    std::optional<std::string> event_id;
    std::optional<std::string> assignee_id;
};

// Where a new ticket goes.
struct TicketPlace {
    std::string organization_id;
    std::string asset_id;  // empty without an asset
    std::string plan_id;
};

// An asset the caller may write maintenance for; a 404 becomes a problem of the field that
// named it, so that a body's reference reads like any other invalid field.
Result<AssetScope> referencedAsset(store::SqlSession& sql, const Principal& principal,
                                   const std::string& id, const char* field, const char* message) {
    auto asset = loadAsset(sql, principal, id, auth::Action::maintenance_write);
    if (!asset && asset.error().status == 404) {
        return invalidField(field, message);
    }
    return asset;
}

// The asset of a plan named by a new ticket, checked against the asset the body names.
Result<std::string> planAsset(store::SqlSession& sql, const TicketRefs& refs) {
    auto rows = sql.query("SELECT asset_id FROM maintenance_plans WHERE id = $1", {*refs.plan_id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return invalidField("plan_id", "no such maintenance plan");
    }
    std::string asset_id = rows->front().text(0);
    if (refs.asset_id && *refs.asset_id != asset_id) {
        return invalidField("plan_id", "must be a plan of the ticket's asset");
    }
    return asset_id;
}

Result<TicketPlace> placeTicket(store::SqlSession& sql, const Principal& principal,
                                const TicketRefs& refs) {
    TicketPlace place;
    place.asset_id = refs.asset_id.value_or("");
    if (refs.plan_id) {
        auto asset_id = planAsset(sql, refs);
        if (!asset_id) {
            return asset_id.takeError();
        }
        place.asset_id = *asset_id;
        place.plan_id = *refs.plan_id;
    }
    if (place.asset_id.empty()) {
        auto chosen =
            targetOrganization(principal, auth::Action::maintenance_write, refs.organization_id);
        if (!chosen) {
            return chosen.takeError();
        }
        place.organization_id = *chosen;
        return place;
    }
    const char* field = refs.plan_id ? "plan_id" : "asset_id";
    auto asset = referencedAsset(sql, principal, place.asset_id, field,
                                 refs.plan_id ? "no such maintenance plan" : "no such asset");
    if (!asset) {
        return asset.takeError();
    }
    if (refs.organization_id && *refs.organization_id != asset->organization_id) {
        return invalidField(field, "not in the ticket's organization");
    }
    place.organization_id = asset->organization_id;
    return place;
}

// The assignee must belong to the ticket's organization; a linked event too.
Result<void> checkMembers(store::SqlSession& sql, const std::string& organization_id,
                          const std::optional<std::string>& assignee_id,
                          const std::optional<std::string>& event_id) {
    if (assignee_id && !assignee_id->empty()) {
        auto rows = sql.query(
            "SELECT 1 FROM memberships WHERE user_id = $1 AND organization_id = $2 LIMIT 1",
            {*assignee_id, organization_id});
        if (!rows) {
            return rows.takeError();
        }
        if (rows->empty()) {
            return invalidField("assignee_id", "must be a member of the ticket's organization");
        }
    }
    if (event_id) {
        auto rows = sql.query("SELECT 1 FROM events WHERE id = $1 AND organization_id = $2",
                              {*event_id, organization_id});
        if (!rows) {
            return rows.takeError();
        }
        if (rows->empty()) {
            return invalidField("event_id", "no such event in the ticket's organization");
        }
    }
    return {};
}

Response createTicket(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto title =
        body.text("title", {.required = true, .max_length = kMaxTitle, .allow_empty = false});
    auto description = body.text("description", {.max_length = kMaxDescription});
    TicketRefs refs{bodyId(body, "organization_id"), bodyId(body, "asset_id"),
                    bodyId(body, "plan_id"), bodyId(body, "event_id"), bodyId(body, "assignee_id")};
    body.rejectUnknown({"organization_id", "title", "description", "asset_id", "plan_id",
                        "event_id", "assignee_id"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    auto place = placeTicket(ctx.sql, principal, refs);
    if (!place) {
        return errorResponse(place.error());
    }
    if (auto checked =
            checkMembers(ctx.sql, place->organization_id, refs.assignee_id, refs.event_id);
        !checked) {
        return errorResponse(checked.error());
    }

    std::string id = newUuid();
    Micros now = nowMicros();
    std::string status = refs.assignee_id ? "assigned" : "open";
    auto saved = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto inserted = tx.execute(
            "INSERT INTO maintenance_tickets (id, organization_id, asset_id, plan_id, event_id, "
            "title, description, status, assignee_id, created_by, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            {id, place->organization_id, store::textOrNull(place->asset_id),
             store::textOrNull(place->plan_id), store::textOrNull(refs.event_id.value_or("")),
             *title, description.value_or(""), status,
             store::textOrNull(refs.assignee_id.value_or("")), principal.user.id, now, now});
        if (!inserted) {
            return inserted.takeError();
        }
        return audit(
            tx, principal, request, place->organization_id,
            {"maintenance_ticket.created", "maintenance_ticket", id, "created ticket " + *title});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return answerTicket(ctx.sql, id, 201);
}

// open → assigned → done; an assigned ticket may go back to open, and a done one only to open
// (reopened).
bool mayMove(std::string_view from, std::string_view to) {
    return from == to || (from == "open" && to == "assigned") ||
           (from == "assigned" && (to == "done" || to == "open")) ||
           (from == "done" && to == "open");
}

// The ticket's status and assignee after a change.
struct TicketState {
    std::string status;
    std::string assignee_id;
};

// The state the body asks for. Naming an assignee of an open ticket assigns it; an assigned
// ticket keeps an assignee. 409 invalid_transition for a move the workflow does not allow.
Result<TicketState> nextState(BodyReader& body, const store::SqlRow& ticket) {
    TicketState before{ticket.text(8), ticket.text(9)};
    TicketState after = before;
    if (body.isNull("assignee_id")) {
        after.assignee_id.clear();
    } else if (auto assignee = bodyId(body, "assignee_id")) {
        after.assignee_id = *assignee;
    }
    auto status = body.choice("status", {"open", "assigned", "done"});
    if (status) {
        after.status = *status;
    } else if (before.status == "open" && !after.assignee_id.empty() &&
               after.assignee_id != before.assignee_id) {
        after.status = "assigned";
    }
    if (!mayMove(before.status, after.status)) {
        return Error{409,
                     "invalid_transition",
                     "a " + before.status + " ticket cannot become " + after.status,
                     {}};
    }
    if (after.status == "assigned" && after.assignee_id.empty()) {
        body.fail("assignee_id", "an assigned ticket needs an assignee");
    }
    return after;
}

Response updateTicket(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto ticket =
        loadTicket(ctx.sql, principal, request.param("id"), auth::Action::maintenance_write);
    if (!ticket) {
        return errorResponse(ticket.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto title = body.text("title", {.max_length = kMaxTitle, .allow_empty = false});
    auto description = body.text("description", {.max_length = kMaxDescription});
    auto state = nextState(body, *ticket);
    body.rejectUnknown({"title", "description", "assignee_id", "status"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    if (!state) {
        return errorResponse(state.error());
    }
    std::string id = ticket->text(0);
    std::string organization_id = ticket->text(1);
    if (state->assignee_id != ticket->text(9)) {
        if (auto checked = checkMembers(ctx.sql, organization_id, state->assignee_id, {});
            !checked) {
            return errorResponse(checked.error());
        }
    }

    Micros now = nowMicros();
    std::string before = ticket->text(8);
    std::optional<Micros> done_at = ticket->optionalInteger(14);
    if (state->status != before) {
        done_at = state->status == "done" ? std::optional<Micros>(now) : std::nullopt;
    }
    std::string summary = "changed ticket " + ticket->text(6);
    if (state->status != before) {
        summary += ": " + before + " to " + state->status;
    }
    auto saved = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto updated = tx.execute(
            "UPDATE maintenance_tickets SET title = $1, description = $2, status = $3, "
            "assignee_id = $4, done_at = $5, updated_at = $6 WHERE id = $7",
            {title.value_or(ticket->text(6)), description.value_or(ticket->text(7)), state->status,
             store::textOrNull(state->assignee_id), store::integerOrNull(done_at), now, id});
        if (!updated) {
            return updated.takeError();
        }
        return audit(tx, principal, request, organization_id,
                     {"maintenance_ticket.updated", "maintenance_ticket", id, summary});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return answerTicket(ctx.sql, id, 200);
}

Response getTicket(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto ticket =
        loadTicket(ctx.sql, principal, request.param("id"), auth::Action::maintenance_read);
    if (!ticket) {
        return errorResponse(ticket.error());
    }
    return jsonResponse(200, ticketJson(*ticket));
}

Response deleteTicket(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto ticket =
        loadTicket(ctx.sql, principal, request.param("id"), auth::Action::maintenance_write);
    if (!ticket) {
        return errorResponse(ticket.error());
    }
    std::string id = ticket->text(0);
    auto deleted = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto removed = tx.execute("DELETE FROM maintenance_tickets WHERE id = $1", {id});
        if (!removed) {
            return removed.takeError();
        }
        return audit(tx, principal, request, ticket->text(1),
                     {"maintenance_ticket.deleted", "maintenance_ticket", id,
                      "deleted ticket " + ticket->text(6)});
    });
    if (!deleted) {
        return errorResponse(deleted.error());
    }
    Response response;
    response.status = 204;
    return response;
}

Result<std::string> ticketFilters(const Request& request, store::SqlParams& params) {
    std::string conditions;
    for (auto filter :
         {idFilter(request, "organization_id", "t.organization_id", params),
          idFilter(request, "asset_id", "t.asset_id", params),
          idFilter(request, "plan_id", "t.plan_id", params),
          idFilter(request, "assignee_id", "t.assignee_id", params),
          choiceFilter(request, "status", "t.status", kTicketStatuses, params, true)}) {
        if (!filter) {
            return filter.takeError();
        }
        conditions += *filter;
    }
    return conditions + searchCondition(request, {"t.title", "t.description"}, params);
}

Response listTickets(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto page = Page::parse(request,
                            {{"created_at", "t.created_at", true},
                             {"updated_at", "t.updated_at", true},
                             {"title", "t.title"}},
                            "-created_at", "t.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string visible = allowedRows(principal, auth::Action::maintenance_read,
                                      {"t.organization_id", "a.site_id", ""}, params);
    auto filters = ticketFilters(request, params);
    if (!filters) {
        return errorResponse(filters.error());
    }
    std::string sql = std::string(kTicketSelect);
    sql.insert(sql.find(" FROM "), ", " + page->sortColumn());
    auto rows = ctx.sql.query(
        sql + " WHERE " + visible + *filters + page->where(params) + page->orderAndLimit(), params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(ticketJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kSiteColumn + 1, 0));
}

}  // namespace

void addMaintenanceTicketRoutes(http::Router& router, const ApiContext& context) {
    addAreaRoute(router, context, "GET", "/api/maintenance-tickets", listTickets);
    addAreaRoute(router, context, "POST", "/api/maintenance-tickets", createTicket);
    addAreaRoute(router, context, "GET", "/api/maintenance-tickets/{id}", getTicket);
    addAreaRoute(router, context, "PATCH", "/api/maintenance-tickets/{id}", updateTicket);
    addAreaRoute(router, context, "DELETE", "/api/maintenance-tickets/{id}", deleteTicket);
}

}  // namespace esocore::api
