// Each channel of /ws over real uploads and API calls, on both stores: what a subscription
// delivers, and that nothing of another organization, site or refused channel leaks. A
// refused message is shown absent by a later message that does arrive: a connection delivers
// in publishing order.
#include "live/live_session.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/crypto.h"
#include "live/bus.h"
#include "live/live_fixture.h"
#include "live/publish.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::dataText;
using testing::typeOf;

class LiveSessionTest : public testing::LiveTest {
protected:
    // Messages until none arrives for `quiet`.
    std::vector<json::object> drain(testing::WebSocketClient& ws, std::chrono::milliseconds quiet) {
        std::vector<json::object> messages;
        for (auto message = ws.nextJson(quiet); !message.empty(); message = ws.nextJson(quiet)) {
            messages.push_back(std::move(message));
        }
        return messages;
    }

    static std::string batchOf(std::initializer_list<std::string> records) {
        std::string text = "[";
        for (const auto& record : records) {
            text.append(text.size() > 1 ? "," : "").append(record);
        }
        return text.append("]");
    }

    // Another area's route, called without the document check (its entries are its own).
    testing::HttpResult postAs(const testing::ApiUser& user, const std::string& path,
                               const json::object& body) {
        testing::Headers headers = user.headers();
        headers.emplace_back("Content-Type", "application/json");
        return server_->client().post(path, json::serialize(body), headers);
    }

    std::string eventRecord(const std::string& type, Micros ts) {
        return R"({"ts":")" + formatRfc3339Micros(ts) + R"(","series":")" + type +
               R"(","val":null,"meta":{"severity":"high"}})";
    }
};

TEST_P(LiveSessionTest, DevicesChannelShowsOnlineThenOfflineOfOwnDevicesOnly) {
    auto mine = addDevice(org_);
    auto theirs = addDevice(other_org_);
    auto ws = connect(owner_);
    ASSERT_EQ(101, ws->handshakeStatus());
    subscribe(*ws, "devices");

    heartbeat(theirs);
    heartbeat(mine);
    auto online = ws->nextJson();
    EXPECT_EQ("device.online", typeOf(online));
    EXPECT_EQ("devices", std::string(online.at("channel").as_string()));
    EXPECT_EQ(mine.id, dataText(online, "device_id"));
    EXPECT_EQ(org_, dataText(online, "organization_id"));
    EXPECT_TRUE(online.at("data").at("online").as_bool());

    // Silent past the 1 s timeout: the periodic check publishes offline, for this org only.
    auto offline = ws->nextJson(std::chrono::seconds(5));
    EXPECT_EQ("device.offline", typeOf(offline));
    EXPECT_EQ(mine.id, dataText(offline, "device_id"));
    EXPECT_FALSE(offline.at("data").at("online").as_bool());
    EXPECT_TRUE(drain(*ws, std::chrono::milliseconds(2500)).empty());
}

TEST_P(LiveSessionTest, DeviceComesOnlineOnlyAfterBeingOffline) {
    start([](Config& config) { config.default_offline_timeout_seconds = 300; });
    auto device = addDevice(org_);
    auto ws = connect(owner_);
    subscribe(*ws, "device:" + device.id);
    heartbeat(device);
    EXPECT_EQ("device.online", typeOf(ws->nextJson()));
    heartbeat(device);
    upload(device, testing::makePoints(3));
    EXPECT_TRUE(ws->nextJson(std::chrono::milliseconds(500)).empty());
}

TEST_P(LiveSessionTest, FirstBatchBringsTheDeviceOnline) {
    auto device = addDevice(org_);
    auto ws = connect(owner_);
    subscribe(*ws, "device:" + device.id);
    upload(device, testing::makePoints(3));
    auto online = ws->nextJson();
    EXPECT_EQ("device.online", typeOf(online));
    EXPECT_EQ("device:" + device.id, std::string(online.at("channel").as_string()));
}

