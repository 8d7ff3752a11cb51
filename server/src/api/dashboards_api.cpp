#include "api/dashboards_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "api/pagination.h"
#include "api/request_body.h"
#include "api/telemetry_query.h"
#include "core/crypto.h"
#include "http/response.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t kMaxNameLength = 200;
constexpr std::size_t kMaxWidgets = 100;
constexpr std::size_t kMaxLayoutBytes = 64 * 1024;
constexpr std::string_view kWidgetTypes[] = {"chart", "stat", "events", "devices", "map", "text"};

constexpr const char* kColumns =
    "b.id, b.organization_id, b.owner_id, b.site_id, b.name, b.layout, b.widgets, b.is_default, "
    "b.shared, b.created_at, b.updated_at";

/// A stored dashboard.
struct Dashboard {
    std::string id;
    std::string organization_id;
    std::string owner_id;  // empty when the owner's account is gone
    std::string site_id;
    std::string name;
    std::string layout_json;
    std::string widgets_json;
    bool is_default = false;
    bool shared = false;
    Micros created_at = 0;
    Micros updated_at = 0;
};

Dashboard readDashboard(const store::SqlRow& row) {
    return Dashboard{row.text(0),         row.text(1),    row.text(2),    row.text(3),
                     row.text(4),         row.text(5),    row.text(6),    row.integer(7) != 0,
                     row.integer(8) != 0, row.integer(9), row.integer(10)};
}

json::value parsedOr(const std::string& text, json::value fallback) {
    json::error_code ec;
    json::value value = json::parse(text, ec);
    return ec ? fallback : value;
}

json::value idOrNull(const std::string& id) {
    return id.empty() ? json::value(nullptr) : json::value(id);
}

json::object dashboardJson(const Dashboard& d) {
    return json::object{{"id", d.id},
                        {"organization_id", d.organization_id},
                        {"owner_id", idOrNull(d.owner_id)},
                        {"site_id", idOrNull(d.site_id)},
                        {"name", d.name},
                        {"layout", parsedOr(d.layout_json, json::object())},
                        {"widgets", parsedOr(d.widgets_json, json::array())},
                        {"is_default", d.is_default},
                        {"shared", d.shared},
                        {"created_at", formatRfc3339Millis(d.created_at)},
                        {"updated_at", formatRfc3339Millis(d.updated_at)}};
}

Target targetOf(const Dashboard& d) {
    return Target{d.organization_id, d.site_id, {}};
}

// ---- reading a body

// PostgreSQL's jsonb cannot hold NUL; both stores refuse it alike.
bool holdsNul(const std::string& json_text) {
    return json_text.find("\\u0000") != std::string::npos;
}

// Each widget is an object with a known `type`; the rest is the widget's own settings.
std::optional<std::string> readWidgets(const json::object& body, BodyReader& reader) {
    const json::value* widgets = body.if_contains("widgets");
    if (widgets == nullptr || widgets->is_null()) {
        return std::nullopt;
    }
    if (!widgets->is_array() || widgets->as_array().size() > kMaxWidgets) {
        reader.fail("widgets",
                    "must be an array of at most " + std::to_string(kMaxWidgets) + " widgets");
        return std::nullopt;
    }
    for (const json::value& widget : widgets->as_array()) {
        const json::value* type =
            widget.is_object() ? widget.as_object().if_contains("type") : nullptr;
        bool known = type != nullptr && type->is_string() &&
                     std::find(std::begin(kWidgetTypes), std::end(kWidgetTypes),
                               std::string_view(type->as_string())) != std::end(kWidgetTypes);
        if (!known) {
            reader.fail("widgets",
                        "each widget is an object whose type is one of chart, stat, events, "
                        "devices, map, text");
            return std::nullopt;
        }
    }
    std::string text = json::serialize(*widgets);
    if (text.size() > kMaxLayoutBytes || holdsNul(text)) {
        reader.fail("widgets", "at most 64 KiB, without NUL characters");
        return std::nullopt;
    }
    return text;
}

