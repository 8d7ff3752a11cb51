// /api/assets, their cycles, counters and histograms, maintenance plans and tickets over real
// HTTP on both stores. Cycles come in through the device API, as cycle_open and cycle_close
// records, never straight into the store.
#include "api/assets_api.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
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
constexpr Micros kMinute = 60 * kSecond;
constexpr Micros kHour = 60 * kMinute;
constexpr Micros kDay = 24 * kHour;

Micros at(const std::string& rfc3339) {
    return *parseRfc3339(rfc3339);
}

class AssetsApiTest : public testing::ApiTest {
protected:
    // An asset made through the API; answers the 201's body.
    json::object createAsset(const ApiUser& user, json::object body) {
        ApiResult result = call("POST", "/api/assets", user, body);
        EXPECT_EQ(201, result.status) << result.raw.body;
        return result.json.is_object() ? result.json.as_object() : json::object{};
    }

    std::string createAssetId(const std::string& external_id, json::object body = {}) {
        body["external_id"] = external_id;
        return std::string(createAsset(owner_, body)["id"].as_string());
    }

    std::string createPlan(const std::string& asset_id, json::object body) {
        ApiResult result =
            call("POST", "/api/assets/" + asset_id + "/maintenance-plans", owner_, body);
        EXPECT_EQ(201, result.status) << result.raw.body;
        return result["id"].is_string() ? std::string(result["id"].as_string()) : "";
    }

    std::string createTicket(json::object body) {
        ApiResult result = call("POST", "/api/maintenance-tickets", owner_, body);
        EXPECT_EQ(201, result.status) << result.raw.body;
        return result["id"].is_string() ? std::string(result["id"].as_string()) : "";
    }

    void setTimeZone(const std::string& site_id, const std::string& zone) {
        ASSERT_TRUE(server_->store()
                        .sql()
                        .execute("UPDATE sites SET time_zone = $1 WHERE id = $2", {zone, site_id})
                        .ok());
    }

    // Sends the records as the device through the device API; all must be accepted.
    void send(const TestDevice& device, const std::string& records) {
        HttpResult result = DeviceClient(*server_, device).batch("[" + records + "]");
        ASSERT_EQ(200, result.status) << result.body;
        EXPECT_EQ(0, testing::jsonObject(result).at("rejected").as_int64()) << result.body;
    }

    // A cycle_open record and a cycle_close record `duration` later.
    static std::string cycle(const std::string& asset_ref, int cycle_id, Micros opened,
                             Micros duration) {
        std::string id = std::to_string(cycle_id);
        return R"({"ts":")" + formatRfc3339Millis(opened) + R"(","asset_id":")" + asset_ref +
               R"(","series":"cycle_open","val":null,"meta":{"event_type":"asset","cycle_id":)" +
               id + R"(}},{"ts":")" + formatRfc3339Millis(opened + duration) + R"(","asset_id":")" +
               asset_ref +
               R"(","series":"cycle_close","val":null,"meta":{"event_type":"asset","cycle_id":)" +
               id + R"(,"duration_ms":)" + std::to_string(duration / 1000) + "}}";
    }

    // A cycle_open record only: a cycle still running.
    static std::string openCycle(const std::string& asset_ref, int cycle_id, Micros opened) {
        return R"({"ts":")" + formatRfc3339Millis(opened) + R"(","asset_id":")" + asset_ref +
               R"(","series":"cycle_open","val":null,"meta":{"cycle_id":)" +
               std::to_string(cycle_id) + "}}";
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

    // The other organization's owner gets, for `path` with the real id, the very answer
    // that a random id and a malformed id get.
    void expectHiddenLikeMissing(const std::string& method, const std::string& path_template,
                                 const std::string& id, const json::value& body = nullptr) {
        auto path = [&](const std::string& with) {
            std::string out = path_template;
            return out.replace(out.find("{id}"), 4, with);
        };
        ApiResult hidden = call(method, path(id), other_owner_, body);
        ApiResult missing = call(method, path(newUuid()), other_owner_, body);
        ApiResult malformed = call(method, path("not-a-uuid"), other_owner_, body);
        EXPECT_EQ(404, hidden.status) << method << " " << path_template;
        EXPECT_EQ("not_found", hidden.errorCode()) << method << " " << path_template;
        EXPECT_EQ(missing.raw.body, hidden.raw.body) << method << " " << path_template;
        EXPECT_EQ(malformed.raw.body, hidden.raw.body) << method << " " << path_template;
    }

    static std::set<std::string> externalIds(const json::array& rows) {
        std::set<std::string> out;
        for (const auto& row : rows) {
            out.insert(std::string(row.at("external_id").as_string()));
        }
        return out;
    }

    // The message of one field of a validation error, or empty.
    static std::string field(const ApiResult& result, const std::string& name) {
        const json::value& error = result["error"];
        const json::value* fields =
            error.is_object() ? error.as_object().if_contains("fields") : nullptr;
        const json::value* message = fields != nullptr && fields->is_object()
                                         ? fields->as_object().if_contains(name)
                                         : nullptr;
        return message != nullptr && message->is_string() ? std::string(message->as_string())
                                                          : std::string();
    }
};

// ---- Assets -------------------------------------------------------------------------------

