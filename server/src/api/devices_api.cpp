#include "api/devices_api.h"

#include <qrencode.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <memory>

#include "api/config_profiles_api.h"
#include "api/device_config.h"
#include "api/filters.h"
#include "api/pagination.h"
#include "api/request_body.h"
#include "auth/device_keys.h"
#include "core/crypto.h"
#include "http/response.h"
#include "live/publish.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr std::string_view kWhat = "device";
constexpr std::string_view kClaimCodePrefix = "esocore-claim:1:";
constexpr std::size_t kClaimTokenBytes = 24;
constexpr std::size_t kMaxSerial = 64;
constexpr std::size_t kMaxTags = 32;
constexpr std::size_t kMaxTag = 64;
constexpr std::int64_t kDaySeconds = 86'400;
constexpr Micros kSecond = 1'000'000;

// The columns of a device answer, in the order of DeviceColumn (see selectDevices).
enum DeviceColumn : std::size_t {
    kId,
    kOrganization,
    kSerial,
    kName,
    kModel,
    kFirmwareVersion,
    kChannel,
    kSite,
    kAsset,
    kTags,
    kStatus,
    kHealth,
    kLastSeen,
    kFirstSeen,
    kClaimedAt,
    kCreatedAt,
    kUpdatedAt,
    kOnline,
    kColumnCount
};

// ---- Reading devices ----------------------------------------------------------------------

// The offline timeout of each device in seconds, as deviceConfig merges it: the device's
// override, else its model's profile in its organization (joined as `p`), else the default.
std::string offlineTimeout(const ApiContext& ctx) {
    bool postgres = ctx.sql.dialect() == "postgresql";
    auto setting = [postgres](std::string_view column) {
        std::string out = postgres ? "CASE WHEN jsonb_typeof(" : "CASE WHEN json_type(";
        out.append(column);
        out.append(postgres ? "->'offline_timeout_s') = 'number' THEN ("
                            : ", '$.offline_timeout_s') IN ('integer', 'real') THEN json_extract(");
        out.append(column);
        return out.append(postgres ? "->>'offline_timeout_s')::numeric END"
                                   : ", '$.offline_timeout_s') END");
    };
    std::string timeout = "coalesce(";
    timeout.append(setting("d.config_overrides")).append(", ").append(setting("p.settings"));
    return timeout.append(", ")
        .append(std::to_string(ctx.config.default_offline_timeout_seconds))
        .append(")");
}

// True for a device seen within its offline timeout of `now` (a placeholder).
std::string onlineCondition(const ApiContext& ctx, const std::string& now) {
    return "(d.last_seen IS NOT NULL AND d.last_seen + " + offlineTimeout(ctx) +
           " * 1000000 >= " + now + ")";
}

// SELECT <the columns of DeviceColumn>[, extra] FROM devices d ...; binds the current time
// first, so that it is $1.
std::string selectDevices(const ApiContext& ctx, store::SqlParams& params,
                          const std::string& extra = {}) {
    std::string now = addParam(params, nowMicros());
    std::string query =
        "SELECT d.id, d.organization_id, d.serial, d.name, d.model, d.firmware_version, "
        "d.firmware_channel, d.site_id, d.asset_id, d.tags, d.status, d.health, d.last_seen, "
        "d.first_seen, d.claimed_at, d.created_at, d.updated_at, CASE WHEN ";
    query.append(onlineCondition(ctx, now)).append(" THEN 1 ELSE 0 END");
    if (!extra.empty()) {
        query.append(", ").append(extra);
    }
    return query.append(
        " FROM devices d LEFT JOIN config_profiles p ON p.organization_id = d.organization_id "
        "AND p.model = d.model");
}

json::value parsedOr(const std::string& text, json::value fallback) {
    json::error_code ec;
    json::value value = json::parse(text, ec);
    return ec || value.kind() != fallback.kind() ? fallback : value;
}

json::value optionalText(const store::SqlRow& row, std::size_t column) {
    auto text = row.optionalText(column);
    return text ? json::value(json::string(*text)) : json::value(nullptr);
}

json::value optionalTime(const store::SqlRow& row, std::size_t column) {
    auto at = row.optionalInteger(column);
    return at ? json::value(formatRfc3339Millis(*at)) : json::value(nullptr);
}

json::object deviceJson(const store::SqlRow& row) {
    return json::object{
        {"id", row.text(kId)},
        {"serial", row.text(kSerial)},
        {"name", row.text(kName)},
        {"model", row.text(kModel)},
        {"firmware_version", row.text(kFirmwareVersion)},
        {"firmware_channel", row.text(kChannel)},
        {"organization_id", optionalText(row, kOrganization)},
        {"site_id", optionalText(row, kSite)},
        {"asset_id", optionalText(row, kAsset)},
        {"tags", parsedOr(row.text(kTags), json::array{})},
        {"status", row.text(kStatus)},
        {"online", row.integer(kOnline) != 0},
        {"last_seen", optionalTime(row, kLastSeen)},
        {"first_seen", optionalTime(row, kFirstSeen)},
        {"claimed_at", optionalTime(row, kClaimedAt)},
        {"created_at", formatRfc3339Millis(row.integer(kCreatedAt))},
        {"updated_at", formatRfc3339Millis(row.integer(kUpdatedAt))},
        {"health", parsedOr(row.text(kHealth), json::object{})},
    };
}

