// /api/events over real HTTP on both stores: events arrive through the device API, are listed
// and filtered, acknowledged and resolved with their event log and audit entries, and stay
// invisible to other organizations.
#include "api/events_api.h"

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

class EventsApiTest : public testing::ApiTest {
protected:
    void SetUp() override {
        ApiTest::SetUp();
        t0_ = (nowMicros() / kSecond) * kSecond - 60 * kMinute;
    }

    // Sends the records as the device through the device API; all must be accepted.
    void send(const TestDevice& device, const std::string& records) {
        HttpResult result = DeviceClient(*server_, device).batch("[" + records + "]");
        ASSERT_EQ(200, result.status) << result.body;
        EXPECT_EQ(0, testing::jsonObject(result).at("rejected").as_int64()) << result.body;
    }

    // An event record: a known event type, or any type with `meta` naming its severity.
    static std::string event(const std::string& type, Micros ts, const std::string& meta = "{}",
                             const std::string& asset = {}) {
        std::string record = R"({"ts":")" + formatRfc3339Millis(ts) + R"(","series":")" + type +
                             R"(","val":null,"meta":)" + meta;
        if (!asset.empty()) {
            record += R"(,"asset_id":")" + asset + "\"";
        }
        return record + "}";
    }

    // The id of the one event of that type.
    std::string eventId(const std::string& type) {
        json::array rows = listAll("/api/events?type=" + type, owner_);
        EXPECT_EQ(1u, rows.size()) << type;
        return rows.empty() ? "" : std::string(rows[0].at("id").as_string());
    }

    std::set<std::string> types(const std::string& query, const ApiUser& user) {
        std::set<std::string> out;
        for (const auto& row : listAll("/api/events?" + query, user)) {
            out.insert(std::string(row.at("type").as_string()));
        }
        return out;
    }
    std::set<std::string> types(const std::string& query) { return types(query, owner_); }

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

    std::string path(const std::string& id, const std::string& action = {}) {
        return "/api/events/" + id + (action.empty() ? "" : "/" + action);
    }

    // Two sites with a device each, and four events of different kinds a minute apart.
    void sendFourEvents() {
        north_ = addSite(org_, "North plant");
        south_ = addSite(org_, "South plant");
        north_device_ = addDevice(org_, north_);
        south_device_ = addDevice(org_, south_);
        send(north_device_,
             event("power_outage", t0_,
                   R"({"event_type":"power","severity":"critical","description":"Mains lost"})",
                   "DOOR_7") +
                 "," + event("reboot", t0_ + kMinute));
        send(south_device_, event("door_blocked", t0_ + 2 * kMinute, "{}", "DOOR_8") + "," +
                                event("connectivity_restored", t0_ + 3 * kMinute));
    }

    Micros t0_ = 0;
    std::string north_;
    std::string south_;
    TestDevice north_device_;
    TestDevice south_device_;
};

TEST_P(EventsApiTest, ListAndDetailShowTheEventsDevicesSent) {
    sendFourEvents();

    json::array rows = listAll("/api/events", owner_);

    ASSERT_EQ(4u, rows.size());
    const json::object& outage = rows[3].as_object();  // the oldest last: -ts by default
    EXPECT_EQ("power_outage", outage.at("type").as_string());
    EXPECT_EQ("power", outage.at("category").as_string());
    EXPECT_EQ("critical", outage.at("severity").as_string());
    EXPECT_EQ("active", outage.at("status").as_string());
    EXPECT_EQ("Mains lost", outage.at("description").as_string());
    EXPECT_EQ("DOOR_7", outage.at("asset_ref").as_string());
    EXPECT_EQ(formatRfc3339Millis(t0_), outage.at("ts").as_string());
    EXPECT_EQ(org_, outage.at("organization_id").as_string());
    EXPECT_EQ(north_device_.id, outage.at("device_id").as_string());
    EXPECT_EQ(north_device_.serial, outage.at("device_serial").as_string());
    EXPECT_EQ(north_, outage.at("site_id").as_string());
    EXPECT_EQ("Mains lost", outage.at("metadata").at("description").as_string());
    EXPECT_TRUE(outage.at("acknowledged_by").is_null());

    ApiResult detail = get(path(std::string(outage.at("id").as_string())), owner_);
    ASSERT_EQ(200, detail.status) << detail.raw.body;
    EXPECT_EQ(outage, detail.json.as_object());
}

