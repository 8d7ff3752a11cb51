#include "api/config_profiles_api.h"

#include <boost/json.hpp>
#include <cctype>

#include "api/device_config.h"
#include "api/filters.h"
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

constexpr std::string_view kWhat = "config profile";

// The columns of a profile answer, in the order of ProfileColumn.
constexpr std::string_view kColumns =
    "cp.id, cp.organization_id, cp.model, cp.settings, cp.version, cp.updated_at, "
    "(SELECT count(*) FROM devices d WHERE d.organization_id = cp.organization_id "
    "AND d.model = cp.model)";

enum ProfileColumn : std::size_t {
    kId,
    kOrganization,
    kModel,
    kSettings,
    kVersion,
    kUpdatedAt,
    kDeviceCount,
    kColumnCount
};

json::object settingsObject(const std::string& text) {
    json::error_code ec;
    json::value value = json::parse(text, ec);
    return !ec && value.is_object() ? std::move(value.as_object()) : json::object{};
}

json::object profileJson(const store::SqlRow& row) {
    return json::object{{"id", row.text(kId)},
                        {"organization_id", row.text(kOrganization)},
                        {"model", row.text(kModel)},
                        {"settings", settingsObject(row.text(kSettings))},
                        {"version", row.integer(kVersion)},
                        {"device_count", row.integer(kDeviceCount)},
                        {"updated_at", formatRfc3339Millis(row.integer(kUpdatedAt))}};
}

Result<std::optional<store::SqlRow>> findProfile(store::SqlSession& sql, const std::string& id) {
    std::string query = "SELECT ";
    query.append(kColumns).append(" FROM config_profiles cp WHERE cp.id = $1");
    auto rows = sql.query(query, {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<store::SqlRow>{};
    }
    return std::optional<store::SqlRow>(std::move(rows->front()));
}

// The profile named by the path when the caller may perform `action` on it; 404 otherwise,
// the same answer whether it is missing, malformed or another organization's.
Result<store::SqlRow> visibleProfile(const ApiContext& ctx, const Request& request,
                                     const Principal& principal, auth::Action action) {
    std::string id = pathId(request);
    if (id.empty()) {
        return notFound(kWhat);
    }
    auto row = findProfile(ctx.sql, id);
    if (!row) {
        return row.takeError();
    }
    if (!*row) {
        return notFound(kWhat);
    }
    Target target{(*row)->text(kOrganization), {}, {}};
    if (auto allowed = require(principal, action, target, kWhat); !allowed) {
        return allowed.takeError();
    }
    return std::move(**row);
}

Error profileExists() {
    return Error{409,
                 "profile_exists",
                 "this organization already has a profile for that model",
                 {{"model", "a profile for this model exists"}}};
}

// Whether another profile of the organization is for `model`.
Result<bool> modelTaken(store::SqlSession& tx, const std::string& organization_id,
                        const std::string& model, const std::string& except_id) {
    auto rows = tx.query(
        "SELECT count(*) FROM config_profiles WHERE organization_id = $1 AND model = $2 "
        "AND id <> $3",
        {organization_id, model, except_id});
    if (!rows) {
        return rows.takeError();
    }
    return rows->front().integer(0) > 0;
}

Response answerProfile(const ApiContext& ctx, int status, const std::string& id) {
    auto row = findProfile(ctx.sql, id);
    if (!row) {
        return errorResponse(row.error());
    }
    if (!*row) {
        return errorResponse(notFound(kWhat));
    }
    return jsonResponse(status, profileJson(**row));
}

Response noContent() {
    Response response;
    response.status = 204;
    return response;
}

// The model and settings of a create or update, checked.
struct ProfileFields {
    std::optional<std::string> model;
    std::optional<json::object> settings;
};

Result<ProfileFields> readFields(const ApiContext& ctx, BodyReader& body,
                                 const json::object& object, bool creating) {
    ProfileFields fields;
    fields.model = body.text("model", {.required = creating, .max_length = 64});
    if (fields.model && !isModelName(*fields.model)) {
        body.fail("model", "1 to 64 letters, digits, '.', '_' or '-'");
    }
    if (body.object("settings")) {
        fields.settings = object.at("settings").as_object();
        // One answer names every problem, those of the settings included.
        if (auto valid = checkSettings(*fields.settings, ctx.config, "settings"); !valid) {
            for (const auto& [field, message] : valid.error().fields) {
                body.fail(field, message);
            }
        }
    } else if (creating && !body.has("settings")) {
        fields.settings = json::object{};
    } else if (body.isNull("settings")) {
        body.fail("settings", "must be an object");
    }
    if (auto checked = body.result(); !checked) {
        return checked.takeError();
    }
    return fields;
}

Response listProfiles(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto page = Page::parse(request, {{"model", "cp.model"}, {"updated_at", "cp.updated_at", true}},
                            "model", "cp.id");
    if (!page) {
        return errorResponse(page.error());
    }
    auto organization = idParam(request, "organization_id");
    if (!organization) {
        return errorResponse(organization.error());
    }
    store::SqlParams params;
    std::string where = allowedRows(principal, auth::Action::config_profile_read,
                                    {"cp.organization_id", "", ""}, params);
    if (*organization) {
        where.append(" AND cp.organization_id = ").append(addParam(params, **organization));
    }
    if (auto model = request.queryParam("model")) {
        where.append(" AND cp.model = ").append(addParam(params, *model));
    }
    if (auto search = request.queryParam("search"); search && !search->empty()) {
        where.append(" AND ").append(containsText({"cp.model"}, *search, params));
    }
    std::string query = "SELECT ";
    query.append(kColumns).append(", ").append(page->sortColumn());
    query.append(" FROM config_profiles cp WHERE ").append(where);
    query.append(page->where(params)).append(page->orderAndLimit());
    auto rows = ctx.sql.query(query, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(profileJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kColumnCount, kId));
}

Response createProfile(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto requested = body.id("organization_id");
    body.rejectUnknown({"organization_id", "model", "settings"});
    auto fields = readFields(ctx, body, *object, true);
    if (!fields) {
        return errorResponse(fields.error());
    }
    auto organization =
        targetOrganization(principal, auth::Action::config_profile_write,
                           requested ? std::optional(lowercase(*requested)) : std::nullopt);
    if (!organization) {
        return errorResponse(organization.error());
    }
    std::string id = newUuid();
    auto made = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto inserted = tx.execute(
            "INSERT INTO config_profiles (id, organization_id, model, settings, version, "
            "updated_at) VALUES ($1, $2, $3, $4, 1, $5) "
            "ON CONFLICT (organization_id, model) DO NOTHING",
            {id, *organization, *fields->model, json::serialize(*fields->settings), nowMicros()});
        if (!inserted) {
            return inserted.takeError();
        }
        if (*inserted == 0) {
            return profileExists();
        }
        return audit(tx, principal, request, *organization,
                     {"config_profile.created", "config_profile", id,
                      "config profile for model " + *fields->model});
    });
    if (!made) {
        return errorResponse(made.error());
    }
    return answerProfile(ctx, 201, id);
}