TEST_P(AssetsApiTest, CreateAnswersEveryFieldAndAuditsIt) {
    std::string site = addSite(org_, "North plant");

    json::object asset = createAsset(owner_, {{"external_id", "DOOR_7"},
                                              {"site_id", site},
                                              {"name", "Loading door 7"},
                                              {"type", "door"},
                                              {"make", "Hörmann"},
                                              {"model", "SPU F42"},
                                              {"serial", "HM-4411"},
                                              {"installed_on", "2021-06-30"},
                                              {"location", "Bay 3"},
                                              {"specifications", {{"width_mm", 3000}}},
                                              {"tags", json::array{"north", "dock"}}});

    EXPECT_EQ(org_, asset["organization_id"].as_string());
    EXPECT_EQ(site, asset["site_id"].as_string());
    EXPECT_EQ("DOOR_7", asset["external_id"].as_string());
    EXPECT_EQ("door", asset["type"].as_string());
    EXPECT_EQ("Hörmann", asset["make"].as_string());
    EXPECT_EQ("2021-06-30", asset["installed_on"].as_string());
    EXPECT_EQ((json::object{{"width_mm", 3000}}), asset["specifications"].as_object());
    EXPECT_EQ((json::array{"north", "dock"}), asset["tags"].as_array());
    EXPECT_TRUE(asset["active"].as_bool());
    std::string id(asset["id"].as_string());
    EXPECT_EQ(asset, get("/api/assets/" + id, owner_).json.as_object());
    EXPECT_EQ((std::vector<std::string>{"asset.created"}), auditActions(id));
}

TEST_P(AssetsApiTest, CreateDefaultsToTypeOtherWithoutSite) {
    json::object asset = createAsset(owner_, {{"external_id", "PUMP-1"}});

    EXPECT_EQ("other", asset["type"].as_string());
    EXPECT_TRUE(asset["site_id"].is_null());
    EXPECT_TRUE(asset["installed_on"].is_null());
    EXPECT_EQ(json::object{}, asset["specifications"].as_object());
    EXPECT_EQ(json::array{}, asset["tags"].as_array());
}

TEST_P(AssetsApiTest, CreateNamesEveryInvalidField) {
    ApiResult result = call("POST", "/api/assets", owner_,
                            {{"type", "crane"},
                             {"installed_on", "2026-02-30"},
                             {"specifications", json::array{}},
                             {"tags", json::array{1}},
                             {"active", "yes"},
                             {"colour", "red"}});

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("validation_failed", result.errorCode());
    EXPECT_EQ("required", field(result, "external_id"));
    for (const char* name : {"type", "installed_on", "specifications", "tags", "active"}) {
        EXPECT_NE("", field(result, name)) << name;
    }
    EXPECT_EQ("unknown field", field(result, "colour"));
}

TEST_P(AssetsApiTest, ExternalIdIsUniqueWithinAnOrganizationOnly) {
    createAssetId("DOOR_7");
    std::string other = createAssetId("DOOR_8");

    ApiResult twice = call("POST", "/api/assets", owner_, {{"external_id", "DOOR_7"}});
    ApiResult renamed = call("PATCH", "/api/assets/" + other, owner_, {{"external_id", "DOOR_7"}});
    ApiResult elsewhere = call("POST", "/api/assets", other_owner_, {{"external_id", "DOOR_7"}});

    EXPECT_EQ(409, twice.status);
    EXPECT_EQ("external_id_taken", twice.errorCode());
    EXPECT_EQ(409, renamed.status);
    EXPECT_EQ("external_id_taken", renamed.errorCode());
    EXPECT_EQ(201, elsewhere.status) << elsewhere.raw.body;
}

TEST_P(AssetsApiTest, SiteMustBeOneOfTheAssetsOrganization) {
    std::string foreign_site = addSite(other_org_, "Their plant");
    std::string asset = createAssetId("DOOR_7");

    ApiResult created =
        call("POST", "/api/assets", owner_, {{"external_id", "DOOR_9"}, {"site_id", foreign_site}});
    ApiResult moved = call("PATCH", "/api/assets/" + asset, owner_, {{"site_id", foreign_site}});

    for (const ApiResult* result : {&created, &moved}) {
        EXPECT_EQ(400, result->status);
        EXPECT_EQ("validation_failed", result->errorCode());
        EXPECT_EQ("no such site in the asset's organization", field(*result, "site_id"));
    }
}

TEST_P(AssetsApiTest, UpdateChangesTheGivenFieldsAndClearsNulls) {
    std::string site = addSite(org_, "North plant");
    std::string id = createAssetId(
        "DOOR_7", {{"site_id", site}, {"installed_on", "2021-06-30"}, {"name", "Door"}});

    ApiResult result = call(
        "PATCH", "/api/assets/" + id, owner_,
        {{"name", "Door 7"}, {"site_id", nullptr}, {"installed_on", nullptr}, {"active", false}});

    ASSERT_EQ(200, result.status) << result.raw.body;
    EXPECT_EQ("Door 7", result["name"].as_string());
    EXPECT_TRUE(result["site_id"].is_null());
    EXPECT_TRUE(result["installed_on"].is_null());
    EXPECT_FALSE(result["active"].as_bool());
    EXPECT_EQ("DOOR_7", result["external_id"].as_string());
    EXPECT_EQ((std::vector<std::string>{"asset.created", "asset.updated"}), auditActions(id));

    ApiResult null_name = call("PATCH", "/api/assets/" + id, owner_, {{"name", nullptr}});
    EXPECT_EQ(400, null_name.status);
    EXPECT_EQ("must not be null", field(null_name, "name"));
}