TEST_P(LiveSessionTest, AnotherOrganizationsDeviceIsNotFound) {
    auto theirs = addDevice(other_org_);
    auto ws = connect(owner_);
    for (std::string channel :
         {"device:" + theirs.id, "telemetry:" + theirs.id, "telemetry:" + theirs.id + ":rh"}) {
        auto refused = request(*ws, "subscribe", channel);
        EXPECT_EQ("error", typeOf(refused)) << channel;
        EXPECT_EQ("not_found", std::string(refused.at("code").as_string())) << channel;
        EXPECT_EQ(channel, std::string(refused.at("channel").as_string()));
    }
    // The same answer as for a device that does not exist, or an id that is no UUID.
    auto theirs_answer = request(*ws, "subscribe", "device:" + theirs.id);
    auto missing = request(*ws, "subscribe", "device:" + newUuid());
    auto malformed = request(*ws, "subscribe", "device:not-a-uuid");
    EXPECT_EQ(theirs_answer.at("message"), missing.at("message"));
    EXPECT_EQ(theirs_answer.at("message"), malformed.at("message"));
    EXPECT_EQ("not_found", std::string(malformed.at("code").as_string()));

    // Nothing of that device arrives: the next message is the one of a channel we hold.
    auto mine = addDevice(org_);
    subscribe(*ws, "telemetry:" + mine.id);
    upload(theirs, testing::makePoints(5, "temp_ambient"));
    upload(mine, testing::makePoints(5, "rh"));
    auto next = ws->nextJson();
    EXPECT_EQ("telemetry", typeOf(next));
    EXPECT_EQ(mine.id, dataText(next, "device_id"));
}

TEST_P(LiveSessionTest, StaffSeeEveryOrganization) {
    auto staff = addStaff();
    auto theirs = addDevice(other_org_);
    auto ws = connect(staff);
    subscribe(*ws, "device:" + theirs.id);
    subscribe(*ws, "devices");
    heartbeat(theirs);
    std::set<std::string> channels;
    for (int i = 0; i < 2; ++i) {
        auto message = ws->nextJson();
        EXPECT_EQ("device.online", typeOf(message));
        channels.insert(std::string(message.at("channel").as_string()));
    }
    EXPECT_EQ((std::set<std::string>{"devices", "device:" + theirs.id}), channels);
}

TEST_P(LiveSessionTest, UserWithoutMembershipsMayNotSubscribeToOrganizationChannels) {
    auto nobody = addUser({}, auth::Role::viewer);
    auto ws = connect(nobody);
    ASSERT_EQ(101, ws->handshakeStatus());
    for (std::string channel : {"devices", "events", "alerts"}) {
        auto refused = request(*ws, "subscribe", channel);
        EXPECT_EQ("permission_denied", std::string(refused.at("code").as_string())) << channel;
    }
}

TEST_P(LiveSessionTest, SiteViewerSeesOnlyDevicesOfItsSite) {
    std::string north = addSite(org_, "North");
    std::string south = addSite(org_, "South");
    auto at_north = addDevice(org_, north);
    auto at_south = addDevice(org_, south);
    auto viewer = addUser(org_, auth::Role::viewer, north);
    auto ws = connect(viewer);
    subscribe(*ws, "devices");
    subscribe(*ws, "telemetry:" + at_north.id);
    auto refused = request(*ws, "subscribe", "telemetry:" + at_south.id);
    EXPECT_EQ("not_found", std::string(refused.at("code").as_string()));

    heartbeat(at_south);
    heartbeat(at_north);
    auto online = ws->nextJson();
    EXPECT_EQ("device.online", typeOf(online));
    EXPECT_EQ(at_north.id, dataText(online, "device_id"));
    EXPECT_EQ(north, dataText(online, "site_id"));
}

