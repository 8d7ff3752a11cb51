#include "api/firmware_api.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <filesystem>
#include <memory>

#include "api/device_config.h"
#include "api/filters.h"
#include "api/json_values.h"
#include "api/list_filters.h"
#include "api/pagination.h"
#include "api/request_body.h"
#include "api/rollouts_api.h"
#include "http/response.h"
#include "ota/firmware.h"
#include "ota/semver.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

// Firmware bundles are platform-wide: the same image serves every organization, and
// organizations decide with rollouts which of their devices get it. Anyone who may read
// firmware in some organization sees every bundle; only platform staff upload, edit or delete
// them, because a bundle changed by one tenant would reach the devices of all the others.

namespace {

constexpr std::string_view kWhat = "firmware bundle";
constexpr std::size_t kMaxNotes = 20'000;
constexpr std::size_t kMaxModels = 50;
constexpr std::array<std::string_view, 3> kChannels{"stable", "beta", "dev"};

constexpr const char* kColumns =
    "b.id, b.version, b.channel, b.models, b.release_notes, b.size, b.sha256, b.signature, "
    "b.created_at, b.updated_at, b.path";

enum BundleColumn : std::size_t {
    kId,
    kVersion,
    kChannel,
    kModels,
    kNotes,
    kSize,
    kSha256,
    kSignature,
    kCreatedAt,
    kUpdatedAt,
    kPath,
    kColumnCount
};

// What the routes share: the context and the service that signs images with the server's key.
struct FirmwareArea {
    explicit FirmwareArea(const ApiContext& context)
        : ctx(context),
          firmware(context.store, context.config.data_dir, context.config.secret_key) {}