Target deviceTarget(const store::SqlRow& row) {
    return Target{row.text(kOrganization), row.text(kSite), row.text(kId)};
}

Result<std::optional<store::SqlRow>> findDevice(const ApiContext& ctx, const std::string& id) {
    store::SqlParams params;
    std::string query = selectDevices(ctx, params);
    query.append(" WHERE d.id = ").append(addParam(params, id));
    auto rows = ctx.sql.query(query, params);
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<store::SqlRow>{};
    }
    return std::optional<store::SqlRow>(std::move(rows->front()));
}

// The device named by the path when the caller may perform `action` on it; 404 otherwise,
// the same answer whether it is missing, malformed or another organization's.
Result<store::SqlRow> visibleDevice(const ApiContext& ctx, const Request& request,
                                    const Principal& principal, auth::Action action) {
    std::string id = pathId(request);
    if (id.empty()) {
        return notFound(kWhat);
    }
    auto row = findDevice(ctx, id);
    if (!row) {
        return row.takeError();
    }
    if (!*row) {
        return notFound(kWhat);
    }
    if (auto allowed = require(principal, action, deviceTarget(**row), kWhat); !allowed) {
        return allowed.takeError();
    }
    return std::move(**row);
}

// The device as it is now, after a change.
Result<json::object> currentDevice(const ApiContext& ctx, const std::string& id) {
    auto row = findDevice(ctx, id);
    if (!row) {
        return row.takeError();
    }
    if (!*row) {
        return notFound(kWhat);
    }
    return deviceJson(**row);
}

Response answerDevice(const ApiContext& ctx, const std::string& id) {
    auto device = currentDevice(ctx, id);
    if (!device) {
        return errorResponse(device.error());
    }
    return jsonResponse(200, *device);
}

Response noContent() {
    Response response;
    response.status = 204;
    return response;
}

// ---- The list -------------------------------------------------------------------------------

bool isOneOf(const std::string& value, std::initializer_list<std::string_view> choices) {
    return std::find(choices.begin(), choices.end(), value) != choices.end();
}

Result<void> addIdFilters(const Request& request, std::string& where, store::SqlParams& params) {
    for (auto [name, column] :
         {std::pair{"organization_id", "d.organization_id"}, std::pair{"site_id", "d.site_id"}}) {
        auto id = idParam(request, name);
        if (!id) {
            return id.takeError();
        }
        if (*id) {
            where.append(" AND ").append(column).append(" = ").append(addParam(params, **id));
        }
    }
    return {};
}

Result<void> addChoiceFilters(const Request& request, const std::string& online, std::string& where,
                              store::SqlParams& params) {
    if (auto status = request.queryParam("status")) {
        if (!isOneOf(*status,
                     {"unclaimed", "active", "maintenance", "inactive", "decommissioned"})) {
            return invalidParameter(
                "status", "one of unclaimed, active, maintenance, inactive, decommissioned");
        }
        where.append(" AND d.status = ").append(addParam(params, *status));
    }
    if (auto channel = request.queryParam("channel")) {
        if (!isOneOf(*channel, {"stable", "beta", "dev"})) {
            return invalidParameter("channel", "one of stable, beta, dev");
        }
        where.append(" AND d.firmware_channel = ").append(addParam(params, *channel));
    }
    if (auto wanted = request.queryParam("online")) {
        if (*wanted != "true" && *wanted != "false") {
            return invalidParameter("online", "true or false");
        }
        where.append(*wanted == "true" ? " AND " : " AND NOT ").append(online);
    }
    return {};
}

void addTextFilters(const ApiContext& ctx, const Request& request, std::string& where,
                    store::SqlParams& params) {
    for (auto [name, column] :
         {std::pair{"model", "d.model"}, std::pair{"firmware_version", "d.firmware_version"},
          std::pair{"asset_id", "d.asset_id"}}) {
        if (auto value = request.queryParam(name)) {
            where.append(" AND ").append(column).append(" = ").append(addParam(params, *value));
        }
    }
    if (auto tag = request.queryParam("tag")) {
        std::string value = addParam(params, *tag);
        where.append(ctx.sql.dialect() == "postgresql"
                         ? " AND d.tags @> jsonb_build_array(" + value + "::text)"
                         : " AND EXISTS (SELECT 1 FROM json_each(d.tags) WHERE json_each.value = " +
                               value + ")");
    }
    if (auto search = request.queryParam("search"); search && !search->empty()) {
        where.append(" AND ").append(containsText({"d.serial", "d.name"}, *search, params));
    }
}

