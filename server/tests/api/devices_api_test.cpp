// /api/devices over real HTTP on both stores: the list and its filters, registration,
// claiming (by token and by QR code), key rotation with its grace period, lifecycle status,
// configuration overrides, and what the device API does after each of them.
#include "api/devices_api.h"

#include <gtest/gtest.h>
#include <qrencode.h>

#include <boost/json.hpp>
#include <memory>
#include <regex>
#include <set>

#include "core/crypto.h"
#include "support/api_fixture.h"
#include "support/device_client.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::ApiResult;
using testing::ApiUser;
using testing::DeviceClient;
using testing::HttpResult;
using testing::TestDevice;

constexpr Micros kSecond = 1'000'000;

// An entity tag as the ETag header carries it.
std::string quoted(const json::value& etag) {
    std::string out = "\"";
    return out.append(etag.as_string()).append("\"");
}

class DevicesApiTest : public testing::ApiTest {
protected:
    static std::string path(const std::string& id, const std::string& action = {}) {
        std::string out = "/api/devices/" + id;
        return action.empty() ? out : out + "/" + action;
    }

    // Registers a device through the API and answers the 201's body.
    json::object registerDevice(const ApiUser& user, json::object body) {
        ApiResult result = call("POST", "/api/devices", user, body);
        EXPECT_EQ(201, result.status) << result.raw.body;
        return result.json.is_object() ? result.json.as_object() : json::object{};
    }

    // A device of `org_` made through the API, with its key.
    TestDevice registerActive(const std::string& serial, json::object extra = {}) {
        extra["serial"] = serial;
        json::object made = registerDevice(owner_, extra);
        return TestDevice{std::string(made.at("device").at("id").as_string()), serial,
                          std::string(made.at("secret").as_string()), org_};
    }

    // An unclaimed device pre-registered in `org_`; answers {device, claim_token, ...}.
    json::object registerUnclaimed(const std::string& serial) {
        return registerDevice(owner_, {{"serial", serial}, {"status", "unclaimed"}});
    }

    void execute(const std::string& sql, const store::SqlParams& params) {
        ASSERT_TRUE(server_->store().sql().execute(sql, params).ok()) << sql;
    }

    std::string scalar(const std::string& sql, const store::SqlParams& params) {
        auto rows = server_->store().sql().query(sql, params);
        EXPECT_TRUE(rows.ok() && !rows->empty()) << sql;
        return rows.ok() && !rows->empty() ? rows->front().text(0) : std::string();
    }

    std::vector<std::string> auditActions(const std::string& target_id) {
        auto rows = server_->store().sql().query(
            "SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id", {target_id});
        EXPECT_TRUE(rows.ok());
        std::vector<std::string> out;
        for (const auto& row : rows.ok() ? *rows : std::vector<store::SqlRow>{}) {
            out.push_back(row.text(0));
        }
        return out;
    }

    // What the device API answers this device for a batch of one point.
    HttpResult upload(const TestDevice& device) {
        return DeviceClient(*server_, device).batch(testing::makePoints(1));
    }

    HttpResult deviceConfig(const TestDevice& device, const testing::Headers& headers = {}) {
        return DeviceClient(*server_, device).get("config", headers);
    }

    static std::set<std::string> ids(const json::array& rows) {
        std::set<std::string> out;
        for (const auto& row : rows) {
            out.insert(std::string(row.at("id").as_string()));
        }
        return out;
    }

    static std::set<std::string> serials(const json::array& rows) {
        std::set<std::string> out;
        for (const auto& row : rows) {
            out.insert(std::string(row.at("serial").as_string()));
        }
        return out;
    }
};

// ---- Registration -------------------------------------------------------------------------

TEST_P(DevicesApiTest, CreateAnswersTheKeyOnceAndTheDeviceUploadsWithIt) {
    json::object made = registerDevice(owner_, {{"serial", "EDGE-0001"},
                                                {"name", "Door 7 sensor"},
                                                {"model", "esocore-edge"},
                                                {"tags", json::array{"door", "north", "door"}}});

    const json::object& device = made.at("device").as_object();
    EXPECT_EQ("EDGE-0001", device.at("serial").as_string());
    EXPECT_EQ("active", device.at("status").as_string());
    EXPECT_EQ(org_, device.at("organization_id").as_string());
    EXPECT_EQ((json::array{"door", "north"}), device.at("tags").as_array());
    EXPECT_FALSE(device.at("online").as_bool());
    EXPECT_TRUE(device.at("claimed_at").is_string());
    EXPECT_TRUE(made.at("claim_token").is_null());
    TestDevice client{std::string(device.at("id").as_string()), "EDGE-0001",
                      std::string(made.at("secret").as_string()), org_};
    EXPECT_EQ(200, upload(client).status);
    ApiResult again = get(path(client.id), owner_);
    EXPECT_FALSE(again.raw.body.find(client.key) != std::string::npos);
    EXPECT_TRUE(again["online"].as_bool());
}

TEST_P(DevicesApiTest, CreateWithATakenSerialIs409SerialTaken) {
    registerActive("EDGE-0002");

    ApiResult result = call("POST", "/api/devices", other_owner_, {{"serial", "EDGE-0002"}});

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("serial_taken", result.errorCode());
}