std::optional<std::string> readLayout(BodyReader& reader) {
    auto layout = reader.object("layout");
    if (layout && (layout->size() > kMaxLayoutBytes || holdsNul(*layout))) {
        reader.fail("layout", "at most 64 KiB, without NUL characters");
        return std::nullopt;
    }
    return layout;
}

/// What a create or update body asks for; absent fields stay unset.
struct DashboardFields {
    std::optional<std::string> name;
    std::optional<std::string> organization_id;
    std::optional<std::string> site_id;
    bool clear_site = false;
    std::optional<std::string> layout_json;
    std::optional<std::string> widgets_json;
    std::optional<bool> is_default;
    std::optional<bool> shared;
};

Result<DashboardFields> readFields(const Request& request, bool creating) {
    auto object = readObject(request);
    if (!object) {
        return object.takeError();
    }
    BodyReader reader(*object);
    DashboardFields fields;
    fields.name = reader.text(
        "name", {.required = creating, .max_length = kMaxNameLength, .allow_empty = false});
    if (creating) {
        fields.organization_id = reader.id("organization_id");
    }
    fields.clear_site = reader.isNull("site_id");
    fields.site_id = reader.id("site_id");
    fields.layout_json = readLayout(reader);
    fields.widgets_json = readWidgets(*object, reader);
    fields.is_default = reader.boolean("is_default");
    fields.shared = reader.boolean("shared");
    if (creating) {
        reader.rejectUnknown(
            {"name", "organization_id", "site_id", "layout", "widgets", "is_default", "shared"});
    } else {
        reader.rejectUnknown({"name", "site_id", "layout", "widgets", "is_default", "shared"});
    }
    if (auto checked = reader.result(); !checked) {
        return checked.takeError();
    }
    return fields;
}

// A site named in a body must be one the caller sees, of the dashboard's organization when
// that is known already; the answer is the site's organization.
Result<std::string> siteOrganization(store::SqlSession& sql, const Principal& principal,
                                     const std::string& site_id,
                                     const std::optional<std::string>& organization_id) {
    auto rows = sql.query("SELECT organization_id FROM sites WHERE id = $1", {site_id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty() || !maySee(principal, Target{rows->front().text(0), site_id, {}})) {
        return invalidField("site_id", "no such site");
    }
    std::string organization = rows->front().text(0);
    if (organization_id && *organization_id != organization) {
        return invalidField("site_id", "not a site of the dashboard's organization");
    }
    return organization;
}

// ---- loading one dashboard

Result<Dashboard> findDashboard(store::SqlSession& sql, std::string_view id) {
    if (!isUuid(id)) {
        return notFound("dashboard");
    }
    std::string lower(id);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto rows = sql.query(std::string("SELECT ") + kColumns + " FROM dashboards b WHERE b.id = $1",
                          {lower});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return notFound("dashboard");
    }
    return readDashboard(rows->front());
}

bool ownedBy(const Dashboard& d, const Principal& principal) {
    return !d.owner_id.empty() && d.owner_id == principal.user.id;
}

// The dashboard when the caller may do `action` on it: its owner may always (while it still
// sees the organization); anyone else only on a shared one, by role. Another user's private
// dashboard is not found, exactly like one that does not exist.
Result<Dashboard> accessibleDashboard(store::SqlSession& sql, const Request& request,
                                      const Principal& principal, auth::Action action) {
    auto dashboard = findDashboard(sql, request.param("id"));
    if (!dashboard) {
        return dashboard;
    }
    if (!ownedBy(*dashboard, principal) && !dashboard->shared) {
        return notFound("dashboard");
    }
    auto needed = ownedBy(*dashboard, principal) ? auth::Action::dashboard_read : action;
    if (auto allowed = require(principal, needed, targetOf(*dashboard), "dashboard"); !allowed) {
        return allowed.takeError();
    }
    return dashboard;
}

// ---- routes