Response listDevices(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto page = Page::parse(request,
                            {{"serial", "d.serial"},
                             {"name", "d.name"},
                             {"last_seen", "coalesce(d.last_seen, 0)", true},
                             {"created_at", "d.created_at", true}},
                            "serial", "d.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string query = selectDevices(ctx, params, page->sortColumn());
    std::string where = allowedRows(principal, auth::Action::device_read,
                                    {"d.organization_id", "d.site_id", "d.id"}, params);
    if (auto ids = addIdFilters(request, where, params); !ids) {
        return errorResponse(ids.error());
    }
    // $1 is the current time (selectDevices binds it first).
    if (auto choices = addChoiceFilters(request, onlineCondition(ctx, "$1"), where, params);
        !choices) {
        return errorResponse(choices.error());
    }
    addTextFilters(ctx, request, where, params);
    query.append(" WHERE ").append(where).append(page->where(params)).append(page->orderAndLimit());
    auto rows = ctx.sql.query(query, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(deviceJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kColumnCount, kId));
}

// ---- Keys and claim tokens ------------------------------------------------------------------

Result<void> insertKey(store::SqlSession& tx, const store::DeviceKey& key) {
    auto inserted = tx.execute(
        "INSERT INTO device_keys (device_id, prefix, secret_hash, created_at) "
        "VALUES ($1, $2, $3, $4)",
        {key.device_id, key.prefix, key.secret_hash, key.created_at});
    if (!inserted) {
        return inserted.takeError();
    }
    return {};
}

// Keys of the device still valid at `at` stop being valid then (device_auth refuses a key
// whose expires_at is not after the request's time).
Result<void> expireKeys(store::SqlSession& tx, const std::string& device_id, Micros at) {
    auto updated = tx.execute(
        "UPDATE device_keys SET expires_at = $1 WHERE device_id = $2 "
        "AND (expires_at IS NULL OR expires_at > $1)",
        {at, device_id});
    if (!updated) {
        return updated.takeError();
    }
    return {};
}

bool isSerial(std::string_view serial) {
    return !serial.empty() && serial.size() <= kMaxSerial &&
           std::all_of(serial.begin(), serial.end(), [](unsigned char c) {
               return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
           });
}

Result<bool> siteInOrganization(store::SqlSession& sql, const std::string& site_id,
                                const std::string& organization_id) {
    if (organization_id.empty()) {
        return false;
    }
    auto rows = sql.query("SELECT count(*) FROM sites WHERE id = $1 AND organization_id = $2",
                          {site_id, organization_id});
    if (!rows) {
        return rows.takeError();
    }
    return rows->front().integer(0) > 0;
}

// Tags as a JSON array of distinct, non-empty strings of at most 64 bytes, in their order.
std::optional<std::string> readTags(BodyReader& body, const json::object& object) {
    if (!body.stringArray("tags")) {
        return std::nullopt;
    }
    json::array tags;
    for (const auto& tag : object.at("tags").as_array()) {
        if (tag.as_string().empty() || tag.as_string().size() > kMaxTag) {
            body.fail("tags", "each tag is 1 to 64 bytes");
            return std::nullopt;
        }
        if (std::find(tags.begin(), tags.end(), tag) == tags.end()) {
            tags.push_back(tag);
        }
    }
    if (tags.size() > kMaxTags) {
        body.fail("tags", "at most 32 tags");
        return std::nullopt;
    }
    return json::serialize(tags);
}

// ---- Create ---------------------------------------------------------------------------------

// A registration as the body asks for it.
struct Registration {
    store::Device device;
    std::optional<std::string> organization_id;
    bool unclaimed = false;
};

Result<Registration> readRegistration(const Request& request) {
    auto object = readObject(request);
    if (!object) {
        return object.takeError();
    }
    BodyReader body(*object);
    Registration out;
    auto serial = body.text("serial", {.required = true, .max_length = kMaxSerial});
    if (serial && !isSerial(*serial)) {
        body.fail("serial", "1 to 64 letters, digits, '.', '_' or '-'");
    }
    auto model = body.text("model", {.max_length = 64});
    if (model && !isModelName(*model)) {
        body.fail("model", "1 to 64 letters, digits, '.', '_' or '-'");
    }
    auto& device = out.device;
    device.serial = serial.value_or("");
    device.model = model.value_or("esocore-edge");
    device.name = body.text("name", {.max_length = 200}).value_or("");
    device.firmware_version = body.text("firmware_version", {.max_length = 64}).value_or("");
    device.firmware_channel =
        body.choice("firmware_channel", {"stable", "beta", "dev"}).value_or("stable");
    device.site_id = lowercase(body.id("site_id").value_or(""));
    device.asset_id = body.text("asset_id", {.max_length = 255, .allow_empty = false}).value_or("");
    device.tags_json = readTags(body, *object).value_or("[]");
    out.unclaimed =
        body.choice("status", {"active", "unclaimed"}).value_or("active") == "unclaimed";
    if (auto organization = body.id("organization_id")) {
        out.organization_id = lowercase(*organization);
    }
    body.rejectUnknown({"serial", "name", "model", "firmware_version", "firmware_channel",
                        "organization_id", "site_id", "asset_id", "tags", "status"});
    if (auto checked = body.result(); !checked) {
        return checked.takeError();
    }
    device.status = out.unclaimed ? "unclaimed" : "active";
    return out;
}

// The organization a registration goes into. Staff may register an unclaimed device without
// one: a device in the pool that any organization can claim with its token.
Result<std::string> registrationOrganization(const Principal& principal,
                                             const Registration& registration) {
    if (principal.user.is_staff && registration.unclaimed && !registration.organization_id) {
        return std::string();
    }
    return targetOrganization(principal, auth::Action::device_write, registration.organization_id);
}

Error invalidSite() {
    return invalidField("site_id", "no such site in this organization");
}

Error serialTaken() {
    return Error{409,
                 "serial_taken",
                 "a device with this serial number exists",
                 {{"serial", "already registered"}}};
}

Result<void> insertDevice(store::SqlSession& tx, const store::Device& d,
                          const std::string& claim_hash) {
    auto inserted = tx.execute(
        "INSERT INTO devices (id, organization_id, serial, name, model, firmware_version, "
        "firmware_channel, site_id, asset_id, tags, status, claim_token_hash, claimed_at, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
        "$14, $15) ON CONFLICT (serial) DO NOTHING",
        {d.id, store::textOrNull(d.organization_id), d.serial, d.name, d.model, d.firmware_version,
         d.firmware_channel, store::textOrNull(d.site_id), store::textOrNull(d.asset_id),
         d.tags_json, d.status, store::textOrNull(claim_hash), store::integerOrNull(d.claimed_at),
         d.created_at, d.updated_at});
    if (!inserted) {
        return inserted.takeError();
    }
    if (*inserted == 0) {
        return serialTaken();
    }
    return {};
}

// The 201 of a registration: the device, and the secret that is shown this once (its key,
// or the claim token and claim code of an unclaimed device).
Response registeredAnswer(const ApiContext& ctx, const store::Device& device,
                          const std::string& secret, const std::string& claim_token) {
    auto answer = currentDevice(ctx, device.id);
    if (!answer) {
        return errorResponse(answer.error());
    }
    auto once = [](const std::string& s) { return s.empty() ? json::value() : json::value(s); };
    std::string code = claim_token.empty() ? "" : claimCode(device.serial, claim_token);
    return jsonResponse(201, json::object{{"device", std::move(*answer)},
                                          {"secret", once(secret)},
                                          {"claim_token", once(claim_token)},
                                          {"claim_code", once(code)}});
}

Response createDevice(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto registration = readRegistration(request);
    if (!registration) {
        return errorResponse(registration.error());
    }
    auto organization = registrationOrganization(principal, *registration);
    if (!organization) {
        return errorResponse(organization.error());
    }
    store::Device device = std::move(registration->device);
    device.id = newUuid();
    device.organization_id = *organization;
    device.created_at = device.updated_at = nowMicros();
    if (!device.site_id.empty()) {
        auto known = siteInOrganization(ctx.sql, device.site_id, device.organization_id);
        if (!known || !*known) {
            return errorResponse(known ? invalidSite() : known.error());
        }
    }
    std::optional<auth::IssuedDeviceKey> key;
    std::string claim_token;
    if (registration->unclaimed) {
        claim_token = randomToken(kClaimTokenBytes);
    } else {
        device.claimed_at = device.created_at;
        key = auth::issueDeviceKey(device.id);
    }
    auto made = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        std::string hash = claim_token.empty() ? "" : sha256Hex(claim_token);
        if (auto inserted = insertDevice(tx, device, hash); !inserted) {
            return inserted;
        }
        if (key) {
            if (auto stored = insertKey(tx, key->stored); !stored) {
                return stored;
            }
        }
        return audit(tx, principal, request, device.organization_id,
                     {"device.created", "device", device.id,
                      "registered " + device.serial + " (" + device.status + ")"});
    });
    if (!made) {
        return errorResponse(made.error());
    }
    return registeredAnswer(ctx, device, key ? key->secret : "", claim_token);
}