TEST_P(EventsApiTest, ListFiltersCombine) {
    sendFourEvents();
    std::string since = formatRfc3339Millis(t0_ + kMinute);
    std::string until = formatRfc3339Millis(t0_ + 3 * kMinute);

    EXPECT_EQ((std::set<std::string>{"power_outage", "reboot"}), types("site_id=" + north_));
    EXPECT_EQ((std::set<std::string>{"door_blocked", "connectivity_restored"}),
              types("device_id=" + south_device_.id));
    EXPECT_EQ((std::set<std::string>{"power_outage"}), types("asset=DOOR_7"));
    EXPECT_EQ((std::set<std::string>{"reboot"}), types("type=reboot"));
    EXPECT_EQ((std::set<std::string>{"door_blocked"}), types("category=asset"));
    EXPECT_EQ((std::set<std::string>{"power_outage", "door_blocked"}),
              types("severity=high,critical"));
    EXPECT_EQ((std::set<std::string>{"power_outage", "door_blocked"}),
              types("min_severity=medium"));
    EXPECT_EQ((std::set<std::string>{"connectivity_restored"}), types("status=resolved"));
    EXPECT_EQ((std::set<std::string>{"power_outage", "reboot", "door_blocked"}),
              types("status=active,acknowledged"));
    EXPECT_EQ((std::set<std::string>{"reboot", "door_blocked"}),
              types("since=" + since + "&until=" + until));
    EXPECT_EQ((std::set<std::string>{"door_blocked"}), types("search=BLOCK"));
    EXPECT_EQ((std::set<std::string>{"reboot"}),
              types("site_id=" + north_ + "&severity=low&organization_id=" + org_));

    for (const char* bad : {"severity=urgent", "min_severity=loud", "status=open",
                            "since=yesterday", "device_id=abc", "ordering=type"}) {
        ApiResult result = get(std::string("/api/events?") + bad, owner_);
        EXPECT_EQ(400, result.status) << bad;
        EXPECT_EQ("invalid_parameter", result.errorCode()) << bad;
    }
}

TEST_P(EventsApiTest, OrderingBySeverityWeighsItAndByTsSortsInTime) {
    sendFourEvents();

    auto ordered = [&](const std::string& ordering) {
        std::vector<std::string> out;
        for (const auto& row : listAll("/api/events?limit=3&ordering=" + ordering, owner_)) {
            out.push_back(std::string(row.at("type").as_string()));
        }
        return out;
    };

    EXPECT_EQ((std::vector<std::string>{"power_outage", "door_blocked", "reboot",
                                        "connectivity_restored"}),
              ordered("-severity"));
    EXPECT_EQ((std::vector<std::string>{"power_outage", "reboot", "door_blocked",
                                        "connectivity_restored"}),
              ordered("ts"));
}

TEST_P(EventsApiTest, PagesWalkEveryEventOnceWhenManyShareATimestamp) {
    TestDevice device = addDevice(org_);
    std::string records;
    const char* severities[] = {"info", "low", "medium", "high", "critical"};
    for (int i = 0; i < 120; ++i) {
        std::string meta = R"({"severity":")";
        meta.append(severities[i % 5]).append("\"}");
        records.append(i == 0 ? "" : ",").append(event("probe_" + std::to_string(i), t0_, meta));
    }
    send(device, records);

    for (const char* ordering : {"-ts", "ts", "severity", "-severity", "received_at"}) {
        json::array rows = listAll(std::string("/api/events?limit=7&ordering=") + ordering, owner_);
        std::set<std::string> ids;
        for (const auto& row : rows) {
            ids.insert(std::string(row.at("id").as_string()));
        }
        EXPECT_EQ(120u, rows.size()) << ordering;
        EXPECT_EQ(120u, ids.size()) << ordering;
    }
}