Response listDashboards(const ApiContext& context, const Request& request,
                        const Principal& principal) {
    auto page = Page::parse(request,
                            {{"name", "b.name"},
                             {"created_at", "b.created_at", true},
                             {"updated_at", "b.updated_at", true}},
                            "name", "b.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string me = addParam(params, principal.user.id);
    std::string shared = addParam(params, std::int64_t{1});
    std::string sql = std::string("SELECT ") + kColumns + ", " + page->sortColumn() +
                      " FROM dashboards b WHERE (b.owner_id = " + me + " OR b.shared = " + shared +
                      ") AND " +
                      allowedRows(principal, auth::Action::dashboard_read,
                                  ScopeColumns{"b.organization_id", "b.site_id", ""}, params);
    if (auto site = request.queryParam("site_id")) {
        if (!isUuid(*site)) {
            return errorResponse(invalidParameter("site_id", "must be a UUID"));
        }
        sql.append(" AND b.site_id = ").append(addParam(params, *site));
    }
    if (request.queryParam("mine") == "true") {
        sql.append(" AND b.owner_id = ").append(addParam(params, principal.user.id));
    }
    sql.append(searchCondition(request, "b.name", params));
    sql.append(page->where(params)).append(page->orderAndLimit());
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(dashboardJson(readDashboard(row)));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, 11, 0));
}

// A default dashboard is the owner's one default within its organization.
Result<void> clearOtherDefaults(store::SqlSession& tx, const Dashboard& d) {
    auto cleared = tx.execute(
        "UPDATE dashboards SET is_default = $1 WHERE owner_id = $2 AND organization_id = $3 "
        "AND id <> $4",
        {std::int64_t{0}, d.owner_id, d.organization_id, d.id});
    return cleared ? Result<void>() : Result<void>(cleared.takeError());
}

Result<std::string> creationOrganization(store::SqlSession& sql, const Principal& principal,
                                         const DashboardFields& fields) {
    if (!fields.site_id) {
        return targetOrganization(principal, auth::Action::dashboard_write, fields.organization_id);
    }
    auto organization = siteOrganization(sql, principal, *fields.site_id, fields.organization_id);
    if (!organization) {
        return organization;
    }
    Target target{*organization, *fields.site_id, {}};
    if (auto allowed = require(principal, auth::Action::dashboard_write, target, "site");
        !allowed) {
        return allowed.takeError();
    }
    return organization;
}

Response createDashboard(const ApiContext& context, const Request& request,
                         const Principal& principal) {
    auto fields = readFields(request, true);
    if (!fields) {
        return errorResponse(fields.error());
    }
    auto organization = creationOrganization(context.sql, principal, *fields);
    if (!organization) {
        return errorResponse(organization.error());
    }
    Micros now = nowMicros();
    Dashboard d{newUuid(),
                *organization,
                principal.user.id,
                fields->site_id.value_or(""),
                *fields->name,
                fields->layout_json.value_or("{}"),
                fields->widgets_json.value_or("[]"),
                fields->is_default.value_or(false),
                fields->shared.value_or(false),
                now,
                now};
    auto saved = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto inserted = tx.execute(
            "INSERT INTO dashboards (id, organization_id, owner_id, site_id, name, layout, "
            "widgets, is_default, shared, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            {d.id, d.organization_id, d.owner_id, store::textOrNull(d.site_id), d.name,
             d.layout_json, d.widgets_json, std::int64_t{d.is_default}, std::int64_t{d.shared},
             d.created_at, d.updated_at});
        if (!inserted) {
            return inserted.takeError();
        }
        if (d.is_default) {
            if (auto ok = clearOtherDefaults(tx, d); !ok) {
                return ok;
            }
        }
        return audit(tx, principal, request, d.organization_id,
                     {"dashboard.created", "dashboard", d.id, d.name});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return jsonResponse(201, dashboardJson(d));
}

Response getDashboard(const ApiContext& context, const Request& request,
                      const Principal& principal) {
    auto dashboard =
        accessibleDashboard(context.sql, request, principal, auth::Action::dashboard_read);
    if (!dashboard) {
        return errorResponse(dashboard.error());
    }
    return jsonResponse(200, dashboardJson(*dashboard));
}