TEST_P(AssetsApiTest, DeleteRemovesTheAssetWithItsPlansAndTickets) {
    std::string id = createAssetId("DOOR_7");
    std::string plan = createPlan(id, {{"name", "Lubricate"}, {"every_days", 30}});
    std::string ticket = createTicket({{"title", "Squeaks"}, {"asset_id", id}});

    ApiResult deleted = call("DELETE", "/api/assets/" + id, owner_);

    EXPECT_EQ(204, deleted.status) << deleted.raw.body;
    EXPECT_EQ(404, get("/api/assets/" + id, owner_).status);
    EXPECT_EQ(404, get("/api/maintenance-plans/" + plan, owner_).status);
    EXPECT_EQ(404, get("/api/maintenance-tickets/" + ticket, owner_).status);
    EXPECT_EQ((std::vector<std::string>{"asset.created", "asset.deleted"}), auditActions(id));
}

TEST_P(AssetsApiTest, ListFiltersBySiteTypeActiveAndSearch) {
    std::string north = addSite(org_, "North plant");
    createAssetId("DOOR_7", {{"site_id", north}, {"type", "door"}, {"make", "Hörmann"}});
    createAssetId("DOOR_8", {{"type", "door"}, {"active", false}});
    createAssetId("PUMP_1", {{"site_id", north}, {"type", "pump"}, {"model", "Grundfos CR 5"}});
    createAssetId("100%_OK", {{"name", "odd_name"}});

    auto ids = [&](const std::string& query) {
        return externalIds(listAll("/api/assets?" + query, owner_));
    };
    EXPECT_EQ((std::set<std::string>{"DOOR_7", "PUMP_1"}), ids("site_id=" + north));
    EXPECT_EQ((std::set<std::string>{"DOOR_7", "DOOR_8"}), ids("type=door"));
    EXPECT_EQ((std::set<std::string>{"DOOR_7", "DOOR_8", "PUMP_1"}), ids("type=door,pump"));
    EXPECT_EQ((std::set<std::string>{"DOOR_8"}), ids("active=false"));
    EXPECT_EQ((std::set<std::string>{"PUMP_1"}), ids("search=grundFOS"));
    EXPECT_EQ((std::set<std::string>{"DOOR_7", "DOOR_8"}), ids("search=door_"));
    EXPECT_EQ((std::set<std::string>{"100%_OK"}), ids("search=0%25_"));
    EXPECT_EQ((std::set<std::string>{"100%_OK"}), ids("search=odd_"));

    for (const char* bad : {"type=crane", "active=yes", "site_id=north", "ordering=colour"}) {
        ApiResult result = get(std::string("/api/assets?") + bad, owner_);
        EXPECT_EQ(400, result.status) << bad;
        EXPECT_EQ("invalid_parameter", result.errorCode()) << bad;
    }
}

TEST_P(AssetsApiTest, ListPagesThroughAssetsSharingASortValue) {
    for (int i = 0; i < 23; ++i) {
        createAssetId("A-" + std::to_string(i), {{"name", "same"}, {"type", "motor"}});
    }

    for (const char* ordering : {"name", "-name", "type", "-created_at"}) {
        json::array rows = listAll(std::string("/api/assets?limit=4&ordering=") + ordering, owner_);
        EXPECT_EQ(23u, rows.size()) << ordering;
        EXPECT_EQ(23u, externalIds(rows).size()) << ordering;
    }
}

TEST_P(AssetsApiTest, AnotherOrganizationListsNoneOfTheseAssets) {
    createAssetId("DOOR_7");
    createAsset(other_owner_, {{"external_id", "THEIRS"}});

    EXPECT_EQ(0u, listAll("/api/assets?organization_id=" + org_, other_owner_).size());
    EXPECT_EQ((std::set<std::string>{"THEIRS"}), externalIds(listAll("/api/assets", other_owner_)));
    EXPECT_EQ((std::set<std::string>{"DOOR_7"}), externalIds(listAll("/api/assets", owner_)));
}

TEST_P(AssetsApiTest, ViewerReadsButDoesNotWriteAndASiteMemberSeesItsSiteOnly) {
    std::string north = addSite(org_, "North plant");
    std::string south = addSite(org_, "South plant");
    std::string door = createAssetId("DOOR_7", {{"site_id", north}});
    createAssetId("DOOR_8", {{"site_id", south}});
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    ApiUser north_operator = addUser(org_, auth::Role::operator_, north);

    EXPECT_EQ(200, get("/api/assets/" + door, viewer).status);
    ApiResult denied = call("PATCH", "/api/assets/" + door, viewer, {{"name", "x"}});
    EXPECT_EQ(403, denied.status);
    EXPECT_EQ("permission_denied", denied.errorCode());
    EXPECT_EQ("permission_denied",
              call("POST", "/api/assets", viewer, {{"external_id", "X"}}).errorCode());

    EXPECT_EQ((std::set<std::string>{"DOOR_7"}),
              externalIds(listAll("/api/assets", north_operator)));
    ApiResult here = call("POST", "/api/assets", north_operator,
                          {{"external_id", "DOOR_9"}, {"site_id", north}});
    EXPECT_EQ(201, here.status) << here.raw.body;
    ApiResult there = call("POST", "/api/assets", north_operator,
                           {{"external_id", "DOOR_10"}, {"site_id", south}});
    EXPECT_EQ(400, there.status);
    EXPECT_EQ("no such site in the asset's organization", field(there, "site_id"));
}