TEST_P(DevicesApiTest, CreateNamesEveryInvalidField) {
    ApiResult result = call("POST", "/api/devices", owner_,
                            {{"serial", "has space"},
                             {"firmware_channel", "nightly"},
                             {"model", ""},
                             {"tags", json::array{1}},
                             {"status", "maintenance"},
                             {"colour", "red"}});

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("validation_failed", result.errorCode());
    const json::object& fields = result["error"].at("fields").as_object();
    for (const char* field : {"serial", "firmware_channel", "model", "tags", "status", "colour"}) {
        EXPECT_TRUE(fields.contains(field)) << field << " in " << result.raw.body;
    }
    EXPECT_EQ("validation_failed",
              call("POST", "/api/devices", owner_, {{"name", "no serial"}}).errorCode());
}

TEST_P(DevicesApiTest, CreateAtASiteOfAnotherOrganizationIs400) {
    std::string foreign_site = addSite(other_org_, "Their plant");

    ApiResult result =
        call("POST", "/api/devices", owner_, {{"serial", "EDGE-0003"}, {"site_id", foreign_site}});

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("validation_failed", result.errorCode());
    EXPECT_TRUE(result["error"].at("fields").as_object().contains("site_id"));
}

TEST_P(DevicesApiTest, CreateInAnotherOrganizationIs404LikeAMissingOne) {
    ApiResult foreign = call("POST", "/api/devices", owner_,
                             {{"serial", "EDGE-0004"}, {"organization_id", other_org_}});
    ApiResult missing = call("POST", "/api/devices", owner_,
                             {{"serial", "EDGE-0004"}, {"organization_id", newUuid()}});

    EXPECT_EQ(404, foreign.status);
    EXPECT_EQ("not_found", foreign.errorCode());
    EXPECT_EQ(missing.raw.body, foreign.raw.body);
}

// ---- Detail, change, delete -----------------------------------------------------------------

TEST_P(DevicesApiTest, GetShowsWhatTheDeviceLastReported) {
    TestDevice device = registerActive("EDGE-0010");
    HttpResult heartbeat =
        DeviceClient(*server_, device)
            .post("heartbeat", R"({"battery": 87, "firmware_version": "1.4.2"})");
    ASSERT_EQ(200, heartbeat.status) << heartbeat.body;

    ApiResult result = get(path(device.id), owner_);

    ASSERT_EQ(200, result.status) << result.raw.body;
    EXPECT_EQ(87, result["health"].at("battery").as_int64());
    EXPECT_EQ("1.4.2", result["firmware_version"].as_string());
    EXPECT_TRUE(result["online"].as_bool());
    EXPECT_TRUE(result["last_seen"].is_string());
    EXPECT_TRUE(result["first_seen"].is_string());
}

TEST_P(DevicesApiTest, PatchChangesOnlyTheFieldsSent) {
    TestDevice device = registerActive("EDGE-0011", {{"name", "old"}, {"asset_id", "DOOR_1"}});
    std::string site = addSite(org_, "Plant 1");

    ApiResult result = call("PATCH", path(device.id), owner_,
                            {{"name", "Door 9"},
                             {"site_id", site},
                             {"tags", json::array{"b", "a"}},
                             {"firmware_channel", "beta"}});

    ASSERT_EQ(200, result.status) << result.raw.body;
    EXPECT_EQ("Door 9", result["name"].as_string());
    EXPECT_EQ(site, result["site_id"].as_string());
    EXPECT_EQ("DOOR_1", result["asset_id"].as_string());
    EXPECT_EQ((json::array{"b", "a"}), result["tags"].as_array());
    EXPECT_EQ("beta", result["firmware_channel"].as_string());

    ApiResult cleared =
        call("PATCH", path(device.id), owner_, {{"site_id", nullptr}, {"asset_id", nullptr}});
    EXPECT_TRUE(cleared["site_id"].is_null());
    EXPECT_TRUE(cleared["asset_id"].is_null());
}

TEST_P(DevicesApiTest, PatchToASiteOfAnotherOrganizationIs400) {
    TestDevice device = registerActive("EDGE-0012");

    ApiResult result =
        call("PATCH", path(device.id), owner_, {{"site_id", addSite(other_org_, "Theirs")}});

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("validation_failed", result.errorCode());
    EXPECT_TRUE(result["error"].at("fields").as_object().contains("site_id"));
    EXPECT_TRUE(get(path(device.id), owner_)["site_id"].is_null());
}

TEST_P(DevicesApiTest, PatchValidatesFields) {
    TestDevice device = registerActive("EDGE-0013");

    ApiResult result = call("PATCH", path(device.id), owner_,
                            {{"firmware_channel", "x"}, {"serial", "NEW"}, {"tags", "a"}});

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("validation_failed", result.errorCode());
    const json::object& fields = result["error"].at("fields").as_object();
    EXPECT_TRUE(fields.contains("firmware_channel"));
    EXPECT_TRUE(fields.contains("serial"));
    EXPECT_TRUE(fields.contains("tags"));
}

TEST_P(DevicesApiTest, DeleteOfAnActiveDeviceIs409DeviceActive) {
    TestDevice device = registerActive("EDGE-0014");

    ApiResult result = call("DELETE", path(device.id), owner_);

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("device_active", result.errorCode());
    EXPECT_EQ(200, get(path(device.id), owner_).status);
}

TEST_P(DevicesApiTest, DeleteRemovesADecommissionedDeviceWithItsTelemetry) {
    TestDevice device = registerActive("EDGE-0015");
    ASSERT_EQ(200, upload(device).status);
    ASSERT_EQ(
        200,
        call("POST", path(device.id, "status"), owner_, {{"status", "decommissioned"}}).status);

    ApiResult result = call("DELETE", path(device.id), owner_);

    EXPECT_EQ(204, result.status) << result.raw.body;
    EXPECT_EQ(404, get(path(device.id), owner_).status);
    EXPECT_EQ("0", scalar("SELECT count(*) FROM series WHERE device_id = $1", {device.id}));
    EXPECT_EQ("0", scalar("SELECT count(*) FROM device_keys WHERE device_id = $1", {device.id}));
    EXPECT_EQ("0", scalar("SELECT count(*) FROM points", {}));
}