// Applies the body's fields to `d`; only the owner decides whether it is shared or its default.
Result<void> applyFields(store::SqlSession& sql, const Principal& principal,
                         const DashboardFields& fields, Dashboard& d) {
    if ((fields.shared || fields.is_default) && !ownedBy(d, principal)) {
        return permissionDenied();
    }
    if (fields.site_id) {
        auto organization = siteOrganization(sql, principal, *fields.site_id, d.organization_id);
        if (!organization) {
            return organization.takeError();
        }
        d.site_id = *fields.site_id;
    } else if (fields.clear_site) {
        d.site_id.clear();
    }
    d.name = fields.name.value_or(d.name);
    d.layout_json = fields.layout_json.value_or(d.layout_json);
    d.widgets_json = fields.widgets_json.value_or(d.widgets_json);
    d.is_default = fields.is_default.value_or(d.is_default);
    d.shared = fields.shared.value_or(d.shared);
    d.updated_at = nowMicros();
    return {};
}

Response updateDashboard(const ApiContext& context, const Request& request,
                         const Principal& principal) {
    auto dashboard =
        accessibleDashboard(context.sql, request, principal, auth::Action::dashboard_write);
    if (!dashboard) {
        return errorResponse(dashboard.error());
    }
    auto fields = readFields(request, false);
    if (!fields) {
        return errorResponse(fields.error());
    }
    Dashboard& d = *dashboard;
    if (auto applied = applyFields(context.sql, principal, *fields, d); !applied) {
        return errorResponse(applied.error());
    }
    auto saved = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto updated = tx.execute(
            "UPDATE dashboards SET site_id = $1, name = $2, layout = $3, widgets = $4, "
            "is_default = $5, shared = $6, updated_at = $7 WHERE id = $8",
            {store::textOrNull(d.site_id), d.name, d.layout_json, d.widgets_json,
             std::int64_t{d.is_default}, std::int64_t{d.shared}, d.updated_at, d.id});
        if (!updated) {
            return updated.takeError();
        }
        if (d.is_default) {
            if (auto ok = clearOtherDefaults(tx, d); !ok) {
                return ok;
            }
        }
        return audit(tx, principal, request, d.organization_id,
                     {"dashboard.updated", "dashboard", d.id, d.name});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return jsonResponse(200, dashboardJson(d));
}

Response deleteDashboard(const ApiContext& context, const Request& request,
                         const Principal& principal) {
    auto dashboard =
        accessibleDashboard(context.sql, request, principal, auth::Action::dashboard_write);
    if (!dashboard) {
        return errorResponse(dashboard.error());
    }
    auto removed = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto deleted = tx.execute("DELETE FROM dashboards WHERE id = $1", {dashboard->id});
        if (!deleted) {
            return deleted.takeError();
        }
        return audit(tx, principal, request, dashboard->organization_id,
                     {"dashboard.deleted", "dashboard", dashboard->id, dashboard->name});
    });
    if (!removed) {
        return errorResponse(removed.error());
    }
    Response response;
    response.status = 204;
    return response;
}

}  // namespace

void addDashboardRoutes(http::Router& router, const ApiContext& context) {
    using Handler = Response (*)(const ApiContext&, const Request&, const Principal&);
    auto add = [&](const char* method, const char* pattern, Handler handler) {
        addManaged(router, context.authenticator, method, pattern,
                   [&context, handler](const Request& request, const Principal& principal) {
                       return handler(context, request, principal);
                   });
    };
    add("GET", "/api/dashboards", listDashboards);
    add("POST", "/api/dashboards", createDashboard);
    add("GET", "/api/dashboards/{id}", getDashboard);
    add("PATCH", "/api/dashboards/{id}", updateDashboard);
    add("DELETE", "/api/dashboards/{id}", deleteDashboard);
}

}  // namespace esocore::api