TEST_P(AssetsApiTest, AnotherOrganizationGetsNotFoundLikeAMissingIdOnEveryRoute) {
    std::string asset = createAssetId("DOOR_7");
    std::string plan = createPlan(asset, {{"name", "Lubricate"}, {"every_cycles", 100}});
    std::string ticket = createTicket({{"title", "Squeaks"}, {"asset_id", asset}});

    expectHiddenLikeMissing("GET", "/api/assets/{id}", asset);
    expectHiddenLikeMissing("PATCH", "/api/assets/{id}", asset, json::object{{"name", "x"}});
    expectHiddenLikeMissing("DELETE", "/api/assets/{id}", asset);
    expectHiddenLikeMissing("GET", "/api/assets/{id}/cycles", asset);
    expectHiddenLikeMissing("GET", "/api/assets/{id}/counters", asset);
    expectHiddenLikeMissing("GET", "/api/assets/{id}/histogram", asset);
    expectHiddenLikeMissing("GET", "/api/assets/{id}/maintenance-plans", asset);
    expectHiddenLikeMissing("POST", "/api/assets/{id}/maintenance-plans", asset,
                            json::object{{"name", "x"}, {"every_days", 1}});
    expectHiddenLikeMissing("GET", "/api/maintenance-plans/{id}", plan);
    expectHiddenLikeMissing("PATCH", "/api/maintenance-plans/{id}", plan,
                            json::object{{"name", "x"}});
    expectHiddenLikeMissing("DELETE", "/api/maintenance-plans/{id}", plan);
    expectHiddenLikeMissing("POST", "/api/maintenance-plans/{id}/done", plan);
    expectHiddenLikeMissing("GET", "/api/maintenance-tickets/{id}", ticket);
    expectHiddenLikeMissing("PATCH", "/api/maintenance-tickets/{id}", ticket,
                            json::object{{"status", "assigned"}});
    expectHiddenLikeMissing("DELETE", "/api/maintenance-tickets/{id}", ticket);

    EXPECT_EQ(200, get("/api/assets/" + asset, owner_).status);
    EXPECT_EQ(200, get("/api/maintenance-plans/" + plan, owner_).status);
    ApiResult kept = get("/api/maintenance-tickets/" + ticket, owner_);
    EXPECT_EQ("open", kept["status"].as_string());
}

// ---- Cycles -------------------------------------------------------------------------------

TEST_P(AssetsApiTest, CyclesAreThoseTheOrganizationsDevicesReportedUnderTheExternalId) {
    std::string asset = createAssetId("DOOR_7");
    TestDevice device = addDevice(org_);
    TestDevice foreign = addDevice(other_org_);
    Micros t0 = nowMicros() - 2 * kHour;
    send(device, cycle("DOOR_7", 1, t0, 7480 * 1000) + "," +
                     cycle("DOOR_7", 2, t0 + kMinute, 6000 * 1000) + "," +
                     cycle("DOOR_8", 3, t0 + 2 * kMinute, 5000 * 1000) + "," +
                     openCycle("DOOR_7", 4, t0 + 3 * kMinute));
    send(foreign, cycle("DOOR_7", 1, t0, 9000 * 1000));

    json::array cycles = listAll("/api/assets/" + asset + "/cycles", owner_);

    ASSERT_EQ(3u, cycles.size());
    const json::object& newest = cycles[0].as_object();
    EXPECT_EQ(4, newest.at("cycle_id").as_int64());
    EXPECT_TRUE(newest.at("ended_at").is_null());
    EXPECT_TRUE(newest.at("duration_ms").is_null());
    const json::object& first = cycles[2].as_object();
    EXPECT_EQ(1, first.at("cycle_id").as_int64());
    EXPECT_EQ(device.id, first.at("device_id").as_string());
    EXPECT_EQ(device.serial, first.at("device_serial").as_string());
    EXPECT_EQ("DOOR_7", first.at("asset_ref").as_string());
    EXPECT_EQ(formatRfc3339Millis(t0), first.at("started_at").as_string());
    EXPECT_EQ(formatRfc3339Millis(t0 + 7480 * 1000), first.at("ended_at").as_string());
    EXPECT_EQ(7480, first.at("duration_ms").as_int64());

    std::string window = "/api/assets/" + asset +
                         "/cycles?since=" + formatRfc3339Millis(t0 + kMinute) +
                         "&until=" + formatRfc3339Millis(t0 + 3 * kMinute);
    json::array windowed = listAll(window, owner_);
    ASSERT_EQ(1u, windowed.size());
    EXPECT_EQ(2, windowed[0].at("cycle_id").as_int64());
    EXPECT_EQ(
        3u,
        listAll("/api/assets/" + asset + "/cycles?limit=1&ordering=duration_ms", owner_).size());
    EXPECT_EQ(0u, listAll("/api/assets/" + asset + "/cycles?cycle_type=stroke", owner_).size());
    EXPECT_EQ("invalid_parameter",
              get("/api/assets/" + asset + "/cycles?since=yesterday", owner_).errorCode());
}