// ---- Detail, change, delete -----------------------------------------------------------------

Response getDevice(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto row = visibleDevice(ctx, request, principal, auth::Action::device_read);
    if (!row) {
        return errorResponse(row.error());
    }
    return jsonResponse(200, deviceJson(*row));
}

// A PATCH as SET clauses; `changed` names the fields for the audit log.
struct DeviceChange {
    std::string set;
    store::SqlParams params;
    std::string changed;

    void add(const std::string& column, store::SqlValue value) {
        set.append(set.empty() ? "" : ", ").append(column).append(" = ");
        set.append(addParam(params, std::move(value)));
        changed.append(changed.empty() ? "" : ", ").append(column);
    }
};

// The site a PATCH moves the device to: in the device's organization, and one where the
// caller may manage devices (a site-narrowed operator cannot move a device off its site).
Result<void> checkNewSite(const ApiContext& ctx, const Principal& principal,
                          const store::SqlRow& row, const std::string& site_id) {
    auto known = siteInOrganization(ctx.sql, site_id, row.text(kOrganization));
    if (!known) {
        return known.takeError();
    }
    Target target{row.text(kOrganization), site_id, row.text(kId)};
    if (!*known || !mayPerform(principal, auth::Action::device_write, target)) {
        return invalidSite();
    }
    return {};
}