TEST_P(EventsApiTest, AcknowledgeThenResolveWritesTheEventLogAndTheAuditLog) {
    sendFourEvents();
    std::string id = eventId("power_outage");
    ApiUser technician = addUser(org_, auth::Role::technician);

    ApiResult acknowledged =
        call("POST", path(id, "acknowledge"), technician, {{"note", "on my way"}});
    ASSERT_EQ(200, acknowledged.status) << acknowledged.raw.body;
    EXPECT_EQ("acknowledged", acknowledged["status"].as_string());
    EXPECT_EQ(technician.id, acknowledged["acknowledged_by"].as_string());
    EXPECT_TRUE(acknowledged["acknowledged_at"].is_string());
    ApiResult again = call("POST", path(id, "acknowledge"), owner_);
    EXPECT_EQ(409, again.status);
    EXPECT_EQ("invalid_transition", again.errorCode());

    ApiResult resolved = call("POST", path(id, "resolve"), owner_, {{"note", "mains back"}});
    ASSERT_EQ(200, resolved.status) << resolved.raw.body;
    EXPECT_EQ("resolved", resolved["status"].as_string());
    EXPECT_EQ(owner_.id, resolved["resolved_by"].as_string());
    EXPECT_EQ(technician.id, resolved["acknowledged_by"].as_string());
    EXPECT_EQ("invalid_transition", call("POST", path(id, "resolve"), owner_).errorCode());

    json::array log = listAll(path(id, "log"), owner_);
    ASSERT_EQ(2u, log.size());
    EXPECT_EQ("acknowledged", log[0].at("action").as_string());
    EXPECT_EQ("active", log[0].at("from_status").as_string());
    EXPECT_EQ("acknowledged", log[0].at("to_status").as_string());
    EXPECT_EQ("on my way", log[0].at("note").as_string());
    EXPECT_EQ(technician.id, log[0].at("user_id").as_string());
    EXPECT_EQ("Test technician", log[0].at("user_name").as_string());
    EXPECT_EQ("resolved", log[1].at("action").as_string());
    EXPECT_EQ("acknowledged", log[1].at("from_status").as_string());
    EXPECT_EQ("mains back", log[1].at("note").as_string());
    EXPECT_EQ("resolved", listAll(path(id, "log") + "?ordering=-created_at&limit=1", owner_)[0]
                              .at("action")
                              .as_string());
    EXPECT_EQ((std::vector<std::string>{"event.acknowledged", "event.resolved"}), auditActions(id));
}

TEST_P(EventsApiTest, OnlyActiveEventsAreAcknowledgedAndResolvedOnesStay) {
    sendFourEvents();
    std::string restored = eventId("connectivity_restored");  // info: resolved on arrival
    std::string reboot = eventId("reboot");

    ApiResult acknowledged = call("POST", path(restored, "acknowledge"), owner_);
    ApiResult resolved_again = call("POST", path(restored, "resolve"), owner_);
    ApiResult resolved = call("POST", path(reboot, "resolve"), owner_);
    ApiResult late = call("POST", path(reboot, "acknowledge"), owner_);

    EXPECT_EQ(409, acknowledged.status);
    EXPECT_EQ("invalid_transition", acknowledged.errorCode());
    EXPECT_EQ("invalid_transition", resolved_again.errorCode());
    EXPECT_EQ(200, resolved.status) << resolved.raw.body;
    EXPECT_TRUE(resolved["acknowledged_by"].is_null());
    EXPECT_EQ("invalid_transition", late.errorCode());
    EXPECT_EQ(0u, listAll(path(restored, "log"), owner_).size());
    EXPECT_EQ((std::vector<std::string>{"event.resolved"}), auditActions(reboot));
}