TEST_P(AssetsApiTest, CountersCountTodayThisWeekAndThisMonthInTheSitesZone) {
    std::string site = addSite(org_, "Boston");
    setTimeZone(site, "America/New_York");
    std::string asset = createAssetId("DOOR_7", {{"site_id", site}});
    TestDevice device = addDevice(org_, site);

    // The starts of today, this week and this month in New York, computed here apart from
    // the server's code.
    using namespace std::chrono;
    const date::time_zone* zone = date::locate_zone("America/New_York");
    Micros now = nowMicros();
    auto local_today =
        date::floor<date::days>(zone->to_local(sys_time<microseconds>(microseconds(now))));
    auto monday = local_today - (date::weekday{local_today} - date::Monday);
    date::year_month_day ymd{local_today};
    date::local_days first_of_month{ymd.year() / ymd.month() / 1};
    auto start = [&](date::local_days day) {
        return duration_cast<microseconds>(
                   zone->to_sys(date::local_seconds(day.time_since_epoch())).time_since_epoch())
            .count();
    };
    std::vector<Micros> times{start(monday) + 30 * kSecond, start(first_of_month) + kMinute,
                              now - 5 * kSecond, now - 40 * kDay};
    std::string records;
    int cycle_id = 0;
    for (Micros t : times) {
        records.append(cycle("DOOR_7", ++cycle_id, t, 1000 * 1000)).append(",");
    }
    records.append(openCycle("DOOR_7", 99, now - 2 * kSecond));
    send(device, records);
    auto since = [&](Micros from) {
        std::int64_t count = 1;  // the open cycle, 2 seconds ago
        for (Micros t : times) {
            count += t >= from ? 1 : 0;
        }
        return count;
    };

    ApiResult counters = get("/api/assets/" + asset + "/counters", owner_);

    ASSERT_EQ(200, counters.status) << counters.raw.body;
    EXPECT_EQ("America/New_York", counters["time_zone"].as_string());
    EXPECT_EQ(5, counters["total_cycles"].as_int64());
    EXPECT_EQ(1, counters["open_cycles"].as_int64());
    EXPECT_EQ(since(start(local_today)), counters["cycles_today"].as_int64());
    EXPECT_EQ(since(start(monday)), counters["cycles_this_week"].as_int64());
    EXPECT_EQ(since(start(first_of_month)), counters["cycles_this_month"].as_int64());
    EXPECT_DOUBLE_EQ(1000.0, counters["average_duration_ms"].as_double());
    EXPECT_EQ(1000, counters["last_duration_ms"].as_int64());
    EXPECT_EQ(formatRfc3339Millis(now - 2 * kSecond), counters["last_cycle_at"].as_string());
    EXPECT_EQ(0u, counters["maintenance"].as_array().size());
}

TEST_P(AssetsApiTest, CountersOfAnAssetWithoutCyclesAreZeroInUtc) {
    std::string asset = createAssetId("DOOR_7");

    ApiResult counters = get("/api/assets/" + asset + "/counters", owner_);

    ASSERT_EQ(200, counters.status) << counters.raw.body;
    EXPECT_EQ("UTC", counters["time_zone"].as_string());
    EXPECT_EQ(0, counters["total_cycles"].as_int64());
    EXPECT_TRUE(counters["average_duration_ms"].is_null());
    EXPECT_TRUE(counters["last_duration_ms"].is_null());
    EXPECT_TRUE(counters["last_cycle_at"].is_null());
}

TEST_P(AssetsApiTest, HistogramCountsPerLocalDayAcrossTheSpringDstChange) {
    std::string site = addSite(org_, "Berlin");
    setTimeZone(site, "Europe/Berlin");
    std::string asset = createAssetId("DOOR_7", {{"site_id", site}});
    TestDevice device = addDevice(org_, site);
    // Berlin is UTC+1 until 2026-03-29T01:00Z and UTC+2 after: the 29th lasts 23 hours.
    send(device, cycle("DOOR_7", 1, at("2026-03-27T22:59:00Z"), kSecond) + "," +      // 27th 23:59
                     cycle("DOOR_7", 2, at("2026-03-27T23:30:00Z"), kSecond) + "," +  // 28th
                     cycle("DOOR_7", 3, at("2026-03-28T22:59:00Z"), kSecond) + "," +  // 28th
                     cycle("DOOR_7", 4, at("2026-03-29T21:59:00Z"), kSecond) + "," +  // 29th
                     cycle("DOOR_7", 5, at("2026-03-29T22:30:00Z"), kSecond));        // 30th

    ApiResult daily = get(
        "/api/assets/" + asset + "/histogram?period=daily&start=2026-03-26&end=2026-03-31", owner_);

    ASSERT_EQ(200, daily.status) << daily.raw.body;
    EXPECT_EQ("Europe/Berlin", daily["time_zone"].as_string());
    EXPECT_EQ(5, daily["total"].as_int64());
    const json::array& days = daily["buckets"].as_array();
    ASSERT_EQ(6u, days.size());
    std::vector<std::pair<std::string, std::int64_t>> counts;
    for (const auto& day : days) {
        counts.emplace_back(std::string(day.at("date").as_string()), day.at("count").as_int64());
    }
    EXPECT_EQ((std::vector<std::pair<std::string, std::int64_t>>{{"2026-03-26", 0},
                                                                 {"2026-03-27", 1},
                                                                 {"2026-03-28", 2},
                                                                 {"2026-03-29", 1},
                                                                 {"2026-03-30", 1},
                                                                 {"2026-03-31", 0}}),
              counts);
    EXPECT_EQ("2026-03-28T23:00:00.000Z", days[3].at("start").as_string());
    EXPECT_EQ("2026-03-29T22:00:00.000Z", days[3].at("end").as_string());
    EXPECT_EQ("2026-03-29T22:00:00.000Z", days[4].at("start").as_string());
    EXPECT_TRUE(days[3].at("week").is_null());

    ApiResult weekly =
        get("/api/assets/" + asset + "/histogram?period=weekly&start=2026-03-28&end=2026-03-30",
            owner_);
    ASSERT_EQ(200, weekly.status) << weekly.raw.body;
    const json::array& weeks = weekly["buckets"].as_array();
    ASSERT_EQ(2u, weeks.size());
    EXPECT_EQ("2026-03-23", weeks[0].at("date").as_string());
    EXPECT_EQ("2026-W13", weeks[0].at("week").as_string());
    EXPECT_EQ(4, weeks[0].at("count").as_int64());
    EXPECT_EQ("2026-W14", weeks[1].at("week").as_string());
    EXPECT_EQ(1, weeks[1].at("count").as_int64());
}

