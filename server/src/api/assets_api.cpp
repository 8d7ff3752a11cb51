#include "api/assets_api.h"

#include <array>
#include <boost/json.hpp>

#include "api/area_routes.h"
#include "api/asset_cycles_api.h"
#include "api/asset_scope.h"
#include "api/json_values.h"
#include "api/list_filters.h"
#include "api/local_calendar.h"
#include "api/maintenance_plans_api.h"
#include "api/maintenance_tickets_api.h"
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

constexpr std::size_t kMaxExternalId = 100;
constexpr std::size_t kMaxText = 200;
constexpr std::size_t kMaxLocation = 500;
constexpr std::array<std::string_view, 7> kAssetTypes{"door",  "cnc",      "robot", "pump",
                                                      "motor", "conveyor", "other"};

constexpr const char* kAssetColumns =
    "a.id, a.organization_id, a.site_id, a.external_id, a.name, a.type, a.make, a.model, "
    "a.serial, a.installed_on, a.location, a.specifications, a.tags, a.active, a.created_at, "
    "a.updated_at";

json::object assetJson(const store::SqlRow& row) {
    return json::object{
        {"id", row.text(0)},
        {"organization_id", row.text(1)},
        {"site_id", textOrNull(row, 2)},
        {"external_id", row.text(3)},
        {"name", row.text(4)},
        {"type", row.text(5)},
        {"make", row.text(6)},
        {"model", row.text(7)},
        {"serial", row.text(8)},
        {"installed_on", textOrNull(row, 9)},
        {"location", row.text(10)},
        {"specifications", storedJson(row.text(11), json::object{})},
        {"tags", storedJson(row.text(12), json::array{})},
        {"active", row.integer(13) != 0},
        {"created_at", formatRfc3339Millis(row.integer(14))},
        {"updated_at", formatRfc3339Millis(row.integer(15))},
    };
}

// The asset as answered; the caller has checked that it exists and may be seen.
Response answerAsset(store::SqlSession& sql, const std::string& id, int status) {
    auto rows =
        sql.query(std::string("SELECT ") + kAssetColumns + " FROM assets a WHERE a.id = $1", {id});
    if (!rows) {
        return errorResponse(rows.error());
    }
    if (rows->empty()) {
        return errorResponse(notFound("asset"));  // deleted meanwhile
    }
    return jsonResponse(status, assetJson(rows->front()));
}

Error externalIdTaken() {
    return Error{409,
                 "external_id_taken",
                 "another asset of the organization has this external id",
                 {{"external_id", "taken"}}};
}

// One column a body sets.
struct Column {
    std::string name;
    store::SqlValue value;
};

// A field that holds null although only an absent value is allowed for it.
void rejectNulls(const json::object& object, BodyReader& body,
                 std::initializer_list<std::string_view> nullable) {
    for (const auto& item : object) {
        if (item.value().is_null() &&
            std::find(nullable.begin(), nullable.end(), item.key()) == nullable.end()) {
            body.fail(std::string(item.key()), "must not be null");
        }
    }
}

std::optional<std::string> readExternalId(BodyReader& body, bool required) {
    auto external_id = body.text(
        "external_id", {.required = required, .max_length = kMaxExternalId, .allow_empty = false});
    if (external_id && (std::isspace(static_cast<unsigned char>(external_id->front())) ||
                        std::isspace(static_cast<unsigned char>(external_id->back())))) {
        body.fail("external_id", "must not start or end with white space");
        return std::nullopt;
    }
    return external_id;
}

// The asset's own columns that the body sets; problems go to `body`.
std::vector<Column> readAssetColumns(BodyReader& body, bool creating) {
    std::vector<Column> columns;
    if (auto external_id = readExternalId(body, creating)) {
        columns.push_back({"external_id", *external_id});
    }
    if (auto type =
            body.choice("type", {"door", "cnc", "robot", "pump", "motor", "conveyor", "other"})) {
        columns.push_back({"type", *type});
    }
    for (const char* name : {"name", "make", "model", "serial"}) {
        if (auto text = body.text(name, {.max_length = kMaxText})) {
            columns.push_back({name, *text});
        }
    }
    if (auto location = body.text("location", {.max_length = kMaxLocation})) {
        columns.push_back({"location", *location});
    }
    if (body.isNull("installed_on")) {
        columns.push_back({"installed_on", nullptr});
    } else if (auto installed = body.text("installed_on", {.max_length = 10})) {
        if (!parseDate(*installed)) {
            body.fail("installed_on", "must be a date, YYYY-MM-DD");
        } else {
            columns.push_back({"installed_on", *installed});
        }
    }
    if (auto specifications = body.object("specifications")) {
        columns.push_back({"specifications", *specifications});
    }
    if (auto tags = body.stringArray("tags")) {
        columns.push_back({"tags", *tags});
    }
    if (auto active = body.boolean("active")) {
        columns.push_back({"active", std::int64_t{*active ? 1 : 0}});
    }
    return columns;
}