// ---- Another organization's devices ---------------------------------------------------------

TEST_P(DevicesApiTest, EveryRouteWithAnIdAnswersAnotherOrganizationLikeAMissingDevice) {
    TestDevice device = registerActive("EDGE-0020", {{"name", "mine"}});
    struct Call {
        std::string method;
        std::string action;
        json::value body;
    };
    std::vector<Call> calls{
        {"GET", "", nullptr},
        {"PATCH", "", json::object{{"name", "stolen"}}},
        {"DELETE", "", nullptr},
        {"POST", "claim-code", nullptr},
        {"POST", "rotate-key", json::object{{"grace_seconds", 0}}},
        {"POST", "status", json::object{{"status", "decommissioned"}}},
        {"GET", "configuration", nullptr},
        {"PUT", "configuration", json::object{{"overrides", {{"signing_required", true}}}}}};

    for (const auto& c : calls) {
        ApiResult foreign = call(c.method, path(device.id, c.action), other_owner_, c.body);
        ApiResult missing = call(c.method, path(newUuid(), c.action), owner_, c.body);
        ApiResult malformed = call(c.method, path("not-an-id", c.action), owner_, c.body);

        EXPECT_EQ(404, foreign.status) << c.method << " " << c.action;
        EXPECT_EQ("not_found", foreign.errorCode()) << c.method << " " << c.action;
        EXPECT_EQ(missing.raw.body, foreign.raw.body) << c.method << " " << c.action;
        EXPECT_EQ(missing.raw.body, malformed.raw.body) << c.method << " " << c.action;
    }
    ApiResult unchanged = get(path(device.id), owner_);
    EXPECT_EQ("mine", unchanged["name"].as_string());
    EXPECT_EQ("active", unchanged["status"].as_string());
    EXPECT_EQ(200, upload(device).status);
}

TEST_P(DevicesApiTest, ListsOfAnotherOrganizationHoldNoneOfTheseDevices) {
    registerActive("EDGE-0021");
    registerUnclaimed("EDGE-0022");
    addDevice(other_org_);

    json::array foreign = listAll("/api/devices", other_owner_);
    json::array filtered = listAll("/api/devices?organization_id=" + org_, other_owner_);
    json::array searched = listAll("/api/devices?search=EDGE-002", other_owner_);

    EXPECT_EQ(1u, foreign.size());
    EXPECT_EQ(other_org_, foreign.at(0).at("organization_id").as_string());
    EXPECT_TRUE(filtered.empty());
    EXPECT_TRUE(searched.empty());
    EXPECT_EQ(2u, listAll("/api/devices", owner_).size());
}

TEST_P(DevicesApiTest, ASiteNarrowedUserSeesOnlyItsSitesDevices) {
    std::string north = addSite(org_, "North");
    std::string south = addSite(org_, "South");
    TestDevice here = registerActive("EDGE-0023", {{"site_id", north}});
    TestDevice there = registerActive("EDGE-0024", {{"site_id", south}});
    ApiUser viewer = addUser(org_, auth::Role::viewer, north);

    json::array rows = listAll("/api/devices", viewer);
    ApiResult hidden = get(path(there.id), viewer);
    ApiResult missing = get(path(newUuid()), viewer);

    EXPECT_EQ((std::set<std::string>{here.id}), ids(rows));
    EXPECT_EQ(404, hidden.status);
    EXPECT_EQ(missing.raw.body, hidden.raw.body);
}

TEST_P(DevicesApiTest, RolesWithoutTheActionGet403PermissionDenied) {
    TestDevice device = registerActive("EDGE-0025");
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    ApiUser technician = addUser(org_, auth::Role::technician);

    EXPECT_EQ("permission_denied",
              call("PATCH", path(device.id), viewer, {{"name", "x"}}).errorCode());
    EXPECT_EQ(
        "permission_denied",
        call("POST", path(device.id, "status"), viewer, {{"status", "inactive"}}).errorCode());
    EXPECT_EQ("permission_denied",
              call("POST", path(device.id, "rotate-key"), technician, json::object{}).errorCode());
    EXPECT_EQ("permission_denied", call("PUT", path(device.id, "configuration"), technician,
                                        {{"overrides", json::object{}}})
                                       .errorCode());
    EXPECT_EQ("permission_denied",
              call("POST", "/api/devices", viewer, {{"serial", "EDGE-0026"}}).errorCode());
    EXPECT_EQ(403,
              call("POST", path(device.id, "status"), viewer, {{"status", "inactive"}}).status);
    ApiResult allowed =
        call("POST", path(device.id, "status"), technician, {{"status", "maintenance"}});
    EXPECT_EQ(200, allowed.status) << allowed.raw.body;
}

// ---- The list -------------------------------------------------------------------------------