Result<DeviceChange> readChange(const ApiContext& ctx, const Request& request,
                                const Principal& principal, const store::SqlRow& row) {
    auto object = readObject(request);
    if (!object) {
        return object.takeError();
    }
    BodyReader body(*object);
    DeviceChange change;
    if (auto name = body.text("name", {.max_length = 200})) {
        change.add("name", *name);
    }
    if (auto channel = body.choice("firmware_channel", {"stable", "beta", "dev"})) {
        change.add("firmware_channel", *channel);
    }
    if (auto tags = readTags(body, *object)) {
        change.add("tags", *tags);
    }
    if (auto asset = body.text("asset_id", {.max_length = 255, .allow_empty = false})) {
        change.add("asset_id", *asset);
    } else if (body.isNull("asset_id")) {
        change.add("asset_id", nullptr);
    }
    auto site = body.id("site_id");
    body.rejectUnknown({"name", "firmware_channel", "tags", "asset_id", "site_id"});
    if (auto checked = body.result(); !checked) {
        return checked.takeError();
    }
    if (site) {
        if (auto ok = checkNewSite(ctx, principal, row, lowercase(*site)); !ok) {
            return ok.takeError();
        }
        change.add("site_id", lowercase(*site));
    } else if (body.isNull("site_id")) {
        change.add("site_id", nullptr);
    }
    return change;
}

Response patchDevice(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto row = visibleDevice(ctx, request, principal, auth::Action::device_write);
    if (!row) {
        return errorResponse(row.error());
    }
    auto change = readChange(ctx, request, principal, *row);
    if (!change) {
        return errorResponse(change.error());
    }
    std::string id = row->text(kId);
    if (change->set.empty()) {
        return jsonResponse(200, deviceJson(*row));
    }
    auto changed = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        std::string update = "UPDATE devices SET " + change->set;
        update.append(", updated_at = ").append(addParam(change->params, nowMicros()));
        update.append(" WHERE id = ").append(addParam(change->params, id));
        if (auto updated = tx.execute(update, change->params); !updated) {
            return updated.takeError();
        }
        return audit(
            tx, principal, request, row->text(kOrganization),
            {"device.updated", "device", id, row->text(kSerial) + ": changed " + change->changed});
    });
    if (!changed) {
        return errorResponse(changed.error());
    }
    return answerDevice(ctx, id);
}

Error deviceActive() {
    return Error{409,
                 "device_active",
                 "only an unclaimed or decommissioned device can be deleted; decommission it "
                 "first",
                 {}};
}

Response deleteDevice(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto row = visibleDevice(ctx, request, principal, auth::Action::device_write);
    if (!row) {
        return errorResponse(row.error());
    }
    std::string id = row->text(kId);
    if (row->text(kStatus) != "unclaimed" && row->text(kStatus) != "decommissioned") {
        return errorResponse(deviceActive());
    }
    auto removed = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        // Points have no foreign key (they are partitioned), and memberships narrowed to the
        // device would otherwise outlive it.
        for (const char* statement :
             {"DELETE FROM points WHERE series_id IN (SELECT id FROM series WHERE device_id = $1)",
              "DELETE FROM memberships WHERE device_id = $1"}) {
            if (auto deleted = tx.execute(statement, {id}); !deleted) {
                return deleted.takeError();
            }
        }
        auto deleted = tx.execute(
            "DELETE FROM devices WHERE id = $1 AND status IN ('unclaimed', 'decommissioned')",
            {id});
        if (!deleted) {
            return deleted.takeError();
        }
        if (*deleted == 0) {
            return deviceActive();
        }
        return audit(tx, principal, request, row->text(kOrganization),
                     {"device.deleted", "device", id, "deleted " + row->text(kSerial)});
    });
    if (!removed) {
        return errorResponse(removed.error());
    }
    return noContent();
}

// ---- Claiming -------------------------------------------------------------------------------

// What a claim asks for: the device by serial and token, and where it goes.
struct ClaimRequest {
    std::string serial;
    std::string token;
    std::optional<std::string> organization_id;
    std::optional<std::string> site_id;
    std::optional<std::string> name;
};

Result<ClaimRequest> readClaim(const Request& request) {
    auto object = readObject(request);
    if (!object) {
        return object.takeError();
    }
    BodyReader body(*object);
    ClaimRequest claim;
    auto code = body.text("claim_code", {.max_length = 300});
    auto serial = body.text("serial", {.max_length = kMaxSerial});
    auto token = body.text("claim_token", {.max_length = 200});
    claim.organization_id = body.id("organization_id");
    claim.site_id = body.id("site_id");
    claim.name = body.text("name", {.max_length = 200});
    body.rejectUnknown(
        {"claim_code", "serial", "claim_token", "organization_id", "site_id", "name"});
    if (code) {
        auto parts = parseClaimCode(*code);
        if (!parts) {
            body.fail("claim_code", "not an EsoCore claim code");
        } else {
            claim.serial = parts->serial;
            claim.token = parts->token;
        }
    } else if (!serial || !token || serial->empty() || token->empty()) {
        body.fail("claim_code", "send claim_code, or serial and claim_token");
    } else {
        claim.serial = *serial;
        claim.token = *token;
    }
    if (auto checked = body.result(); !checked) {
        return checked.takeError();
    }
    for (auto* id : {&claim.organization_id, &claim.site_id}) {
        if (*id) {
            **id = lowercase(**id);
        }
    }
    return claim;
}