std::string columnNames(const std::vector<Column>& columns) {
    std::string names;
    for (const auto& column : columns) {
        names.append(names.empty() ? "" : ", ").append(column.name);
    }
    return names;
}

// The organization of a site the caller may see, or nothing.
Result<std::optional<std::string>> visibleSite(store::SqlSession& sql, const Principal& principal,
                                               const std::string& site_id) {
    auto rows = sql.query("SELECT organization_id FROM sites WHERE id = $1", {site_id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty() || !maySee(principal, Target{rows->front().text(0), site_id, {}})) {
        return std::optional<std::string>{};
    }
    return std::optional<std::string>{rows->front().text(0)};
}

// Where a new asset goes: the site's organization when a site is named (the caller must be
// allowed to write assets there), else the organization the caller names or has.
Result<Target> placeNewAsset(store::SqlSession& sql, const Principal& principal,
                             const std::optional<std::string>& organization,
                             const std::optional<std::string>& site) {
    if (!site) {
        auto chosen = targetOrganization(principal, auth::Action::asset_write, organization);
        if (!chosen) {
            return chosen.takeError();
        }
        return Target{*chosen, {}, {}};
    }
    auto site_organization = visibleSite(sql, principal, *site);
    if (!site_organization) {
        return site_organization.takeError();
    }
    if (!*site_organization || (organization && *organization != **site_organization)) {
        return invalidField("site_id", "no such site in the asset's organization");
    }
    Target target{**site_organization, *site, {}};
    if (auto allowed = require(principal, auth::Action::asset_write, target, "site"); !allowed) {
        return allowed.takeError();
    }
    return target;
}

Response createAsset(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    rejectNulls(*object, body, {"site_id", "installed_on"});
    std::vector<Column> columns = readAssetColumns(body, true);
    auto organization = bodyId(body, "organization_id");
    auto site = bodyId(body, "site_id");
    body.rejectUnknown({"organization_id", "site_id", "external_id", "name", "type", "make",
                        "model", "serial", "installed_on", "location", "specifications", "tags",
                        "active"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    auto place = placeNewAsset(ctx.sql, principal, organization, site);
    if (!place) {
        return errorResponse(place.error());
    }

    std::string id = newUuid();
    std::string external_id = std::get<std::string>(columns.front().value);
    Micros now = nowMicros();
    columns.push_back({"id", id});
    columns.push_back({"organization_id", place->organization_id});
    columns.push_back({"site_id", store::textOrNull(place->site_id)});
    columns.push_back({"created_at", now});
    columns.push_back({"updated_at", now});
    store::SqlParams params;
    std::string values;
    for (auto& column : columns) {
        values.append(values.empty() ? "" : ", ").append(addParam(params, column.value));
    }
    auto saved = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto inserted = tx.execute(
            "INSERT INTO assets (" + columnNames(columns) + ") VALUES (" + values + ")", params);
        if (!inserted) {
            return inserted.error().code == "conflict" ? externalIdTaken() : inserted.takeError();
        }
        return audit(tx, principal, request, place->organization_id,
                     {"asset.created", "asset", id, "created asset " + external_id});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return answerAsset(ctx.sql, id, 201);
}

// The site an asset moves to: empty for none. Must be a site of the asset's organization where
// the caller may write assets.
Result<std::string> readNewSite(store::SqlSession& sql, const Principal& principal,
                                BodyReader& body, const AssetScope& asset) {
    std::string site;
    if (!body.isNull("site_id")) {
        auto requested = bodyId(body, "site_id");
        if (!requested) {
            return std::string{};  // the reader has the problem
        }
        site = *requested;
        auto organization = visibleSite(sql, principal, site);
        if (!organization) {
            return organization.takeError();
        }
        if (!*organization || **organization != asset.organization_id) {
            return invalidField("site_id", "no such site in the asset's organization");
        }
    }
    Target target{asset.organization_id, site, {}};
    if (auto allowed = require(principal, auth::Action::asset_write, target, "site"); !allowed) {
        return allowed.takeError();
    }
    return site;
}

Response updateAsset(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto asset = loadAsset(ctx.sql, principal, request.param("id"), auth::Action::asset_write);
    if (!asset) {
        return errorResponse(asset.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    rejectNulls(*object, body, {"site_id", "installed_on"});
    std::vector<Column> columns = readAssetColumns(body, false);
    if (body.has("site_id")) {
        auto site = readNewSite(ctx.sql, principal, body, *asset);
        if (!site) {
            return errorResponse(site.error());
        }
        columns.push_back({"site_id", store::textOrNull(*site)});
    }
    body.rejectUnknown({"site_id", "external_id", "name", "type", "make", "model", "serial",
                        "installed_on", "location", "specifications", "tags", "active"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    if (columns.empty()) {
        return answerAsset(ctx.sql, asset->id, 200);
    }

    std::string summary = "changed " + columnNames(columns) + " of asset " + asset->external_id;
    store::SqlParams params;
    std::string assignments;
    for (auto& column : columns) {
        assignments.append(column.name).append(" = ").append(addParam(params, column.value));
        assignments.append(", ");
    }
    assignments.append("updated_at = ").append(addParam(params, nowMicros()));
    std::string where = " WHERE id = " + addParam(params, asset->id);
    auto saved = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto updated = tx.execute("UPDATE assets SET " + assignments + where, params);
        if (!updated) {
            return updated.error().code == "conflict" ? externalIdTaken() : updated.takeError();
        }
        return audit(tx, principal, request, asset->organization_id,
                     {"asset.updated", "asset", asset->id, summary});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return answerAsset(ctx.sql, asset->id, 200);
}

Response getAsset(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto asset = loadAsset(ctx.sql, principal, request.param("id"), auth::Action::asset_read);
    if (!asset) {
        return errorResponse(asset.error());
    }
    return answerAsset(ctx.sql, asset->id, 200);
}

Response deleteAsset(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto asset = loadAsset(ctx.sql, principal, request.param("id"), auth::Action::asset_write);
    if (!asset) {
        return errorResponse(asset.error());
    }
    auto deleted = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto removed = tx.execute("DELETE FROM assets WHERE id = $1", {asset->id});
        if (!removed) {
            return removed.takeError();
        }
        return audit(tx, principal, request, asset->organization_id,
                     {"asset.deleted", "asset", asset->id, "deleted asset " + asset->external_id});
    });
    if (!deleted) {
        return errorResponse(deleted.error());
    }
    Response response;
    response.status = 204;
    return response;
}

// The list's filters beyond visibility, as " AND ..." conditions.
Result<std::string> assetFilters(const Request& request, store::SqlParams& params) {
    std::string conditions;
    for (auto filter : {idFilter(request, "organization_id", "a.organization_id", params),
                        idFilter(request, "site_id", "a.site_id", params),
                        choiceFilter(request, "type", "a.type", kAssetTypes, params, true),
                        booleanFilter(request, "active", "a.active", params)}) {
        if (!filter) {
            return filter.takeError();
        }
        conditions += *filter;
    }
    return conditions +
           searchCondition(request, {"a.external_id", "a.name", "a.make", "a.model"}, params);
}

Response listAssets(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto page = Page::parse(request,
                            {{"external_id", "a.external_id"},
                             {"name", "a.name"},
                             {"type", "a.type"},
                             {"created_at", "a.created_at", true},
                             {"updated_at", "a.updated_at", true}},
                            "external_id", "a.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string visible = allowedRows(principal, auth::Action::asset_read,
                                      {"a.organization_id", "a.site_id", ""}, params);
    auto filters = assetFilters(request, params);
    if (!filters) {
        return errorResponse(filters.error());
    }
    std::string sql = std::string("SELECT ") + kAssetColumns + ", " + page->sortColumn() +
                      " FROM assets a WHERE " + visible + *filters + page->where(params) +
                      page->orderAndLimit();
    auto rows = ctx.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(assetJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, 16, 0));
}

}  // namespace

void addAssetRoutes(http::Router& router, const ApiContext& context) {
    auto route = [&](const char* method, const char* pattern, AreaHandler handler) {
        addAreaRoute(router, context, method, pattern, handler);
    };
    route("GET", "/api/assets", listAssets);
    route("POST", "/api/assets", createAsset);
    route("GET", "/api/assets/{id}", getAsset);
    route("PATCH", "/api/assets/{id}", updateAsset);
    route("DELETE", "/api/assets/{id}", deleteAsset);
    addAssetCycleRoutes(router, context);
    addMaintenancePlanRoutes(router, context);
    addMaintenanceTicketRoutes(router, context);
}

}  // namespace esocore::api