TEST_P(DevicesApiTest, ListFiltersByEachField) {
    std::string site = addSite(org_, "Plant");
    registerActive("A-1", {{"model", "edge-x"},
                           {"firmware_version", "1.0.0"},
                           {"firmware_channel", "beta"},
                           {"site_id", site},
                           {"asset_id", "DOOR_7"},
                           {"tags", json::array{"door", "north"}},
                           {"name", "Loading dock"}});
    registerActive(
        "A-2", {{"model", "edge-y"}, {"firmware_version", "1.1.0"}, {"tags", json::array{"pump"}}});
    registerUnclaimed("A-3");

    auto serialsFor = [&](const std::string& query) {
        return serials(listAll("/api/devices?" + query, owner_));
    };
    using Serials = std::set<std::string>;
    EXPECT_EQ((Serials{"A-1"}), serialsFor("model=edge-x"));
    EXPECT_EQ((Serials{"A-2"}), serialsFor("firmware_version=1.1.0"));
    EXPECT_EQ((Serials{"A-1"}), serialsFor("channel=beta"));
    EXPECT_EQ((Serials{"A-1"}), serialsFor("site_id=" + site));
    EXPECT_EQ((Serials{"A-1"}), serialsFor("asset_id=DOOR_7"));
    EXPECT_EQ((Serials{"A-1"}), serialsFor("tag=north"));
    EXPECT_EQ((Serials{"A-2"}), serialsFor("tag=pump"));
    EXPECT_EQ((Serials{"A-3"}), serialsFor("status=unclaimed"));
    EXPECT_EQ((Serials{"A-1", "A-2"}), serialsFor("status=active"));
    EXPECT_EQ((Serials{"A-1"}), serialsFor("search=DOCK"));
    EXPECT_EQ((Serials{"A-2"}), serialsFor("search=a-2"));
    EXPECT_EQ((Serials{"A-1"}), serialsFor("status=active&model=edge-x&tag=door"));
    EXPECT_EQ((Serials{}), serialsFor("search=%25"));
}

TEST_P(DevicesApiTest, ListRefusesBadFilterValues) {
    for (const char* query : {"status=broken", "online=yes", "organization_id=42", "site_id=x",
                              "channel=nightly", "ordering=colour", "limit=0"}) {
        ApiResult result = get(std::string("/api/devices?") + query, owner_);
        EXPECT_EQ(400, result.status) << query;
        EXPECT_EQ("invalid_parameter", result.errorCode()) << query;
    }
}

TEST_P(DevicesApiTest, OnlineFollowsEachDevicesEffectiveOfflineTimeout) {
    Micros now = nowMicros();
    TestDevice fresh = registerActive("ON-DEFAULT");
    TestDevice strict = registerActive("OFF-OVERRIDE");
    TestDevice never = registerActive("OFF-NEVER");
    TestDevice profiled = registerActive("OFF-PROFILE", {{"model", "quick"}});
    TestDevice patient = registerActive("ON-PROFILE", {{"model", "patient"}});
    ASSERT_EQ(200, call("PUT", path(strict.id, "configuration"), owner_,
                        {{"overrides", {{"offline_timeout_s", 60}}}})
                       .status);
    ASSERT_EQ(201, call("POST", "/api/config-profiles", owner_,
                        {{"model", "quick"}, {"settings", {{"offline_timeout_s", 30}}}})
                       .status);
    ASSERT_EQ(201, call("POST", "/api/config-profiles", owner_,
                        {{"model", "patient"}, {"settings", {{"offline_timeout_s", 3600}}}})
                       .status);
    // The default timeout is 300 s.
    for (const auto* device : {&fresh, &strict, &profiled}) {
        execute("UPDATE devices SET last_seen = $1 WHERE id = $2",
                {now - 100 * kSecond, device->id});
    }
    execute("UPDATE devices SET last_seen = $1 WHERE id = $2", {now - 1000 * kSecond, patient.id});

    json::array online = listAll("/api/devices?online=true", owner_);
    json::array offline = listAll("/api/devices?online=false", owner_);

    EXPECT_EQ((std::set<std::string>{"ON-DEFAULT", "ON-PROFILE"}), serials(online));
    EXPECT_EQ((std::set<std::string>{"OFF-OVERRIDE", "OFF-NEVER", "OFF-PROFILE"}),
              serials(offline));
    for (const auto& row : online) {
        EXPECT_TRUE(row.at("online").as_bool());
    }
    for (const auto& row : offline) {
        EXPECT_FALSE(row.at("online").as_bool());
    }
    EXPECT_FALSE(get(path(strict.id), owner_)["online"].as_bool());
    EXPECT_TRUE(get(path(patient.id), owner_)["online"].as_bool());
    (void)never;
}

TEST_P(DevicesApiTest, PagesWalkDevicesSharingASortValueExactlyOnce) {
    std::set<std::string> made;
    for (int i = 0; i < 11; ++i) {
        made.insert(registerActive("TIE-" + std::to_string(i)).id);
    }
    execute(
        "UPDATE devices SET name = 'same', created_at = 1000, last_seen = NULL "
        "WHERE organization_id = $1",
        {org_});

    for (const char* ordering :
         {"name", "-name", "created_at", "-created_at", "last_seen", "-last_seen", "serial"}) {
        json::array rows =
            listAll(std::string("/api/devices?limit=3&ordering=") + ordering, owner_);
        EXPECT_EQ(made.size(), rows.size()) << ordering;
        EXPECT_EQ(made, ids(rows)) << ordering;
    }
    json::array by_serial = listAll("/api/devices?limit=4&ordering=-serial", owner_);
    ASSERT_EQ(11u, by_serial.size());
    EXPECT_EQ("TIE-9", by_serial.at(0).at("serial").as_string());
}

// ---- Claiming -------------------------------------------------------------------------------