// The id of the unclaimed device that `claim` names when its token matches and it may join
// `organization_id`; 404 not_found otherwise, the same answer for an unknown serial, a wrong
// token, a claimed device or another organization's pre-registered one.
Result<std::string> claimableDevice(const ApiContext& ctx, const ClaimRequest& claim,
                                    const std::string& organization_id) {
    auto rows = ctx.sql.query(
        "SELECT id, organization_id, status, claim_token_hash FROM devices WHERE serial = $1",
        {claim.serial});
    if (!rows) {
        return rows.takeError();
    }
    std::string presented = sha256Hex(claim.token);
    // Compared even when nothing was found, so that timing does not tell which serials exist.
    std::string stored = rows->empty() ? std::string(presented.size(), '0') : rows->front().text(3);
    bool token_matches = constantTimeEquals(stored, presented);
    if (rows->empty() || !token_matches) {
        return notFound(kWhat);
    }
    const store::SqlRow& row = rows->front();
    std::string owner = row.text(1);
    if (row.text(2) != "unclaimed" || (!owner.empty() && owner != organization_id)) {
        return notFound(kWhat);
    }
    return row.text(0);
}

Result<void> applyClaim(store::SqlSession& tx, const ClaimRequest& claim, const std::string& id,
                        const std::string& organization_id, Micros now) {
    store::SqlParams params;
    std::string update = "UPDATE devices SET status = 'active', claim_token_hash = NULL";
    update.append(", organization_id = ").append(addParam(params, organization_id));
    update.append(", claimed_at = ").append(addParam(params, now));
    update.append(", updated_at = ").append(addParam(params, now));
    if (claim.site_id) {
        update.append(", site_id = ").append(addParam(params, *claim.site_id));
    }
    if (claim.name) {
        update.append(", name = ").append(addParam(params, *claim.name));
    }
    update.append(" WHERE id = ").append(addParam(params, id));
    update.append(" AND status = 'unclaimed' AND claim_token_hash = ");
    update.append(addParam(params, sha256Hex(claim.token)));
    auto updated = tx.execute(update, params);
    if (!updated) {
        return updated.takeError();
    }
    if (*updated == 0) {
        return notFound(kWhat);  // claimed meanwhile by another request
    }
    return {};
}

Response claimDevice(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto claim = readClaim(request);
    if (!claim) {
        return errorResponse(claim.error());
    }
    auto organization =
        targetOrganization(principal, auth::Action::device_claim, claim->organization_id);
    if (!organization) {
        return errorResponse(organization.error());
    }
    if (claim->site_id) {
        auto known = siteInOrganization(ctx.sql, *claim->site_id, *organization);
        if (!known || !*known) {
            return errorResponse(known ? invalidSite() : known.error());
        }
    }
    auto id = claimableDevice(ctx, *claim, *organization);
    if (!id) {
        return errorResponse(id.error());
    }
    auth::IssuedDeviceKey key = auth::issueDeviceKey(*id);
    auto claimed = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        Micros now = nowMicros();
        if (auto applied = applyClaim(tx, *claim, *id, *organization, now); !applied) {
            return applied;
        }
        // Whoever knew a key from before the claim (the factory, a previous owner) loses it.
        if (auto expired = expireKeys(tx, *id, now); !expired) {
            return expired;
        }
        if (auto stored = insertKey(tx, key.stored); !stored) {
            return stored;
        }
        return audit(tx, principal, request, *organization,
                     {"device.claimed", "device", *id, "claimed " + claim->serial});
    });
    if (!claimed) {
        return errorResponse(claimed.error());
    }
    auto device = currentDevice(ctx, *id);
    if (!device) {
        return errorResponse(device.error());
    }
    return jsonResponse(200, json::object{{"device", std::move(*device)}, {"secret", key.secret}});
}

Response issueClaimCode(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto row = visibleDevice(ctx, request, principal, auth::Action::device_write);
    if (!row) {
        return errorResponse(row.error());
    }
    std::string id = row->text(kId);
    if (row->text(kStatus) != "unclaimed") {
        return errorResponse(409, "device_claimed", "only an unclaimed device has a claim code");
    }
    std::string token = randomToken(kClaimTokenBytes);
    std::string code = claimCode(row->text(kSerial), token);
    auto svg = qrCodeSvg(code);
    if (!svg) {
        return errorResponse(svg.error());
    }
    auto issued = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto updated = tx.execute(
            "UPDATE devices SET claim_token_hash = $1, updated_at = $2 WHERE id = $3 "
            "AND status = 'unclaimed'",
            {sha256Hex(token), nowMicros(), id});
        if (!updated) {
            return updated.takeError();
        }
        if (*updated == 0) {
            return Error{409, "device_claimed", "only an unclaimed device has a claim code", {}};
        }
        return audit(tx, principal, request, row->text(kOrganization),
                     {"device.claim_code_issued", "device", id,
                      "new claim code for " + row->text(kSerial) + "; earlier codes void"});
    });
    if (!issued) {
        return errorResponse(issued.error());
    }
    return jsonResponse(200, json::object{{"device_id", id},
                                          {"claim_token", token},
                                          {"claim_code", code},
                                          {"qr_svg", std::move(*svg)}});
}