Response getProfile(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto row = visibleProfile(ctx, request, principal, auth::Action::config_profile_read);
    if (!row) {
        return errorResponse(row.error());
    }
    return jsonResponse(200, profileJson(*row));
}

// Applies a PATCH inside `tx`: the model (unless another profile has it) and the settings,
// with the version raised once.
Result<void> updateProfile(store::SqlSession& tx, const store::SqlRow& row,
                           const ProfileFields& fields) {
    std::string id = row.text(kId);
    std::string model = fields.model.value_or(row.text(kModel));
    if (model != row.text(kModel)) {
        auto taken = modelTaken(tx, row.text(kOrganization), model, id);
        if (!taken) {
            return taken.takeError();
        }
        if (*taken) {
            return profileExists();
        }
    }
    std::string settings =
        fields.settings ? json::serialize(*fields.settings) : row.text(kSettings);
    auto updated = tx.execute(
        "UPDATE config_profiles SET model = $1, settings = $2, version = version + 1, "
        "updated_at = $3 WHERE id = $4",
        {model, settings, nowMicros(), id});
    if (!updated) {
        return updated.takeError();
    }
    return {};
}

Response patchProfile(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto row = visibleProfile(ctx, request, principal, auth::Action::config_profile_write);
    if (!row) {
        return errorResponse(row.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    body.rejectUnknown({"model", "settings"});
    auto fields = readFields(ctx, body, *object, false);
    if (!fields) {
        return errorResponse(fields.error());
    }
    std::string id = row->text(kId);
    if (!fields->model && !fields->settings) {
        return jsonResponse(200, profileJson(*row));
    }
    auto changed = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto updated = updateProfile(tx, *row, *fields); !updated) {
            return updated;
        }
        std::string summary =
            "config profile for model " + fields->model.value_or(row->text(kModel));
        summary.append(fields->settings ? ": settings replaced" : ": model changed");
        return audit(tx, principal, request, row->text(kOrganization),
                     {"config_profile.updated", "config_profile", id, summary});
    });
    if (!changed) {
        return errorResponse(changed.error());
    }
    return answerProfile(ctx, 200, id);
}

Response deleteProfile(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto row = visibleProfile(ctx, request, principal, auth::Action::config_profile_write);
    if (!row) {
        return errorResponse(row.error());
    }
    std::string id = row->text(kId);
    auto removed = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto deleted = tx.execute("DELETE FROM config_profiles WHERE id = $1", {id});
        if (!deleted) {
            return deleted.takeError();
        }
        return audit(tx, principal, request, row->text(kOrganization),
                     {"config_profile.deleted", "config_profile", id,
                      "config profile for model " + row->text(kModel)});
    });
    if (!removed) {
        return errorResponse(removed.error());
    }
    return noContent();
}

}  // namespace

Result<json::value> configProfileFor(store::SqlSession& sql, const std::string& organization_id,
                                     const std::string& model) {
    if (organization_id.empty()) {
        return json::value(nullptr);
    }
    std::string query = "SELECT ";
    query.append(kColumns).append(
        " FROM config_profiles cp WHERE cp.organization_id = $1 AND cp.model = $2");
    auto rows = sql.query(query, {organization_id, model});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return json::value(nullptr);
    }
    return json::value(profileJson(rows->front()));
}

void addConfigProfileRoutes(http::Router& router, const ApiContext& context) {
    const ApiContext* ctx = &context;
    auto route = [&](const char* method, const char* pattern,
                     Response (*handler)(const ApiContext&, const Request&, const Principal&)) {
        addManaged(router, context.authenticator, method, pattern,
                   [ctx, handler](const Request& request, const Principal& principal) {
                       return handler(*ctx, request, principal);
                   });
    };
    route("GET", "/api/config-profiles", listProfiles);
    route("POST", "/api/config-profiles", createProfile);
    route("GET", "/api/config-profiles/{id}", getProfile);
    route("PATCH", "/api/config-profiles/{id}", patchProfile);
    route("DELETE", "/api/config-profiles/{id}", deleteProfile);
}

}  // namespace esocore::api