TEST_P(DevicesApiTest, UnclaimedRegistrationAnswersAClaimTokenAndNoKey) {
    json::object made = registerUnclaimed("CLAIM-1");

    EXPECT_TRUE(made.at("secret").is_null());
    EXPECT_EQ("unclaimed", made.at("device").at("status").as_string());
    EXPECT_TRUE(made.at("device").at("claimed_at").is_null());
    std::string token(made.at("claim_token").as_string());
    EXPECT_EQ("esocore-claim:1:CLAIM-1:" + token, made.at("claim_code").as_string());
    std::string id(made.at("device").at("id").as_string());
    EXPECT_EQ("0", scalar("SELECT count(*) FROM device_keys WHERE device_id = $1", {id}));
}

TEST_P(DevicesApiTest, ClaimByTokenActivatesTheDeviceAndItsNewKeyUploads) {
    json::object made = registerUnclaimed("CLAIM-2");
    std::string site = addSite(org_, "Dock");

    ApiResult result = call("POST", "/api/devices/claim", owner_,
                            {{"serial", "CLAIM-2"},
                             {"claim_token", made.at("claim_token")},
                             {"site_id", site},
                             {"name", "Dock door"}});

    ASSERT_EQ(200, result.status) << result.raw.body;
    const json::value& device = result["device"];
    EXPECT_EQ("active", device.at("status").as_string());
    EXPECT_EQ(org_, device.at("organization_id").as_string());
    EXPECT_EQ(site, device.at("site_id").as_string());
    EXPECT_EQ("Dock door", device.at("name").as_string());
    EXPECT_TRUE(device.at("claimed_at").is_string());
    TestDevice client{std::string(device.at("id").as_string()), "CLAIM-2",
                      std::string(result["secret"].as_string()), org_};
    HttpResult batch = upload(client);
    EXPECT_EQ(200, batch.status) << batch.body;
    EXPECT_EQ(1, testing::jsonObject(batch).at("accepted").as_int64());
    ApiResult again = call("POST", "/api/devices/claim", owner_,
                           {{"serial", "CLAIM-2"}, {"claim_token", made.at("claim_token")}});
    EXPECT_EQ(404, again.status);
}

TEST_P(DevicesApiTest, APoolDeviceIsClaimedByQrCodeIntoTheClaimersOrganization) {
    ApiUser staff = addStaff();
    // A factory-made device: registered by staff in no organization, with a key burned in.
    TestDevice factory = server_->createDevice("unclaimed");
    ApiResult code = call("POST", path(factory.id, "claim-code"), staff);
    ASSERT_EQ(200, code.status) << code.raw.body;
    EXPECT_EQ(403, upload(factory).status);
    EXPECT_EQ("device_unclaimed", testing::errorCode(upload(factory)));

    ApiResult result =
        call("POST", "/api/devices/claim", other_owner_, {{"claim_code", code["claim_code"]}});

    ASSERT_EQ(200, result.status) << result.raw.body;
    EXPECT_EQ(other_org_, result["device"].at("organization_id").as_string());
    TestDevice claimed{factory.id, factory.serial, std::string(result["secret"].as_string()),
                       other_org_};
    EXPECT_EQ(200, upload(claimed).status);
    HttpResult old_key = upload(factory);
    EXPECT_EQ(401, old_key.status);
    EXPECT_EQ("invalid_credentials", testing::errorCode(old_key));
    EXPECT_EQ(404, get(path(factory.id), owner_).status);
}

TEST_P(DevicesApiTest, ClaimFailuresAllAnswerLikeAnUnknownSerial) {
    json::object mine = registerUnclaimed("CLAIM-3");
    std::string token(mine.at("claim_token").as_string());
    TestDevice active = registerActive("CLAIM-4");

    ApiResult unknown = call("POST", "/api/devices/claim", other_owner_,
                             {{"serial", "NO-SUCH-SERIAL"}, {"claim_token", token}});
    ApiResult wrong_token = call("POST", "/api/devices/claim", other_owner_,
                                 {{"serial", "CLAIM-3"}, {"claim_token", "guess"}});
    // Pre-registered by another organization: even its right token does not take it over.
    ApiResult foreign = call("POST", "/api/devices/claim", other_owner_,
                             {{"serial", "CLAIM-3"}, {"claim_token", token}});
    ApiResult claimed =
        call("POST", "/api/devices/claim", owner_, {{"serial", "CLAIM-4"}, {"claim_token", token}});
    ApiResult wrong_code = call("POST", "/api/devices/claim", other_owner_,
                                {{"claim_code", "esocore-claim:1:CLAIM-3:guess"}});

    EXPECT_EQ(404, unknown.status);
    EXPECT_EQ("not_found", unknown.errorCode());
    for (const ApiResult* result : {&wrong_token, &foreign, &claimed, &wrong_code}) {
        EXPECT_EQ(unknown.raw.body, result->raw.body);
    }
    EXPECT_EQ("unclaimed",
              get(path(std::string(mine.at("device").at("id").as_string())), owner_)["status"]
                  .as_string());
    (void)active;
}

TEST_P(DevicesApiTest, ClaimWithoutACodeOrTokenIs400) {
    ApiResult nothing = call("POST", "/api/devices/claim", owner_, json::object{});
    ApiResult garbled = call("POST", "/api/devices/claim", owner_, {{"claim_code", "hello"}});

    EXPECT_EQ("validation_failed", nothing.errorCode());
    EXPECT_TRUE(nothing["error"].at("fields").as_object().contains("claim_code"));
    EXPECT_EQ("validation_failed", garbled.errorCode());
    EXPECT_EQ(400, garbled.status);
}