TEST_P(EventsApiTest, NoteIsCheckedAndTheEventUnchangedWhenItIsNot) {
    sendFourEvents();
    std::string id = eventId("power_outage");

    ApiResult long_note =
        call("POST", path(id, "acknowledge"), owner_, {{"note", std::string(2001, 'x')}});
    ApiResult unknown = call("POST", path(id, "resolve"), owner_, {{"reason", "x"}});

    EXPECT_EQ(400, long_note.status);
    EXPECT_EQ("validation_failed", long_note.errorCode());
    EXPECT_EQ("validation_failed", unknown.errorCode());
    EXPECT_EQ("active", get(path(id), owner_)["status"].as_string());
}

TEST_P(EventsApiTest, ViewerReadsButMayNotAcknowledgeOrResolve) {
    sendFourEvents();
    std::string id = eventId("power_outage");
    ApiUser viewer = addUser(org_, auth::Role::viewer);

    EXPECT_EQ(200, get(path(id), viewer).status);
    EXPECT_EQ(200, get(path(id, "log"), viewer).status);
    for (const char* action : {"acknowledge", "resolve"}) {
        ApiResult result = call("POST", path(id, action), viewer);
        EXPECT_EQ(403, result.status) << action;
        EXPECT_EQ("permission_denied", result.errorCode()) << action;
    }
    EXPECT_EQ("active", get(path(id), owner_)["status"].as_string());
}

TEST_P(EventsApiTest, AnotherOrganizationGetsNotFoundLikeAMissingIdOnEveryRoute) {
    sendFourEvents();
    std::string id = eventId("power_outage");

    for (auto [method, action] : {std::pair{"GET", ""}, std::pair{"POST", "acknowledge"},
                                  std::pair{"POST", "resolve"}, std::pair{"GET", "log"}}) {
        ApiResult hidden = call(method, path(id, action), other_owner_);
        ApiResult missing = call(method, path(newUuid(), action), other_owner_);
        ApiResult malformed = call(method, path("42", action), other_owner_);
        EXPECT_EQ(404, hidden.status) << action;
        EXPECT_EQ("not_found", hidden.errorCode()) << action;
        EXPECT_EQ(missing.raw.body, hidden.raw.body) << action;
        EXPECT_EQ(malformed.raw.body, hidden.raw.body) << action;
    }
    EXPECT_EQ("active", get(path(id), owner_)["status"].as_string());
    EXPECT_EQ(0u, listAll(path(id, "log"), owner_).size());
}

TEST_P(EventsApiTest, AnotherOrganizationListsNoneOfTheseEvents) {
    sendFourEvents();
    TestDevice theirs = addDevice(other_org_);
    send(theirs, event("sd_error", t0_));

    EXPECT_EQ(0u, listAll("/api/events?organization_id=" + org_, other_owner_).size());
    EXPECT_EQ(0u, listAll("/api/events?device_id=" + north_device_.id, other_owner_).size());
    EXPECT_EQ((std::set<std::string>{"sd_error"}), types("", other_owner_));
    EXPECT_EQ(4u, listAll("/api/events", owner_).size());
}

TEST_P(EventsApiTest, NarrowedMembersSeeTheEventsOfTheirSiteOrDeviceOnly) {
    sendFourEvents();
    ApiUser north_viewer = addUser(org_, auth::Role::viewer, north_);
    ApiUser south_technician = addUser(org_, auth::Role::technician, {}, south_device_.id);

    EXPECT_EQ((std::set<std::string>{"power_outage", "reboot"}), types("", north_viewer));
    EXPECT_EQ((std::set<std::string>{"door_blocked", "connectivity_restored"}),
              types("", south_technician));
    EXPECT_EQ(404, get(path(eventId("door_blocked")), north_viewer).status);
    ApiResult acknowledged =
        call("POST", path(eventId("door_blocked"), "acknowledge"), south_technician);
    EXPECT_EQ(200, acknowledged.status) << acknowledged.raw.body;
    EXPECT_EQ(404, call("POST", path(eventId("reboot"), "acknowledge"), south_technician).status);
}

INSTANTIATE_TEST_SUITE_P(Stores, EventsApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