// One batch of 500 points over 3 series: three messages, each with its series' newest value
// and its count, to the device's channel; a metric's channel gets its series only.
TEST_P(LiveSessionTest, TelemetryIsCoalescedPerSeriesAndBatch) {
    auto device = addDevice(org_);
    heartbeat(device);  // online already: the batch brings no device.online
    auto ws = connect(owner_);
    subscribe(*ws, "telemetry:" + device.id);
    auto one = connect(owner_);
    subscribe(*one, "telemetry:" + device.id + ":rh");

    const std::vector<std::pair<std::string, int>> series{
        {"temp_ambient", 200}, {"rh", 150}, {"current_rms", 150}};
    Micros first = testing::recordEpoch();
    std::string records = "[";
    for (int i = 0; i < 200; ++i) {
        for (const auto& [name, count] : series) {
            if (i < count) {
                records.append(records.size() > 1 ? "," : "")
                    .append(
                        testing::makePoint(name, first + Micros{i} * 1'000'000, std::to_string(i)));
            }
        }
    }
    upload(device, records.append("]"));

    std::map<std::string, json::object> received;
    for (int i = 0; i < 3; ++i) {
        auto message = ws->nextJson();
        ASSERT_EQ("telemetry", typeOf(message)) << json::serialize(message);
        EXPECT_EQ("telemetry:" + device.id, std::string(message.at("channel").as_string()));
        received[dataText(message, "metric")] = message.at("data").as_object();
    }
    EXPECT_TRUE(ws->nextJson(std::chrono::milliseconds(300)).empty());
    std::int64_t total = 0;
    for (const auto& [name, count] : series) {
        ASSERT_TRUE(received.contains(name)) << name;
        const json::object& data = received[name];
        EXPECT_EQ(count, data.at("count").as_int64());
        EXPECT_EQ(static_cast<double>(count - 1), data.at("value").to_number<double>());
        EXPECT_EQ(formatRfc3339Millis(first + Micros{count - 1} * 1'000'000),
                  std::string(data.at("ts").as_string()));
        EXPECT_EQ("C", std::string(data.at("unit").as_string()));
        EXPECT_EQ(device.id, std::string(data.at("device_id").as_string()));
        total += data.at("count").as_int64();
    }
    EXPECT_EQ(500, total);

    auto rh = one->nextJson();
    EXPECT_EQ("telemetry:" + device.id + ":rh", std::string(rh.at("channel").as_string()));
    EXPECT_EQ("rh", dataText(rh, "metric"));
    EXPECT_EQ(150, rh.at("data").at("count").as_int64());
    EXPECT_TRUE(one->nextJson(std::chrono::milliseconds(300)).empty());
}

TEST_P(LiveSessionTest, UnsubscribedChannelDeliversNothingMore) {
    auto device = addDevice(org_);
    heartbeat(device);
    auto ws = connect(owner_);
    subscribe(*ws, "telemetry:" + device.id);
    subscribe(*ws, "events");
    auto left = request(*ws, "unsubscribe", "telemetry:" + device.id);
    EXPECT_EQ("unsubscribed", typeOf(left));
    upload(device, std::string("[")
                       .append(testing::makePoint("rh", testing::recordEpoch(), "40"))
                       .append(",")
                       .append(eventRecord("power_outage", testing::recordEpoch()))
                       .append("]"));
    EXPECT_EQ("event.created", typeOf(ws->nextJson()));
}

TEST_P(LiveSessionTest, EventsChannelGetsNewEventsAndTheirStateChanges) {
    auto device = addDevice(org_);
    auto theirs = addDevice(other_org_);
    heartbeat(device);
    auto ws = connect(owner_);
    subscribe(*ws, "events");

    Micros ts = testing::recordEpoch();
    upload(theirs, batchOf({eventRecord("power_outage", ts)}));
    upload(device, batchOf({eventRecord("power_outage", ts), testing::makePoint("rh", ts, "41")}));
    auto created = ws->nextJson();
    ASSERT_EQ("event.created", typeOf(created)) << json::serialize(created);
    EXPECT_EQ("events", std::string(created.at("channel").as_string()));
    EXPECT_EQ(device.id, dataText(created, "device_id"));
    EXPECT_EQ("power_outage", dataText(created, "type"));
    EXPECT_EQ("active", dataText(created, "status"));
    std::string id = dataText(created, "id");
    ASSERT_TRUE(isUuid(id));

    // The same event again under a new key is not new: nothing is published for it.
    upload(device, batchOf({eventRecord("power_outage", ts)}));
    EXPECT_TRUE(ws->nextJson(std::chrono::milliseconds(500)).empty());

    auto acknowledged = postAs(owner_, "/api/events/" + id + "/acknowledge", json::object{});
    ASSERT_EQ(200, acknowledged.status) << acknowledged.body;
    auto updated = ws->nextJson();
    EXPECT_EQ("event.updated", typeOf(updated));
    EXPECT_EQ(id, dataText(updated, "id"));
    EXPECT_EQ("acknowledged", dataText(updated, "status"));

    auto resolved = postAs(owner_, "/api/events/" + id + "/resolve", json::object{});
    ASSERT_EQ(200, resolved.status) << resolved.body;
    EXPECT_EQ("resolved", dataText(ws->nextJson(), "status"));
}