TEST_P(AssetsApiTest, HistogramDayOfTheAutumnDstChangeLastsTwentyFiveHours) {
    std::string site = addSite(org_, "Berlin");
    setTimeZone(site, "Europe/Berlin");
    std::string asset = createAssetId("DOOR_7", {{"site_id", site}});

    ApiResult daily =
        get("/api/assets/" + asset + "/histogram?start=2026-10-25&end=2026-10-25", owner_);

    ASSERT_EQ(200, daily.status) << daily.raw.body;
    const json::array& days = daily["buckets"].as_array();
    ASSERT_EQ(1u, days.size());
    EXPECT_EQ("2026-10-24T22:00:00.000Z", days[0].at("start").as_string());
    EXPECT_EQ("2026-10-25T23:00:00.000Z", days[0].at("end").as_string());
    EXPECT_EQ(0, days[0].at("count").as_int64());
}

TEST_P(AssetsApiTest, HistogramSplitsDaysAtAQuarterHourOffset) {
    std::string site = addSite(org_, "Kathmandu");
    setTimeZone(site, "Asia/Kathmandu");  // UTC+05:45: days begin at 18:15 UTC
    std::string asset = createAssetId("PUMP_1", {{"site_id", site}});
    TestDevice device = addDevice(org_, site);
    send(device, cycle("PUMP_1", 1, at("2026-03-09T18:10:00Z"), kSecond) + "," +  // 9th 23:55
                     cycle("PUMP_1", 2, at("2026-03-09T18:20:00Z"), kSecond));    // 10th 00:05

    ApiResult daily =
        get("/api/assets/" + asset + "/histogram?start=2026-03-09&end=2026-03-10", owner_);

    ASSERT_EQ(200, daily.status) << daily.raw.body;
    const json::array& days = daily["buckets"].as_array();
    ASSERT_EQ(2u, days.size());
    EXPECT_EQ("2026-03-09T18:15:00.000Z", days[1].at("start").as_string());
    EXPECT_EQ(1, days[0].at("count").as_int64());
    EXPECT_EQ(1, days[1].at("count").as_int64());
}

TEST_P(AssetsApiTest, HistogramRefusesABadPeriodOrRange) {
    std::string asset = createAssetId("DOOR_7");
    std::string path = "/api/assets/" + asset + "/histogram?";

    for (std::string query :
         {"period=monthly", "start=2026-02-30", "end=tomorrow", "start=2026-03-02&end=2026-03-01",
          "start=2020-01-01&end=2026-01-01"}) {
        ApiResult result = get(path + query, owner_);
        EXPECT_EQ(400, result.status) << query;
        EXPECT_EQ("invalid_parameter", result.errorCode()) << query;
    }
    ApiResult defaults = get(path, owner_);
    ASSERT_EQ(200, defaults.status) << defaults.raw.body;
    EXPECT_EQ(30u, defaults["buckets"].as_array().size());
    EXPECT_EQ(12u, get(path + "period=weekly", owner_)["buckets"].as_array().size());
}

// ---- Maintenance plans --------------------------------------------------------------------

TEST_P(AssetsApiTest, PlanFallsDueByCyclesAndDoneStartsTheCountAgain) {
    std::string asset = createAssetId("DOOR_7");
    TestDevice device = addDevice(org_);
    Micros now = nowMicros();
    std::string plan = createPlan(asset, {{"name", "Lubricate hinges"},
                                          {"every_cycles", 3},
                                          {"last_done_at", formatRfc3339Millis(now - kHour)}});
    send(device, cycle("DOOR_7", 1, now - 2 * kHour, kSecond) + "," +
                     cycle("DOOR_7", 2, now - 30 * kMinute, kSecond) + "," +
                     cycle("DOOR_7", 3, now - 20 * kMinute, kSecond));

    ApiResult before = get("/api/maintenance-plans/" + plan, owner_);
    EXPECT_EQ(2, before["cycles_since_done"].as_int64());
    EXPECT_EQ(1, before["cycles_remaining"].as_int64());
    EXPECT_FALSE(before["due"].as_bool());

    send(device, cycle("DOOR_7", 4, now - 10 * kMinute, kSecond));
    ApiResult due = get("/api/maintenance-plans/" + plan, owner_);
    EXPECT_EQ(3, due["cycles_since_done"].as_int64());
    EXPECT_EQ(0, due["cycles_remaining"].as_int64());
    EXPECT_TRUE(due["due"].as_bool());
    ApiResult counters = get("/api/assets/" + asset + "/counters", owner_);
    ASSERT_EQ(1u, counters["maintenance"].as_array().size());
    EXPECT_TRUE(counters["maintenance"].as_array()[0].at("due").as_bool());

    ApiResult done = call("POST", "/api/maintenance-plans/" + plan + "/done", owner_);
    ASSERT_EQ(200, done.status) << done.raw.body;
    EXPECT_FALSE(done["due"].as_bool());
    EXPECT_EQ(0, done["cycles_since_done"].as_int64());
    EXPECT_EQ(4, done["last_done_cycles"].as_int64());
    EXPECT_TRUE(done["last_done_at"].is_string());
    EXPECT_EQ((std::vector<std::string>{"maintenance_plan.created", "maintenance_plan.done"}),
              auditActions(plan));
}