    const ApiContext& ctx;
    ota::FirmwareService firmware;
};

using FirmwareHandler = Response (*)(FirmwareArea&, const Request&, const Principal&);

json::object bundleJson(const store::SqlRow& row) {
    return json::object{{"id", row.text(kId)},
                        {"version", row.text(kVersion)},
                        {"channel", row.text(kChannel)},
                        {"models", storedJson(row.text(kModels), json::array{})},
                        {"release_notes", row.text(kNotes)},
                        {"size", row.integer(kSize)},
                        {"sha256", row.text(kSha256)},
                        {"signature", row.text(kSignature)},
                        {"signature_algorithm", "ed25519"},
                        {"created_at", formatRfc3339Millis(row.integer(kCreatedAt))},
                        {"updated_at", formatRfc3339Millis(row.integer(kUpdatedAt))}};
}

Result<std::optional<store::SqlRow>> findBundle(store::SqlSession& sql, const std::string& id) {
    std::string query = "SELECT ";
    query.append(kColumns).append(" FROM firmware_bundles b WHERE b.id = $1");
    auto rows = sql.query(query, {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<store::SqlRow>{};
    }
    return std::optional<store::SqlRow>{std::move(rows->front())};
}

Result<void> mayRead(const Principal& principal) {
    if (principal.user.is_staff ||
        !organizationsAllowing(principal, auth::Action::firmware_read).empty()) {
        return {};
    }
    return permissionDenied();
}

Result<void> mayChange(const Principal& principal) {
    if (principal.user.is_staff) {
        return {};
    }
    return Error{403,
                 "permission_denied",
                 "firmware bundles are shared by every organization: only platform staff "
                 "upload, edit or delete them",
                 {}};
}

// The bundle named by the path; 404 when the id is malformed or unknown.
Result<store::SqlRow> visibleBundle(FirmwareArea& area, const Request& request,
                                    const Principal& principal, bool change) {
    if (auto allowed = change ? mayChange(principal) : mayRead(principal); !allowed) {
        return allowed.takeError();
    }
    std::string id = pathId(request);
    if (id.empty()) {
        return notFound(kWhat);
    }
    auto row = findBundle(area.ctx.sql, id);
    if (!row) {
        return row.takeError();
    }
    if (!*row) {
        return notFound(kWhat);
    }
    return std::move(**row);
}

Response answerBundle(store::SqlSession& sql, int status, const std::string& id) {
    auto row = findBundle(sql, id);
    if (!row) {
        return errorResponse(row.error());
    }
    if (!*row) {
        return errorResponse(notFound(kWhat));
    }
    return jsonResponse(status, bundleJson(**row));
}

Error versionExists(const std::string& version, const std::string& channel) {
    return Error{
        409, "version_exists", "firmware " + version + " already exists on channel " + channel, {}};
}

// Whether another bundle of `channel` has the precedence of `version` (build metadata aside).
Result<bool> channelHasVersion(store::SqlSession& sql, const std::string& channel,
                               const std::string& version, const std::string& except_id) {
    auto wanted = ota::parseVersion(version);
    auto rows = sql.query("SELECT version FROM firmware_bundles WHERE channel = $1 AND id <> $2",
                          {channel, except_id});
    if (!rows) {
        return rows.takeError();
    }
    return std::any_of(rows->begin(), rows->end(), [&](const store::SqlRow& row) {
        auto other = ota::parseVersion(row.text(0));
        return wanted && other && ota::compareVersions(*wanted, *other) == 0;
    });
}

// ---- Upload ------------------------------------------------------------------------------

bool isOctetStream(std::string_view content_type) {
    std::string media = lowercase(std::string(content_type.substr(0, content_type.find(';'))));
    media.erase(std::remove(media.begin(), media.end(), ' '), media.end());
    return media == "application/octet-stream";
}

// `?model=a&model=b` or `?models=a,b`.
Result<std::vector<std::string>> modelsParam(const Request& request) {
    std::vector<std::string> models = request.queryParams("model");
    if (auto list = request.queryParam("models")) {
        std::string_view rest = *list;
        while (!rest.empty()) {
            std::size_t comma = rest.find(',');
            models.emplace_back(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
    }
    std::sort(models.begin(), models.end());
    models.erase(std::unique(models.begin(), models.end()), models.end());
    if (models.empty() || models.size() > kMaxModels) {
        return invalidParameter("model", "name 1 to 50 models the image is for");
    }
    for (const auto& model : models) {
        if (!isModelName(model)) {
            return invalidParameter("model", "1 to 64 letters, digits, '.', '_' or '-'");
        }
    }
    return models;
}

Result<ota::NewBundle> uploadRequest(const Request& request) {
    auto version = request.queryParam("version");
    if (!version || !ota::parseVersion(*version)) {
        return Error{422,
                     "invalid_version",
                     "version must be a semantic version such as 1.10.0 or 2.0.0-rc.1",
                     {{"version", "not a semantic version"}}};
    }
    std::string channel = request.queryParam("channel").value_or("stable");
    if (std::find(kChannels.begin(), kChannels.end(), channel) == kChannels.end()) {
        return invalidParameter("channel", "one of: stable, beta, dev");
    }
    auto models = modelsParam(request);
    if (!models) {
        return models.takeError();
    }
    std::string notes = request.queryParam("release_notes").value_or("");
    if (notes.size() > kMaxNotes) {
        return invalidParameter("release_notes", "at most 20000 bytes");
    }
    return ota::NewBundle{request.body_file, *version, channel, std::move(*models), notes, true};
}

Response uploadBundle(FirmwareArea& area, const Request& request, const Principal& principal) {
    if (auto allowed = mayChange(principal); !allowed) {
        return errorResponse(allowed.error());
    }
    if (!isOctetStream(request.header("content-type"))) {
        return errorResponse(415, "unsupported_media_type",
                             "send the image itself as the body, as application/octet-stream");
    }
    auto bundle = uploadRequest(request);
    if (!bundle) {
        return errorResponse(bundle.error());
    }
    if (bundle->file.empty()) {
        return errorResponse(internalError("the upload was not spooled to disk"));
    }
    auto added = area.firmware.addBundle(
        *bundle, [&](store::SqlSession& tx, const store::FirmwareBundle& b) {
            return audit(tx, principal, request, "",
                         {"firmware.uploaded", "firmware_bundle", b.id,
                          "firmware " + b.version + " (" + b.channel + "), " +
                              std::to_string(b.size) + " bytes, sha256 " + b.sha256});
        });
    if (!added) {
        return errorResponse(added.error());
    }
    return answerBundle(area.ctx.sql, 201, added->id);
}

// ---- List, detail, edit, delete ------------------------------------------------------------

// `?model=`: bundles made for that model.
std::string modelCondition(store::SqlSession& sql, const std::string& model,
                           store::SqlParams& params) {
    std::string placeholder = addParam(params, model);
    if (sql.dialect() == "postgresql") {
        return " AND b.models @> jsonb_build_array(" + placeholder + "::text)";
    }
    return " AND EXISTS (SELECT 1 FROM json_each(b.models) m WHERE m.value = " + placeholder + ")";
}

Response listBundles(FirmwareArea& area, const Request& request, const Principal& principal) {
    if (auto allowed = mayRead(principal); !allowed) {
        return errorResponse(allowed.error());
    }
    auto page = Page::parse(
        request, {{"created_at", "b.created_at", true}, {"updated_at", "b.updated_at", true}},
        "-created_at", "b.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string where = "1 = 1";
    auto channel = choiceFilter(request, "channel", "b.channel", kChannels, params, true);
    if (!channel) {
        return errorResponse(channel.error());
    }
    where.append(*channel);
    if (auto model = request.queryParam("model")) {
        where.append(modelCondition(area.ctx.sql, *model, params));
    }
    if (auto version = request.queryParam("version")) {
        where.append(" AND b.version = ").append(addParam(params, ota::canonicalVersion(*version)));
    }
    if (auto search = request.queryParam("search"); search && !search->empty()) {
        where.append(" AND ").append(
            containsText({"b.version", "b.release_notes"}, *search, params));
    }
    std::string query = "SELECT ";
    query.append(kColumns).append(", ").append(page->sortColumn());
    query.append(" FROM firmware_bundles b WHERE ").append(where);
    query.append(page->where(params)).append(page->orderAndLimit());
    auto rows = area.ctx.sql.query(query, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(bundleJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kColumnCount, kId));
}

Response getBundle(FirmwareArea& area, const Request& request, const Principal& principal) {
    auto row = visibleBundle(area, request, principal, false);
    if (!row) {
        return errorResponse(row.error());
    }
    return jsonResponse(200, bundleJson(*row));
}

// The fields of a PATCH, checked.
struct BundleChanges {
    std::optional<std::string> release_notes;
    std::optional<std::string> models_json;
    std::optional<std::string> channel;
};

Result<BundleChanges> readChanges(const json::object& object) {
    BodyReader body(object);
    BundleChanges changes;
    changes.release_notes = body.text("release_notes", {.max_length = kMaxNotes});
    changes.models_json = body.stringArray("models");
    changes.channel = body.choice("channel", {"stable", "beta", "dev"});
    body.rejectUnknown({"release_notes", "models", "channel"});
    if (changes.models_json) {
        json::array models = json::parse(*changes.models_json).as_array();
        bool named = std::all_of(models.begin(), models.end(), [](const json::value& m) {
            return isModelName(std::string(m.as_string()));
        });
        if (models.empty() || models.size() > kMaxModels || !named) {
            body.fail("models", "1 to 50 model names of letters, digits, '.', '_' or '-'");
        }
    } else if (body.isNull("models")) {
        body.fail("models", "must be an array of model names");
    }
    if (auto checked = body.result(); !checked) {
        return checked.takeError();
    }
    return changes;
}

std::string changeSummary(const store::SqlRow& row, const BundleChanges& changes) {
    std::string summary = "firmware " + row.text(kVersion) + ":";
    if (changes.release_notes) {
        summary.append(" release notes;");
    }
    if (changes.models_json) {
        summary.append(" models ").append(*changes.models_json).append(";");
    }
    if (changes.channel) {
        summary.append(" channel ").append(row.text(kChannel)).append(" -> ");
        summary.append(*changes.channel).append(";");
    }
    summary.pop_back();
    return summary;
}

Result<void> applyChanges(store::SqlSession& tx, const store::SqlRow& row,
                          const BundleChanges& changes) {
    std::string id = row.text(kId);
    std::string channel = changes.channel.value_or(row.text(kChannel));
    if (channel != row.text(kChannel)) {
        auto taken = channelHasVersion(tx, channel, row.text(kVersion), id);
        if (!taken) {
            return taken.takeError();
        }
        if (*taken) {
            return versionExists(row.text(kVersion), channel);
        }
    }
    auto updated = tx.execute(
        "UPDATE firmware_bundles SET release_notes = $1, models = $2, channel = $3, "
        "updated_at = $4 WHERE id = $5",
        {changes.release_notes.value_or(row.text(kNotes)),
         changes.models_json.value_or(row.text(kModels)), channel, nowMicros(), id});
    if (!updated) {
        return updated.takeError();
    }
    return {};
}

Response patchBundle(FirmwareArea& area, const Request& request, const Principal& principal) {
    auto row = visibleBundle(area, request, principal, true);
    if (!row) {
        return errorResponse(row.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    auto changes = readChanges(*object);
    if (!changes) {
        return errorResponse(changes.error());
    }
    if (!changes->release_notes && !changes->models_json && !changes->channel) {
        return jsonResponse(200, bundleJson(*row));
    }
    std::string id = row->text(kId);
    auto changed = area.ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto applied = applyChanges(tx, *row, *changes); !applied) {
            return applied;
        }
        return audit(tx, principal, request, "",
                     {"firmware.updated", "firmware_bundle", id, changeSummary(*row, *changes)});
    });
    if (!changed) {
        return errorResponse(changed.error());
    }
    return answerBundle(area.ctx.sql, 200, id);
}

Response deleteBundle(FirmwareArea& area, const Request& request, const Principal& principal) {
    auto row = visibleBundle(area, request, principal, true);
    if (!row) {
        return errorResponse(row.error());
    }
    std::string id = row->text(kId);
    auto removed = area.ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto open = tx.query(
            "SELECT count(*) FROM rollouts WHERE bundle_id = $1 "
            "AND status IN ('active', 'paused')",
            {id});
        if (!open) {
            return open.takeError();
        }
        if (std::int64_t count = open->front().integer(0); count > 0) {
            return Error{409,
                         "bundle_in_use",
                         std::to_string(count) +
                             " active or paused rollouts use this bundle: cancel them first",
                         {}};
        }
        // Finished rollouts of the bundle and its device updates go with it.
        auto deleted = tx.execute("DELETE FROM firmware_bundles WHERE id = $1", {id});
        if (!deleted) {
            return deleted.takeError();
        }
        return audit(tx, principal, request, "",
                     {"firmware.deleted", "firmware_bundle", id,
                      "firmware " + row->text(kVersion) + " (" + row->text(kChannel) + ")"});
    });
    if (!removed) {
        return errorResponse(removed.error());
    }
    std::error_code ignored;
    std::filesystem::remove(row->text(kPath), ignored);
    Response response;
    response.status = 204;
    return response;
}

Response publicKey(FirmwareArea& area, const Request&, const Principal&) {
    return jsonResponse(
        200, json::object{{"public_key", area.firmware.publicKey()}, {"algorithm", "ed25519"}});
}

}  // namespace

void addFirmwareRoutes(http::Router& router, const ApiContext& context) {
    auto area = std::make_shared<FirmwareArea>(context);
    auto route = [&](const char* method, const char* pattern, FirmwareHandler handler,
                     http::RouteOptions options = {}) {
        addManaged(
            router, context.authenticator, method, pattern,
            [area, handler](const Request& request, const Principal& principal) {
                return handler(*area, request, principal);
            },
            std::move(options));
    };
    route("GET", "/api/firmware", listBundles);
    // The image is the body, written to disk as it arrives (never held in memory whole).
    route("POST", "/api/firmware", uploadBundle,
          http::RouteOptions{.max_body = context.config.max_firmware_bytes,
                             .spool_directory = area->firmware.spoolDirectory()});
    route("GET", "/api/firmware/public-key", publicKey);
    route("GET", "/api/firmware/{id}", getBundle);
    route("PATCH", "/api/firmware/{id}", patchBundle);
    route("DELETE", "/api/firmware/{id}", deleteBundle);
    addRolloutRoutes(router, context);
}

}  // namespace esocore::api