TEST_P(LiveSessionTest, DeviceChannelCarriesItsEventsAndStatusChanges) {
    start([](Config& config) { config.default_offline_timeout_seconds = 300; });
    auto device = addDevice(org_);
    heartbeat(device);
    auto ws = connect(owner_);
    subscribe(*ws, "device:" + device.id);
    upload(device, batchOf({eventRecord("sd_error", testing::recordEpoch())}));
    auto created = ws->nextJson();
    EXPECT_EQ("event.created", typeOf(created));
    EXPECT_EQ("device:" + device.id, std::string(created.at("channel").as_string()));

    auto changed = postAs(owner_, "/api/devices/" + device.id + "/status",
                          json::object{{"status", "maintenance"}});
    ASSERT_EQ(200, changed.status) << changed.body;
    auto status = ws->nextJson();
    EXPECT_EQ("device.status", typeOf(status));
    EXPECT_EQ("maintenance", dataText(status, "status"));
    EXPECT_EQ("active", dataText(status, "previous_status"));
}

TEST_P(LiveSessionTest, AlertsChannelDeliversOnlyVisibleAlerts) {
    auto device = addDevice(org_);
    auto ws = connect(owner_);
    subscribe(*ws, "alerts");
    live::Bus& bus = server_->app().bus();
    live::publishAlert(bus, "alert.fired",
                       json::object{{"id", newUuid()}, {"organization_id", other_org_}});
    live::publishAlert(bus, "alert.fired",
                       json::object{{"id", "mine"},
                                    {"organization_id", org_},
                                    {"device_id", device.id},
                                    {"severity", "high"}});
    auto fired = ws->nextJson();
    EXPECT_EQ("alert.fired", typeOf(fired));
    EXPECT_EQ("alerts", std::string(fired.at("channel").as_string()));
    EXPECT_EQ("mine", dataText(fired, "id"));
}

TEST_P(LiveSessionTest, OtaReportsArePublishedAsProgress) {
    auto device = addDevice(org_);
    Micros now = nowMicros();
    store::FirmwareBundle bundle{newUuid(), "1.2.0", "stable", R"(["esocore-edge"])", "", 1, "x",
                                 "x",       "x",     now};
    ASSERT_TRUE(server_->store().addFirmwareBundle(bundle).ok());
    store::DeviceUpdate offer{newUuid(), device.id, bundle.id, "1.1.0", "1.2.0",
                              "offered", "",        now,       now};
    ASSERT_TRUE(server_->store().saveDeviceUpdate(offer).ok());
    auto ws = connect(owner_);
    subscribe(*ws, "devices");
    testing::DeviceClient client(*server_, device);
    auto report = client.post("ota/report", R"({"status": "downloading", "version": "1.2.0"})");
    ASSERT_EQ(200, report.status) << report.body;
    auto progress = ws->nextJson();
    EXPECT_EQ("ota.progress", typeOf(progress));
    EXPECT_EQ("downloading", dataText(progress, "status"));
    EXPECT_EQ("1.2.0", dataText(progress, "to_version"));
    EXPECT_EQ(device.id, dataText(progress, "device_id"));
}

TEST_P(LiveSessionTest, SubscriptionEndsWhenItsDeviceLeavesTheSite) {
    std::string north = addSite(org_, "North");
    std::string south = addSite(org_, "South");
    auto device = addDevice(org_, north);
    auto viewer = addUser(org_, auth::Role::viewer, north);
    auto ws = connect(viewer);
    subscribe(*ws, "telemetry:" + device.id);
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("UPDATE devices SET site_id = $1 WHERE id = $2", {south, device.id})
                    .ok());
    auto ended = ws->nextJson(std::chrono::seconds(3));
    EXPECT_EQ("error", typeOf(ended));
    EXPECT_EQ("not_found", std::string(ended.at("code").as_string()));
    EXPECT_EQ("telemetry:" + device.id, std::string(ended.at("channel").as_string()));
}

TEST_P(LiveSessionTest, SubscriptionsPerConnectionAreLimited) {
    auto ws = connect(owner_);
    auto device = addDevice(org_);
    for (std::size_t i = 0; i < live::kMaxSubscriptions; ++i) {
        subscribe(*ws, "telemetry:" + device.id + ":m" + std::to_string(i));
    }
    auto refused = request(*ws, "subscribe", "devices");
    EXPECT_EQ("too_many_subscriptions", std::string(refused.at("code").as_string()));
    // Subscribing again to a held channel is no new subscription.
    subscribe(*ws, "telemetry:" + device.id + ":m0");
}

INSTANTIATE_TEST_SUITE_P(Stores, LiveSessionTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
