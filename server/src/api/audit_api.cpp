#include "api/audit_api.h"

#include <boost/json.hpp>

#include "api/list_filters.h"
#include "api/pagination.h"
#include "http/response.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr const char* kEntryColumns =
    "a.id, a.created_at, a.user_id, u.email, a.organization_id, a.action, a.target_type, "
    "a.target_id, a.summary, a.ip_address, a.user_agent";
constexpr std::size_t kEntryColumnCount = 11;

json::value nullable(std::optional<std::string> text) {
    return text ? json::value(*text) : json::value(nullptr);
}

json::object entryJson(const store::SqlRow& row) {
    return json::object{{"id", row.text(0)},
                        {"created_at", formatRfc3339Millis(row.integer(1))},
                        {"user_id", nullable(row.optionalText(2))},
                        {"user_email", nullable(row.optionalText(3))},
                        {"organization_id", nullable(row.optionalText(4))},
                        {"action", row.text(5)},
                        {"target_type", row.text(6)},
                        {"target_id", row.text(7)},
                        {"summary", row.text(8)},
                        {"ip_address", row.text(9)},
                        {"user_agent", row.text(10)}};
}

// The filters of the log: ids, an action prefix ("device." or "sign_in"), the target and a
// time range, appended to `sql` as " AND ..." conditions.
Result<void> appendFilters(const Request& request, std::string& sql, store::SqlParams& params) {
    for (auto [name, column] :
         {std::pair{"organization_id", "a.organization_id"}, std::pair{"user_id", "a.user_id"}}) {
        auto condition = idFilter(request, name, column, params);
        if (!condition) {
            return condition.takeError();
        }
        sql.append(*condition);
    }
    if (auto action = request.queryParam("action"); action && !action->empty()) {
        // likePattern makes a substring pattern; a prefix drops its leading '%'.
        sql.append(" AND a.action LIKE ")
            .append(addParam(params, likePattern(*action).substr(1)))
            .append(" ESCAPE '\\'");
    }
    sql.append(textFilter(request, "target_type", "a.target_type", params));
    sql.append(textFilter(request, "target_id", "a.target_id", params));
    for (auto [name, op] : {std::pair{"since", " >= "}, std::pair{"until", " < "}}) {
        auto at = timeParam(request, name);
        if (!at) {
            return at.takeError();
        }
        if (*at) {
            sql.append(" AND a.created_at").append(op).append(addParam(params, **at));
        }
    }
    return {};
}

// Newest first by default. Entries without an organization (sign-ins of unknown accounts,
// changes outside any organization) are seen by staff only.
Response listEntries(const ApiContext& context, const Request& request,
                     const Principal& principal) {
    auto page =
        Page::parse(request, {{"created_at", "a.created_at", true}}, "-created_at", "a.id", true);
    if (!page) {
        return errorResponse(page.error());
    }
    // Naming an organization whose log the caller may not read is refused rather than
    // answered with an empty page, so that a missing permission is not mistaken for silence.
    if (auto organization = request.queryParam("organization_id"); organization) {
        std::string id = canonicalId(*organization);
        if (!id.empty()) {
            if (auto allowed = require(principal, auth::Action::audit_read, Target{id, {}, {}},
                                       "organization");
                !allowed) {
                return errorResponse(allowed.error());
            }
        }
    }
    store::SqlParams params;
    std::string sql = std::string("SELECT ") + kEntryColumns + ", " + page->sortColumn() +
                      " FROM audit_log a LEFT JOIN users u ON u.id = a.user_id WHERE " +
                      allowedRows(principal, auth::Action::audit_read,
                                  ScopeColumns{"a.organization_id", {}, {}}, params);
    if (auto filtered = appendFilters(request, sql, params); !filtered) {
        return errorResponse(filtered.error());
    }
    sql.append(page->where(params)).append(page->orderAndLimit());
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(entryJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kEntryColumnCount, 0));
}

}  // namespace

void addAuditRoutes(http::Router& router, const ApiContext& context) {
    addManaged(router, context.authenticator, "GET", "/api/audit-log",
               [&context](const Request& request, const Principal& principal) {
                   return listEntries(context, request, principal);
               });
}

}  // namespace esocore::api