TEST_P(AssetsApiTest, PlanFallsDueByDays) {
    std::string asset = createAssetId("DOOR_7");
    Micros last_done = nowMicros() - 8 * kDay;

    std::string plan = createPlan(
        asset,
        {{"name", "Inspect"}, {"every_days", 7}, {"last_done_at", formatRfc3339Millis(last_done)}});

    ApiResult result = get("/api/maintenance-plans/" + plan, owner_);
    EXPECT_TRUE(result["due"].as_bool());
    EXPECT_EQ(8, result["days_since_done"].as_int64());
    EXPECT_EQ(formatRfc3339Millis(last_done + 7 * kDay), result["due_at"].as_string());
    EXPECT_TRUE(result["cycles_remaining"].is_null());

    ApiResult paused = call("PATCH", "/api/maintenance-plans/" + plan, owner_, {{"active", false}});
    EXPECT_FALSE(paused["due"].as_bool());
}

TEST_P(AssetsApiTest, PlanNeedsAnIntervalAndKeepsOne) {
    std::string asset = createAssetId("DOOR_7");

    ApiResult none =
        call("POST", "/api/assets/" + asset + "/maintenance-plans", owner_, {{"name", "Whenever"}});
    ApiResult zero = call("POST", "/api/assets/" + asset + "/maintenance-plans", owner_,
                          {{"name", "Never"}, {"every_cycles", 0}});
    std::string plan = createPlan(asset, {{"name", "Inspect"}, {"every_days", 7}});
    ApiResult cleared =
        call("PATCH", "/api/maintenance-plans/" + plan, owner_, {{"every_days", nullptr}});
    ApiResult swapped = call("PATCH", "/api/maintenance-plans/" + plan, owner_,
                             {{"every_days", nullptr}, {"every_cycles", 500}});

    EXPECT_EQ("set every_cycles, every_days or both", field(none, "every_cycles"));
    EXPECT_EQ("validation_failed", zero.errorCode());
    EXPECT_NE("", field(zero, "every_cycles"));
    EXPECT_EQ(400, cleared.status);
    EXPECT_EQ("set every_cycles, every_days or both", field(cleared, "every_cycles"));
    ASSERT_EQ(200, swapped.status) << swapped.raw.body;
    EXPECT_TRUE(swapped["every_days"].is_null());
    EXPECT_EQ(500, swapped["every_cycles"].as_int64());
    EXPECT_EQ((std::vector<std::string>{"maintenance_plan.created", "maintenance_plan.updated"}),
              auditActions(plan));
}

TEST_P(AssetsApiTest, PlansListAndDelete) {
    std::string asset = createAssetId("DOOR_7");
    std::string inspect = createPlan(asset, {{"name", "Inspect"}, {"every_days", 7}});
    createPlan(asset, {{"name", "Lubricate"}, {"every_cycles", 100}, {"active", false}});

    json::array plans = listAll("/api/assets/" + asset + "/maintenance-plans", owner_);
    ASSERT_EQ(2u, plans.size());
    EXPECT_EQ("Inspect", plans[0].at("name").as_string());
    EXPECT_EQ(1u,
              listAll("/api/assets/" + asset + "/maintenance-plans?active=true", owner_).size());

    EXPECT_EQ(204, call("DELETE", "/api/maintenance-plans/" + inspect, owner_).status);
    EXPECT_EQ(1u, listAll("/api/assets/" + asset + "/maintenance-plans", owner_).size());
    EXPECT_EQ((std::vector<std::string>{"maintenance_plan.created", "maintenance_plan.deleted"}),
              auditActions(inspect));
}

// ---- Maintenance tickets ------------------------------------------------------------------

TEST_P(AssetsApiTest, TicketMovesFromOpenToAssignedToDoneAndIsReopenedExplicitly) {
    std::string asset = createAssetId("DOOR_7");
    ApiUser technician = addUser(org_, auth::Role::technician);
    std::string ticket =
        createTicket({{"title", "Door squeaks"}, {"description", "Bay 3"}, {"asset_id", asset}});
    std::string path = "/api/maintenance-tickets/" + ticket;

    ApiResult opened = get(path, owner_);
    EXPECT_EQ("open", opened["status"].as_string());
    EXPECT_EQ("DOOR_7", opened["asset_external_id"].as_string());
    EXPECT_EQ(owner_.id, opened["created_by"].as_string());
    ApiResult skipped = call("PATCH", path, owner_, {{"status", "done"}});
    EXPECT_EQ(409, skipped.status);
    EXPECT_EQ("invalid_transition", skipped.errorCode());

    ApiResult assigned = call("PATCH", path, owner_, {{"assignee_id", technician.id}});
    EXPECT_EQ("assigned", assigned["status"].as_string());
    EXPECT_EQ(technician.id, assigned["assignee_id"].as_string());
    EXPECT_EQ("Test technician", assigned["assignee_name"].as_string());

    ApiResult done = call("PATCH", path, technician, {{"status", "done"}});
    ASSERT_EQ(200, done.status) << done.raw.body;
    EXPECT_TRUE(done["done_at"].is_string());
    ApiResult back = call("PATCH", path, owner_, {{"status", "assigned"}});
    EXPECT_EQ(409, back.status);
    EXPECT_EQ("invalid_transition", back.errorCode());

    ApiResult reopened = call("PATCH", path, owner_, {{"status", "open"}});
    ASSERT_EQ(200, reopened.status) << reopened.raw.body;
    EXPECT_EQ("open", reopened["status"].as_string());
    EXPECT_TRUE(reopened["done_at"].is_null());
    EXPECT_EQ(
        (std::vector<std::string>{"maintenance_ticket.created", "maintenance_ticket.updated",
                                  "maintenance_ticket.updated", "maintenance_ticket.updated"}),
        auditActions(ticket));
}