// ---- Key rotation and status ----------------------------------------------------------------

Result<void> keysMayChange(const std::string& status) {
    if (status == "unclaimed") {
        return Error{
            409, "device_unclaimed", "claim the device first: claiming issues its key", {}};
    }
    if (status == "decommissioned") {
        return Error{409, "device_decommissioned", "a decommissioned device gets no new key", {}};
    }
    return {};
}

Response rotateKey(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto row = visibleDevice(ctx, request, principal, auth::Action::device_rotate_key);
    if (!row) {
        return errorResponse(row.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    std::int64_t grace =
        body.integer("grace_seconds", {.min = 0, .max = 30 * kDaySeconds}).value_or(kDaySeconds);
    body.rejectUnknown({"grace_seconds"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    if (auto allowed = keysMayChange(row->text(kStatus)); !allowed) {
        return errorResponse(allowed.error());
    }
    std::string id = row->text(kId);
    auth::IssuedDeviceKey key = auth::issueDeviceKey(id);
    Micros until = key.stored.created_at + grace * kSecond;
    auto rotated = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto expired = expireKeys(tx, id, until); !expired) {
            return expired;
        }
        if (auto stored = insertKey(tx, key.stored); !stored) {
            return stored;
        }
        return audit(tx, principal, request, row->text(kOrganization),
                     {"device.key_rotated", "device", id,
                      row->text(kSerial) + ": new key; earlier keys valid for " +
                          std::to_string(grace) + " s"});
    });
    if (!rotated) {
        return errorResponse(rotated.error());
    }
    return jsonResponse(200, json::object{{"device_id", id},
                                          {"secret", key.secret},
                                          {"previous_keys_expire_at", formatRfc3339Millis(until)}});
}

// Lifecycle rules: decommissioned is final; an unclaimed device becomes active only by being
// claimed, so here it can only be decommissioned.
bool statusMayChange(const std::string& from, const std::string& to) {
    if (from == "decommissioned") {
        return false;
    }
    if (from == "unclaimed") {
        return to == "decommissioned";
    }
    return true;
}

Error invalidTransition(const std::string& from, const std::string& to) {
    std::string message = "a device that is " + from + " cannot become " + to;
    if (from == "unclaimed") {
        message.append("; claim it to activate it");
    }
    return Error{409, "invalid_transition", message, {}};
}

Result<void> applyStatus(store::SqlSession& tx, const std::string& id, const std::string& from,
                         const std::string& to) {
    std::string update = "UPDATE devices SET status = $1, updated_at = $2";
    // A decommissioned device can no longer be claimed with a code printed earlier.
    if (to == "decommissioned") {
        update.append(", claim_token_hash = NULL");
    }
    update.append(" WHERE id = $3 AND status = $4");
    auto updated = tx.execute(update, {to, nowMicros(), id, from});
    if (!updated) {
        return updated.takeError();
    }
    if (*updated == 0) {
        return invalidTransition(from, to);  // changed meanwhile
    }
    return {};
}

Response changeStatus(const ApiContext& ctx, const Request& request, const Principal& principal) {
    auto row = visibleDevice(ctx, request, principal, auth::Action::device_status);
    if (!row) {
        return errorResponse(row.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto status =
        body.choice("status", {"active", "maintenance", "inactive", "decommissioned"}, true);
    auto reason = body.text("reason", {.max_length = 500});
    body.rejectUnknown({"status", "reason"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    std::string id = row->text(kId);
    std::string from = row->text(kStatus);
    if (*status == from) {
        return jsonResponse(200, deviceJson(*row));
    }
    if (!statusMayChange(from, *status)) {
        return errorResponse(invalidTransition(from, *status));
    }
    auto changed = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto applied = applyStatus(tx, id, from, *status); !applied) {
            return applied;
        }
        std::string summary = row->text(kSerial) + ": " + from + " -> " + *status;
        if (reason && !reason->empty()) {
            summary.append(" (").append(*reason).append(")");
        }
        return audit(tx, principal, request, row->text(kOrganization),
                     {"device.status_changed", "device", id, summary});
    });
    if (!changed) {
        return errorResponse(changed.error());
    }
    live::publishDeviceStatus(
        ctx.live,
        live::DeviceFacts{id, row->text(kOrganization), row->text(kSite), row->text(kSerial),
                          row->text(kName), *status, row->optionalInteger(kLastSeen)},
        from);
    return answerDevice(ctx, id);
}

// ---- Configuration --------------------------------------------------------------------------

Response configurationAnswer(const ApiContext& ctx, const std::string& id) {
    auto device = ctx.store.findDevice(id);
    if (!device) {
        return errorResponse(device.error());
    }
    if (!*device) {
        return errorResponse(notFound(kWhat));
    }
    auto merged = deviceConfig(ctx.config, ctx.store, **device);
    if (!merged) {
        return errorResponse(merged.error());
    }
    auto profile = configProfileFor(ctx.sql, (*device)->organization_id, (*device)->model);
    if (!profile) {
        return errorResponse(profile.error());
    }
    return jsonResponse(
        200, json::object{{"device_id", id},
                          {"profile", std::move(*profile)},
                          {"overrides", parsedOr((*device)->config_overrides_json, json::object{})},
                          {"effective", std::move(merged->settings)},
                          {"etag", merged->version}});
}

Response getConfiguration(const ApiContext& ctx, const Request& request,
                          const Principal& principal) {
    auto row = visibleDevice(ctx, request, principal, auth::Action::device_read);
    if (!row) {
        return errorResponse(row.error());
    }
    return configurationAnswer(ctx, row->text(kId));
}

Response putConfiguration(const ApiContext& ctx, const Request& request,
                          const Principal& principal) {
    auto row = visibleDevice(ctx, request, principal, auth::Action::device_configure);
    if (!row) {
        return errorResponse(row.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    body.object("overrides", true);
    body.rejectUnknown({"overrides"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    const json::object& overrides = object->at("overrides").as_object();
    if (auto valid = checkSettings(overrides, ctx.config, "overrides"); !valid) {
        return errorResponse(valid.error());
    }
    std::string id = row->text(kId);
    auto saved = ctx.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto updated =
            tx.execute("UPDATE devices SET config_overrides = $1, updated_at = $2 WHERE id = $3",
                       {json::serialize(overrides), nowMicros(), id});
        if (!updated) {
            return updated.takeError();
        }
        return audit(
            tx, principal, request, row->text(kOrganization),
            {"device.configured", "device", id, row->text(kSerial) + ": overrides replaced"});
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return configurationAnswer(ctx, id);
}

// ---- QR codes -------------------------------------------------------------------------------

// One row of dark modules as path runs.
void appendRuns(std::string& path, const QRcode& code, int y, int quiet) {
    int width = code.width;
    for (int x = 0; x < width;) {
        if ((code.data[y * width + x] & 1) == 0) {
            ++x;
            continue;
        }
        int run = 1;
        while (x + run < width && (code.data[y * width + x + run] & 1) != 0) {
            ++run;
        }
        path.append("M").append(std::to_string(x + quiet)).append(" ");
        path.append(std::to_string(y + quiet)).append("h").append(std::to_string(run));
        path.append("v1h-").append(std::to_string(run)).append("z");
        x += run;
    }
}

}  // namespace

std::string claimCode(const std::string& serial, const std::string& token) {
    std::string code(kClaimCodePrefix);
    return code.append(serial).append(":").append(token);
}

std::optional<ClaimCodeParts> parseClaimCode(std::string_view code) {
    if (!code.starts_with(kClaimCodePrefix)) {
        return std::nullopt;
    }
    code.remove_prefix(kClaimCodePrefix.size());
    auto colon = code.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == code.size()) {
        return std::nullopt;
    }
    return ClaimCodeParts{std::string(code.substr(0, colon)), std::string(code.substr(colon + 1))};
}

Result<std::string> qrCodeSvg(const std::string& payload) {
    std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeString(payload.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
    if (!code) {
        return internalError("the claim code does not fit a QR code");
    }
    constexpr int kQuiet = 4;
    constexpr int kModulePixels = 8;
    std::string size = std::to_string(code->width + 2 * kQuiet);
    std::string pixels = std::to_string((code->width + 2 * kQuiet) * kModulePixels);
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ";
    svg.append(size).append(" ").append(size).append("\" width=\"").append(pixels);
    svg.append("\" height=\"").append(pixels).append("\" shape-rendering=\"crispEdges\">");
    svg.append("<rect width=\"").append(size).append("\" height=\"").append(size);
    svg.append("\" fill=\"#fff\"/><path fill=\"#000\" d=\"");
    for (int y = 0; y < code->width; ++y) {
        appendRuns(svg, *code, y, kQuiet);
    }
    return svg.append("\"/></svg>");
}

void addDeviceRoutes(http::Router& router, const ApiContext& context) {
    const ApiContext* ctx = &context;
    auto route = [&](const char* method, const char* pattern,
                     Response (*handler)(const ApiContext&, const Request&, const Principal&)) {
        addManaged(router, context.authenticator, method, pattern,
                   [ctx, handler](const Request& request, const Principal& principal) {
                       return handler(*ctx, request, principal);
                   });
    };
    route("GET", "/api/devices", listDevices);
    route("POST", "/api/devices", createDevice);
    // Before /api/devices/{id}, which would take "claim" for an id.
    route("POST", "/api/devices/claim", claimDevice);
    route("GET", "/api/devices/{id}", getDevice);
    route("PATCH", "/api/devices/{id}", patchDevice);
    route("DELETE", "/api/devices/{id}", deleteDevice);
    route("POST", "/api/devices/{id}/claim-code", issueClaimCode);
    route("POST", "/api/devices/{id}/rotate-key", rotateKey);
    route("POST", "/api/devices/{id}/status", changeStatus);
    route("GET", "/api/devices/{id}/configuration", getConfiguration);
    route("PUT", "/api/devices/{id}/configuration", putConfiguration);
}

}  // namespace esocore::api