TEST_P(DevicesApiTest, AViewerCannotClaim) {
    json::object made = registerUnclaimed("CLAIM-5");
    ApiUser viewer = addUser(org_, auth::Role::viewer);

    ApiResult result = call("POST", "/api/devices/claim", viewer,
                            {{"serial", "CLAIM-5"}, {"claim_token", made.at("claim_token")}});

    EXPECT_EQ(403, result.status);
    EXPECT_EQ("permission_denied", result.errorCode());
}

// Rebuilds the module matrix from the SVG's `M<x> <y>h<n>v1h-<n>z` runs.
std::vector<std::vector<bool>> modulesOf(const std::string& svg, int quiet, int width) {
    std::vector<std::vector<bool>> modules(width, std::vector<bool>(width, false));
    std::regex run(R"(M(\d+) (\d+)h(\d+)v1h-(\d+)z)");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), run); it != std::sregex_iterator();
         ++it) {
        int x = std::stoi((*it)[1]) - quiet;
        int y = std::stoi((*it)[2]) - quiet;
        for (int i = 0; i < std::stoi((*it)[3]); ++i) {
            modules.at(y).at(x + i) = true;
        }
    }
    return modules;
}

TEST_P(DevicesApiTest, ClaimCodeAnswersTheQrCodeOfThePayloadAndVoidsEarlierTokens) {
    json::object made = registerUnclaimed("CLAIM-6");
    std::string id(made.at("device").at("id").as_string());

    ApiResult result = call("POST", path(id, "claim-code"), owner_);

    ASSERT_EQ(200, result.status) << result.raw.body;
    std::string code(result["claim_code"].as_string());
    EXPECT_EQ("esocore-claim:1:CLAIM-6:" + std::string(result["claim_token"].as_string()), code);
    std::string svg(result["qr_svg"].as_string());
    ASSERT_TRUE(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\"")) << svg;
    std::unique_ptr<QRcode, decltype(&QRcode_free)> expected(
        QRcode_encodeString(code.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
    ASSERT_TRUE(expected);
    int width = expected->width;
    std::string side = std::to_string(width + 8);
    EXPECT_NE(std::string::npos, svg.find("viewBox=\"0 0 " + side + " " + side + "\""));
    auto drawn = modulesOf(svg, 4, width);
    for (int y = 0; y < width; ++y) {
        for (int x = 0; x < width; ++x) {
            ASSERT_EQ((expected->data[y * width + x] & 1) != 0, drawn[y][x]) << x << "," << y;
        }
    }
    ApiResult stale =
        call("POST", "/api/devices/claim", owner_, {{"claim_code", made.at("claim_code")}});
    EXPECT_EQ(404, stale.status);
    EXPECT_EQ(200, call("POST", "/api/devices/claim", owner_, {{"claim_code", code}}).status);
}

TEST_P(DevicesApiTest, ClaimCodeOfAClaimedDeviceIs409) {
    TestDevice device = registerActive("CLAIM-7");

    ApiResult result = call("POST", path(device.id, "claim-code"), owner_);

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("device_claimed", result.errorCode());
}

// ---- Key rotation ---------------------------------------------------------------------------

TEST_P(DevicesApiTest, RotatedKeysOldKeyWorksUntilTheGraceEnds) {
    TestDevice device = registerActive("KEY-1");
    Micros before = nowMicros();

    ApiResult result =
        call("POST", path(device.id, "rotate-key"), owner_, {{"grace_seconds", 3600}});

    ASSERT_EQ(200, result.status) << result.raw.body;
    TestDevice rotated = device;
    rotated.key = std::string(result["secret"].as_string());
    EXPECT_NE(device.key, rotated.key);
    auto until = parseRfc3339(std::string(result["previous_keys_expire_at"].as_string()));
    ASSERT_TRUE(until.has_value());
    EXPECT_NEAR(static_cast<double>(before + 3600 * kSecond), static_cast<double>(*until),
                5.0 * kSecond);
    EXPECT_EQ(200, upload(device).status);
    EXPECT_EQ(200, upload(rotated).status);

    // The grace ends: the old key's expiry moves into the past.
    execute(
        "UPDATE device_keys SET expires_at = $1 WHERE device_id = $2 AND expires_at IS NOT NULL",
        {nowMicros() - kSecond, device.id});

    HttpResult old_key = upload(device);
    EXPECT_EQ(401, old_key.status);
    EXPECT_EQ("invalid_credentials", testing::errorCode(old_key));
    EXPECT_EQ(401, deviceConfig(device).status);
    EXPECT_EQ(200, upload(rotated).status);
}

TEST_P(DevicesApiTest, RotationWithoutGraceRevokesTheOldKeyAtOnce) {
    TestDevice device = registerActive("KEY-2");

    ApiResult result = call("POST", path(device.id, "rotate-key"), owner_, {{"grace_seconds", 0}});

    ASSERT_EQ(200, result.status) << result.raw.body;
    EXPECT_EQ(401, upload(device).status);
    device.key = std::string(result["secret"].as_string());
    EXPECT_EQ(200, upload(device).status);
}

TEST_P(DevicesApiTest, RotationDefaultsToADayOfGrace) {
    TestDevice device = registerActive("KEY-3");

    ApiResult result = call("POST", path(device.id, "rotate-key"), owner_);

    ASSERT_EQ(200, result.status) << result.raw.body;
    auto until = parseRfc3339(std::string(result["previous_keys_expire_at"].as_string()));
    ASSERT_TRUE(until.has_value());
    EXPECT_NEAR(static_cast<double>(nowMicros() + 86'400 * kSecond), static_cast<double>(*until),
                5.0 * kSecond);
    EXPECT_EQ(200, upload(device).status);
}

TEST_P(DevicesApiTest, RotationRefusesAGraceOutsideZeroToThirtyDays) {
    TestDevice device = registerActive("KEY-4");

    for (json::value grace : {json::value(-1), json::value(30 * 86'400 + 1), json::value("1h")}) {
        ApiResult result =
            call("POST", path(device.id, "rotate-key"), owner_, {{"grace_seconds", grace}});
        EXPECT_EQ(400, result.status) << grace;
        EXPECT_EQ("validation_failed", result.errorCode());
        EXPECT_TRUE(result["error"].at("fields").as_object().contains("grace_seconds"));
    }
    EXPECT_EQ(200, upload(device).status);
}

TEST_P(DevicesApiTest, RotationOfAnUnclaimedDeviceIs409) {
    json::object made = registerUnclaimed("KEY-5");

    ApiResult result = call(
        "POST", path(std::string(made.at("device").at("id").as_string()), "rotate-key"), owner_);

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("device_unclaimed", result.errorCode());
}

// ---- Status ---------------------------------------------------------------------------------

TEST_P(DevicesApiTest, StatusChangesDecideWhatTheDeviceApiAnswers) {
    TestDevice device = registerActive("STATUS-1");
    auto setStatus = [&](const char* status) {
        return call("POST", path(device.id, "status"), owner_,
                    {{"status", status}, {"reason", "test"}});
    };

    ASSERT_EQ(200, setStatus("maintenance").status);
    EXPECT_EQ(200, upload(device).status);

    ApiResult inactive = setStatus("inactive");
    ASSERT_EQ(200, inactive.status);
    EXPECT_EQ("inactive", inactive["status"].as_string());
    HttpResult refused = upload(device);
    EXPECT_EQ(403, refused.status);
    EXPECT_EQ("device_inactive", testing::errorCode(refused));

    ASSERT_EQ(200, setStatus("active").status);
    EXPECT_EQ(200, upload(device).status);

    ASSERT_EQ(200, setStatus("decommissioned").status);
    HttpResult gone = upload(device);
    EXPECT_EQ(403, gone.status);
    EXPECT_EQ("device_decommissioned", testing::errorCode(gone));

    ApiResult back = setStatus("active");
    EXPECT_EQ(409, back.status);
    EXPECT_EQ("invalid_transition", back.errorCode());
}

TEST_P(DevicesApiTest, AnUnclaimedDeviceBecomesActiveOnlyByClaim) {
    json::object made = registerUnclaimed("STATUS-2");
    std::string id(made.at("device").at("id").as_string());

    ApiResult active = call("POST", path(id, "status"), owner_, {{"status", "active"}});
    ApiResult maintenance = call("POST", path(id, "status"), owner_, {{"status", "maintenance"}});
    ApiResult retired = call("POST", path(id, "status"), owner_, {{"status", "decommissioned"}});

    EXPECT_EQ(409, active.status);
    EXPECT_EQ("invalid_transition", active.errorCode());
    EXPECT_EQ("invalid_transition", maintenance.errorCode());
    EXPECT_EQ(200, retired.status);
    // Its printed code no longer claims it.
    ApiResult claim =
        call("POST", "/api/devices/claim", owner_, {{"claim_code", made.at("claim_code")}});
    EXPECT_EQ(404, claim.status);
    EXPECT_EQ(204, call("DELETE", path(id), owner_).status);
}

TEST_P(DevicesApiTest, StatusValidatesItsBody) {
    TestDevice device = registerActive("STATUS-3");

    ApiResult unclaimed =
        call("POST", path(device.id, "status"), owner_, {{"status", "unclaimed"}});
    ApiResult missing = call("POST", path(device.id, "status"), owner_, {{"reason", "why"}});

    EXPECT_EQ(400, unclaimed.status);
    EXPECT_EQ("validation_failed", unclaimed.errorCode());
    EXPECT_TRUE(unclaimed["error"].at("fields").as_object().contains("status"));
    EXPECT_TRUE(missing["error"].at("fields").as_object().contains("status"));
}

TEST_P(DevicesApiTest, SettingTheSameStatusChangesNothing) {
    TestDevice device = registerActive("STATUS-4");

    ApiResult result = call("POST", path(device.id, "status"), owner_, {{"status", "active"}});

    EXPECT_EQ(200, result.status);
    EXPECT_EQ((std::vector<std::string>{"device.created"}), auditActions(device.id));
}

// ---- Configuration --------------------------------------------------------------------------

TEST_P(DevicesApiTest, ConfigurationShowsProfileOverridesAndTheEffectiveMerge) {
    TestDevice device = registerActive("CONF-1");
    ASSERT_EQ(201, call("POST", "/api/config-profiles", owner_,
                        {{"model", "esocore-edge"},
                         {"settings", {{"upload_interval_s", 20}, {"window_s", 30}}}})
                       .status);
    ASSERT_EQ(200, call("PUT", path(device.id, "configuration"), owner_,
                        {{"overrides", {{"upload_interval_s", 7}}}})
                       .status);

    ApiResult result = get(path(device.id, "configuration"), owner_);

    ASSERT_EQ(200, result.status) << result.raw.body;
    EXPECT_EQ(20, result["profile"].at("settings").at("upload_interval_s").as_int64());
    EXPECT_EQ((json::object{{"upload_interval_s", 7}}), result["overrides"].as_object());
    EXPECT_EQ(7, result["effective"].at("upload_interval_s").as_int64());
    EXPECT_EQ(30, result["effective"].at("window_s").as_int64());
    EXPECT_EQ(300, result["effective"].at("offline_timeout_s").as_int64());
    HttpResult served = deviceConfig(device);
    EXPECT_EQ(quoted(result["etag"]), served.header("etag"));
    EXPECT_EQ(7, testing::jsonObject(served).at("upload_interval_s").as_int64());
}

TEST_P(DevicesApiTest, PuttingOverridesChangesTheDeviceConfigETag) {
    TestDevice device = registerActive("CONF-2");
    HttpResult first = deviceConfig(device);
    ASSERT_EQ(200, first.status);
    std::string etag = first.header("etag");
    ASSERT_EQ(304, deviceConfig(device, {{"If-None-Match", etag}}).status);

    ApiResult put =
        call("PUT", path(device.id, "configuration"), owner_,
             {{"overrides", {{"sampling_ms", {{"rh", 2000}}}, {"restamp_future", true}}}});

    ASSERT_EQ(200, put.status) << put.raw.body;
    HttpResult second = deviceConfig(device, {{"If-None-Match", etag}});
    EXPECT_EQ(200, second.status);
    EXPECT_NE(etag, second.header("etag"));
    EXPECT_EQ(quoted(put["etag"]), second.header("etag"));
    json::object served = testing::jsonObject(second);
    EXPECT_EQ(2000, served.at("sampling_ms").at("rh").as_int64());
    EXPECT_EQ(10000, served.at("sampling_ms").at("temp_ambient").as_int64());
    EXPECT_TRUE(served.at("restamp_future").as_bool());
}

TEST_P(DevicesApiTest, OverridesAreValidatedKeyByKey) {
    TestDevice device = registerActive("CONF-3");

    ApiResult result = call("PUT", path(device.id, "configuration"), owner_,
                            {{"overrides",
                              {{"upload_interval_s", 0},
                               {"signing_required", "yes"},
                               {"sampling_ms", {{"rh", 1.5}}},
                               {"thresholds", {{"temp_stator", {{"max", "hot"}}}}},
                               {"ntp_servers", json::array{}},
                               {"endpoints", {{"batch", "ftp://x"}}},
                               {"colour", "red"}}}});

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("validation_failed", result.errorCode());
    const json::object& fields = result["error"].at("fields").as_object();
    for (const char* field :
         {"overrides.upload_interval_s", "overrides.signing_required", "overrides.sampling_ms.rh",
          "overrides.thresholds.temp_stator.max", "overrides.ntp_servers",
          "overrides.endpoints.batch", "overrides.colour"}) {
        EXPECT_TRUE(fields.contains(field)) << field << " in " << result.raw.body;
    }
    EXPECT_EQ("validation_failed",
              call("PUT", path(device.id, "configuration"), owner_, {{"overrides", json::array{}}})
                  .errorCode());
    EXPECT_TRUE(get(path(device.id, "configuration"), owner_)["overrides"].as_object().empty());
}

// ---- Audit ----------------------------------------------------------------------------------

TEST_P(DevicesApiTest, EveryKindOfChangeIsAudited) {
    TestDevice device = registerActive("AUDIT-1");
    call("PATCH", path(device.id), owner_, {{"name", "renamed"}});
    call("PUT", path(device.id, "configuration"), owner_, {{"overrides", {{"window_s", 10}}}});
    call("POST", path(device.id, "rotate-key"), owner_, {{"grace_seconds", 0}});
    call("POST", path(device.id, "status"), owner_,
         {{"status", "decommissioned"}, {"reason", "scrapped"}});
    call("DELETE", path(device.id), owner_);
    json::object pending = registerUnclaimed("AUDIT-2");
    std::string pending_id(pending.at("device").at("id").as_string());
    ApiResult code = call("POST", path(pending_id, "claim-code"), owner_);
    call("POST", "/api/devices/claim", owner_, {{"claim_code", code["claim_code"]}});

    EXPECT_EQ(
        (std::vector<std::string>{"device.created", "device.updated", "device.configured",
                                  "device.key_rotated", "device.status_changed", "device.deleted"}),
        auditActions(device.id));
    EXPECT_EQ(
        (std::vector<std::string>{"device.created", "device.claim_code_issued", "device.claimed"}),
        auditActions(pending_id));
    EXPECT_EQ(owner_.id,
              scalar("SELECT user_id FROM audit_log WHERE action = 'device.status_changed' "
                     "AND target_id = $1",
                     {device.id}));
    EXPECT_NE(std::string::npos,
              scalar("SELECT summary FROM audit_log WHERE action = 'device.status_changed' "
                     "AND target_id = $1",
                     {device.id})
                  .find("scrapped"));
    EXPECT_EQ(org_, scalar("SELECT organization_id FROM audit_log WHERE action = 'device.claimed' "
                           "AND target_id = $1",
                           {pending_id}));
}

// ---- The claim code -------------------------------------------------------------------------

TEST(ClaimCodeTest, ParsesWhatItMakes) {
    auto parts = api::parseClaimCode(api::claimCode("EDGE-1.a_b", "tok-en_9"));

    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ("EDGE-1.a_b", parts->serial);
    EXPECT_EQ("tok-en_9", parts->token);
    EXPECT_FALSE(api::parseClaimCode("esocore-claim:1:SERIAL").has_value());
    EXPECT_FALSE(api::parseClaimCode("esocore-claim:1::token").has_value());
    EXPECT_FALSE(api::parseClaimCode("esocore-claim:2:S:token").has_value());
    EXPECT_FALSE(api::parseClaimCode("https://example.com/claim").has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, DevicesApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