TEST_P(AssetsApiTest, TicketAssigneeMustBeAMemberOfTheOrganization) {
    std::string asset = createAssetId("DOOR_7");

    ApiResult created =
        call("POST", "/api/maintenance-tickets", owner_,
             {{"title", "Fix"}, {"asset_id", asset}, {"assignee_id", other_owner_.id}});
    std::string ticket = createTicket({{"title", "Fix"}, {"asset_id", asset}});
    ApiResult changed = call("PATCH", "/api/maintenance-tickets/" + ticket, owner_,
                             {{"assignee_id", other_owner_.id}});
    ApiResult unassigned =
        call("PATCH", "/api/maintenance-tickets/" + ticket, owner_, {{"status", "assigned"}});

    for (const ApiResult* result : {&created, &changed}) {
        EXPECT_EQ(400, result->status);
        EXPECT_EQ("must be a member of the ticket's organization", field(*result, "assignee_id"));
    }
    EXPECT_EQ("an assigned ticket needs an assignee", field(unassigned, "assignee_id"));
}

TEST_P(AssetsApiTest, TicketOfAPlanTakesThePlansAssetAndRefusesForeignReferences) {
    std::string asset = createAssetId("DOOR_7");
    std::string plan = createPlan(asset, {{"name", "Inspect"}, {"every_days", 7}});
    json::object foreign = createAsset(other_owner_, {{"external_id", "THEIRS"}});

    ApiResult ticket =
        call("POST", "/api/maintenance-tickets", owner_, {{"title", "Inspect"}, {"plan_id", plan}});
    ApiResult foreign_asset = call("POST", "/api/maintenance-tickets", owner_,
                                   {{"title", "x"}, {"asset_id", foreign["id"]}});
    ApiResult missing_plan =
        call("POST", "/api/maintenance-tickets", owner_, {{"title", "x"}, {"plan_id", newUuid()}});

    ASSERT_EQ(201, ticket.status) << ticket.raw.body;
    EXPECT_EQ(asset, ticket["asset_id"].as_string());
    EXPECT_EQ(plan, ticket["plan_id"].as_string());
    EXPECT_EQ("no such asset", field(foreign_asset, "asset_id"));
    EXPECT_EQ("no such maintenance plan", field(missing_plan, "plan_id"));
}

TEST_P(AssetsApiTest, TicketListFiltersAndHidesOtherOrganizations) {
    std::string door = createAssetId("DOOR_7");
    std::string pump = createAssetId("PUMP_1");
    ApiUser technician = addUser(org_, auth::Role::technician);
    std::string a = createTicket({{"title", "Door squeaks"}, {"asset_id", door}});
    std::string b =
        createTicket({{"title", "Pump leaks"}, {"asset_id", pump}, {"assignee_id", technician.id}});
    std::string c = createTicket({{"title", "Clean the yard"}});
    ASSERT_EQ(201,
              call("POST", "/api/maintenance-tickets", other_owner_, {{"title", "Theirs"}}).status);

    auto ids = [&](const std::string& query) {
        std::set<std::string> out;
        for (const auto& row : listAll("/api/maintenance-tickets?" + query, owner_)) {
            out.insert(std::string(row.at("id").as_string()));
        }
        return out;
    };
    EXPECT_EQ((std::set<std::string>{a, b, c}), ids(""));
    EXPECT_EQ((std::set<std::string>{a}), ids("asset_id=" + door));
    EXPECT_EQ((std::set<std::string>{b}), ids("assignee_id=" + technician.id));
    EXPECT_EQ((std::set<std::string>{a, c}), ids("status=open"));
    EXPECT_EQ((std::set<std::string>{a, b, c}), ids("status=open,assigned&limit=1"));
    EXPECT_EQ((std::set<std::string>{b}), ids("search=LEAK"));
    EXPECT_EQ("invalid_parameter",
              get("/api/maintenance-tickets?status=closed", owner_).errorCode());
    EXPECT_EQ(0u, listAll("/api/maintenance-tickets?organization_id=" + org_, other_owner_).size());

    EXPECT_EQ(204, call("DELETE", "/api/maintenance-tickets/" + c, owner_).status);
    EXPECT_EQ(
        (std::vector<std::string>{"maintenance_ticket.created", "maintenance_ticket.deleted"}),
        auditActions(c));
}

INSTANTIATE_TEST_SUITE_P(Stores, AssetsApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
