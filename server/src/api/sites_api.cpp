#include "api/sites_api.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>

#include "api/list_filters.h"
#include "api/pagination.h"
#include "api/request_body.h"
#include "core/crypto.h"
#include "http/response.h"

namespace esocore::api {

namespace json = boost::json;
using auth::Action;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t kMaxNameLength = 200;
constexpr std::size_t kMaxCodeLength = 50;
constexpr std::size_t kMaxAddressLength = 500;
constexpr std::array<std::string_view, 7> kDays{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

// The columns every answer about a site reads, in the order of siteJson.
constexpr const char* kSiteColumns =
    "s.id, s.organization_id, s.name, s.code, s.address, s.time_zone, s.operating_hours, "
    "s.created_at, s.updated_at, (SELECT count(*) FROM devices d WHERE d.site_id = s.id)";
constexpr std::size_t kSiteColumnCount = 10;

json::object siteJson(const store::SqlRow& row) {
    json::error_code ec;
    json::value hours = json::parse(row.text(6), ec);
    if (ec || !hours.is_object()) {
        hours = json::object{};
    }
    auto code = row.optionalText(3);
    return json::object{{"id", row.text(0)},
                        {"organization_id", row.text(1)},
                        {"name", row.text(2)},
                        {"code", code ? json::value(*code) : json::value(nullptr)},
                        {"address", row.text(4)},
                        {"time_zone", row.text(5)},
                        {"operating_hours", std::move(hours)},
                        {"device_count", row.integer(9)},
                        {"created_at", formatRfc3339Millis(row.integer(7))},
                        {"updated_at", formatRfc3339Millis(row.integer(8))}};
}

Response noContent() {
    Response response;
    response.status = 204;
    return response;
}

Error nameTaken() {
    return Error{409,
                 "name_taken",
                 "another site of this organization has this name",
                 {{"name", "already used in this organization"}}};
}

// "HH:MM" as minutes after midnight; 24:00 only where `end_of_day` allows it.
std::optional<int> minuteOfDay(const json::value& value, bool end_of_day) {
    if (!value.is_string() || value.as_string().size() != 5 || value.as_string()[2] != ':') {
        return std::nullopt;
    }
    std::string_view text = value.as_string();
    auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
    if (!digit(0) || !digit(1) || !digit(3) || !digit(4)) {
        return std::nullopt;
    }
    int hours = (text[0] - '0') * 10 + (text[1] - '0');
    int minutes = (text[3] - '0') * 10 + (text[4] - '0');
    if (minutes > 59 || hours > 24 || (hours == 24 && (minutes != 0 || !end_of_day))) {
        return std::nullopt;
    }
    return hours * 60 + minutes;
}

// The problem with one day's opening ranges, or empty.
std::string checkDay(std::string_view day, const json::value& ranges) {
    std::string where(day);
    if (!ranges.is_array()) {
        return where + ": must be a list of [\"HH:MM\", \"HH:MM\"] ranges";
    }
    std::vector<std::pair<int, int>> spans;
    for (std::size_t i = 0; i < ranges.as_array().size(); ++i) {
        const json::value& range = ranges.as_array()[i];
        std::string at = where + "[" + std::to_string(i) + "]";
        if (!range.is_array() || range.as_array().size() != 2) {
            return at + ": must be a [\"HH:MM\", \"HH:MM\"] pair";
        }
        auto start = minuteOfDay(range.as_array()[0], false);
        auto end = minuteOfDay(range.as_array()[1], true);
        if (!start || !end) {
            return at + ": times must be HH:MM, 00:00 to 24:00";
        }
        if (*start >= *end) {
            return at + ": the start must be before the end";
        }
        spans.emplace_back(*start, *end);
    }
    std::sort(spans.begin(), spans.end());
    for (std::size_t i = 1; i < spans.size(); ++i) {
        if (spans[i].first < spans[i - 1].second) {
            return where + ": ranges overlap";
        }
    }
    return {};
}

// Checks operating hours: {"mon": [["08:00", "17:00"]], ...}; a day left out is closed.
void readOperatingHours(BodyReader& body, const json::object& object) {
    if (!body.object("operating_hours")) {
        return;
    }
    for (const auto& [key, ranges] : object.at("operating_hours").as_object()) {
        if (std::find(kDays.begin(), kDays.end(), std::string_view(key)) == kDays.end()) {
            body.fail("operating_hours",
                      std::string(key) + ": days are mon, tue, wed, thu, " + "fri, sat and sun");
            return;
        }
        if (std::string problem = checkDay(key, ranges); !problem.empty()) {
            body.fail("operating_hours", problem);
            return;
        }
    }
}

// The fields a site's create or update may set, as read from the body.
struct SiteFields {
    std::optional<std::string> name;
    std::optional<std::string> code;
    bool clear_code = false;
    std::optional<std::string> address;
    std::optional<std::string> time_zone;
    std::optional<std::string> operating_hours;
};

SiteFields readSiteFields(BodyReader& body, const json::object& object, bool creating) {
    SiteFields fields;
    fields.name = body.text(
        "name", {.required = creating, .max_length = kMaxNameLength, .allow_empty = false});
    fields.code = body.text("code", {.max_length = kMaxCodeLength});
    fields.clear_code = body.isNull("code") || (fields.code && fields.code->empty());
    fields.address = body.text("address", {.max_length = kMaxAddressLength});
    fields.time_zone = body.timeZone("time_zone");
    readOperatingHours(body, object);
    if (body.has("operating_hours") && !body.isNull("operating_hours")) {
        fields.operating_hours = json::serialize(object.at("operating_hours"));
    }
    return fields;
}

Result<std::optional<store::SqlRow>> findSite(store::SqlSession& sql, const std::string& id) {
    if (id.empty()) {
        return std::optional<store::SqlRow>();
    }
    auto rows =
        sql.query(std::string("SELECT ") + kSiteColumns + " FROM sites s WHERE s.id = $1", {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<store::SqlRow>();
    }
    return std::optional<store::SqlRow>(std::move(rows->front()));
}

// The site of the request's `{id}` when the caller may perform `action` on it.
Result<store::SqlRow> siteFor(const ApiContext& context, const Request& request,
                              const Principal& principal, Action action) {
    std::string id = canonicalId(request.param("id"));
    auto site = findSite(context.sql, id);
    if (!site) {
        return site.takeError();
    }
    if (!*site) {
        return notFound("site");
    }
    if (auto allowed = require(principal, action, Target{(*site)->text(1), id, {}}, "site");
        !allowed) {
        return allowed.takeError();
    }
    return std::move(**site);
}

Result<void> checkNameFree(store::SqlSession& tx, const std::string& organization_id,
                           const std::string& name, const std::string& site_id) {
    auto rows =
        tx.query("SELECT count(*) FROM sites WHERE organization_id = $1 AND name = $2 AND id <> $3",
                 {organization_id, name, site_id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->front().integer(0) > 0) {
        return nameTaken();
    }
    return {};
}

// A unique violation that slipped past checkNameFree (a concurrent create) is the same 409.
Error asNameTaken(Error error) {
    return error.code == "conflict" ? nameTaken() : std::move(error);
}

Response answerSite(const ApiContext& context, int status, const std::string& id) {
    auto site = findSite(context.sql, id);
    if (!site) {
        return errorResponse(site.error());
    }
    if (!*site) {
        return errorResponse(notFound("site"));
    }
    return jsonResponse(status, siteJson(**site));
}

Response listSites(const ApiContext& context, const Request& request, const Principal& principal) {
    auto page = Page::parse(request,
                            {{"name", "s.name"},
                             {"created_at", "s.created_at", true},
                             {"updated_at", "s.updated_at", true}},
                            "name", "s.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string sql = std::string("SELECT ") + kSiteColumns + ", " + page->sortColumn() +
                      " FROM sites s WHERE " +
                      allowedRows(principal, Action::site_read,
                                  ScopeColumns{"s.organization_id", "s.id", {}}, params);
    auto organization = idFilter(request, "organization_id", "s.organization_id", params);
    if (!organization) {
        return errorResponse(organization.error());
    }
    sql.append(*organization);
    sql.append(searchCondition(request, {"s.name", "s.address", "coalesce(s.code, '')"}, params));
    sql.append(page->where(params)).append(page->orderAndLimit());
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(siteJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kSiteColumnCount, 0));
}

Response getSite(const ApiContext& context, const Request& request, const Principal& principal) {
    auto site = siteFor(context, request, principal, Action::site_read);
    if (!site) {
        return errorResponse(site.error());
    }
    return jsonResponse(200, siteJson(*site));
}

Response createSite(const ApiContext& context, const Request& request, const Principal& principal) {
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto requested = bodyId(body, "organization_id");
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    auto organization = targetOrganization(principal, Action::site_write, requested);
    if (!organization) {
        return errorResponse(organization.error());
    }
    SiteFields fields = readSiteFields(body, *object, true);
    body.rejectUnknown(
        {"organization_id", "name", "code", "address", "time_zone", "operating_hours"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }

    std::string id = newUuid();
    Micros now = nowMicros();
    auto created = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto free = checkNameFree(tx, *organization, *fields.name, id); !free) {
            return free;
        }
        auto inserted = tx.execute(
            "INSERT INTO sites (id, organization_id, name, code, address, time_zone, "
            "operating_hours, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            {id, *organization, *fields.name, store::textOrNull(fields.code.value_or("")),
             fields.address.value_or(""), fields.time_zone.value_or("UTC"),
             fields.operating_hours.value_or("{}"), now, now});
        if (!inserted) {
            return asNameTaken(inserted.takeError());
        }
        return audit(tx, principal, request, *organization,
                     {"site.created", "site", id, "site " + *fields.name + " created"});
    });
    if (!created) {
        return errorResponse(created.error());
    }
    return answerSite(context, 201, id);
}

// "SET a = $1, b = $2" for the fields present, and the names of what changed.
std::string siteAssignments(const SiteFields& fields, store::SqlParams& params,
                            std::string& changed) {
    std::string sets;
    auto set = [&](const char* column, store::SqlValue value) {
        sets.append(sets.empty() ? "" : ", ")
            .append(column)
            .append(" = ")
            .append(addParam(params, std::move(value)));
        changed.append(changed.empty() ? "" : ", ").append(column);
    };
    if (fields.name) {
        set("name", *fields.name);
    }
    if (fields.code || fields.clear_code) {
        set("code", store::textOrNull(fields.clear_code ? "" : *fields.code));
    }
    if (fields.address) {
        set("address", *fields.address);
    }
    if (fields.time_zone) {
        set("time_zone", *fields.time_zone);
    }
    if (fields.operating_hours) {
        set("operating_hours", *fields.operating_hours);
    }
    return sets;
}

Response updateSite(const ApiContext& context, const Request& request, const Principal& principal) {
    auto site = siteFor(context, request, principal, Action::site_write);
    if (!site) {
        return errorResponse(site.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    SiteFields fields = readSiteFields(body, *object, false);
    body.rejectUnknown({"name", "code", "address", "time_zone", "operating_hours"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }

    std::string id = site->text(0);
    std::string organization = site->text(1);
    store::SqlParams params;
    std::string changed;
    std::string sets = siteAssignments(fields, params, changed);
    if (sets.empty()) {
        return jsonResponse(200, siteJson(*site));
    }
    sets.append(", updated_at = ").append(addParam(params, nowMicros()));
    std::string sql = "UPDATE sites SET " + sets + " WHERE id = " + addParam(params, id);
    auto updated = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (fields.name) {
            if (auto free = checkNameFree(tx, organization, *fields.name, id); !free) {
                return free;
            }
        }
        if (auto done = tx.execute(sql, params); !done) {
            return asNameTaken(done.takeError());
        }
        return audit(tx, principal, request, organization,
                     {"site.updated", "site", id, "changed " + changed});
    });
    if (!updated) {
        return errorResponse(updated.error());
    }
    return answerSite(context, 200, id);
}

Response deleteSite(const ApiContext& context, const Request& request, const Principal& principal) {
    auto site = siteFor(context, request, principal, Action::site_write);
    if (!site) {
        return errorResponse(site.error());
    }
    std::string id = site->text(0);
    std::string organization = site->text(1);
    auto deleted = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto devices = tx.query("SELECT count(*) FROM devices WHERE site_id = $1", {id});
        if (!devices) {
            return devices.takeError();
        }
        if (std::int64_t count = devices->front().integer(0); count > 0) {
            return Error{409,
                         "site_not_empty",
                         std::to_string(count) +
                             " device(s) are at this site; move them to another site first",
                         {}};
        }
        // A membership narrowed to this site would grant nothing once it is gone.
        auto members = tx.execute("DELETE FROM memberships WHERE site_id = $1", {id});
        if (!members) {
            return members.takeError();
        }
        if (auto gone = tx.execute("DELETE FROM sites WHERE id = $1", {id}); !gone) {
            return gone.takeError();
        }
        std::string summary = "site " + site->text(2) + " deleted";
        if (*members > 0) {
            summary.append(" with ").append(std::to_string(*members)).append(" membership(s)");
        }
        return audit(tx, principal, request, organization, {"site.deleted", "site", id, summary});
    });
    if (!deleted) {
        return errorResponse(deleted.error());
    }
    return noContent();
}

}  // namespace

void addSiteRoutes(http::Router& router, const ApiContext& context) {
    auto route = [&](const char* method, const char* pattern,
                     Response (*handler)(const ApiContext&, const Request&, const Principal&)) {
        addManaged(router, context.authenticator, method, pattern,
                   [&context, handler](const Request& request, const Principal& principal) {
                       return handler(context, request, principal);
                   });
    };
    route("GET", "/api/sites", listSites);
    route("POST", "/api/sites", createSite);
    route("GET", "/api/sites/{id}", getSite);
    route("PATCH", "/api/sites/{id}", updateSite);
    route("DELETE", "/api/sites/{id}", deleteSite);
}

}  // namespace esocore::api
