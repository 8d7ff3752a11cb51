// What publishers put on the bus: coalescing of a batch's points, the channels each message
// goes to, and that channels without subscribers cost nothing.
#include "live/publish.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "live/channels.h"

namespace esocore::live {
namespace {

namespace json = boost::json;

store::PointRow point(std::string series, Micros ts, double value) {
    return store::PointRow{std::move(series), "C", ts, value, {}};
}

// Every message published, by channel.
class Recorder {
public:
    Recorder(Bus& bus, std::initializer_list<std::string> channels) {
        for (const auto& channel : channels) {
            subscriptions_.push_back(bus.subscribe(channel, [this](const Message& m) {
                messages_[std::string(m.channel)].push_back(json::parse(*m.text).as_object());
            }));
        }
    }
    std::vector<json::object>& on(const std::string& channel) { return messages_[channel]; }

private:
    std::map<std::string, std::vector<json::object>> messages_;
    std::vector<Subscription> subscriptions_;
};

TEST(CoalesceTest, OneSummaryPerSeriesInFirstAppearanceOrder) {
    auto series = coalesce({point("b", 10, 1), point("a", 5, 2), point("b", 30, 3),
                            point("b", 20, 4), point("a", 5, 9)});
    ASSERT_EQ(2u, series.size());
    EXPECT_EQ("b", series[0].metric);
    EXPECT_EQ(3, series[0].count);
    EXPECT_EQ(30, series[0].ts);
    EXPECT_EQ(3.0, series[0].value);  // the newest point, not the last one sent
    EXPECT_EQ("a", series[1].metric);
    EXPECT_EQ(2, series[1].count);
    EXPECT_EQ(9.0, series[1].value);  // equal times: the later in the batch
}

TEST(CoalesceTest, NoPointsNoSeries) {
    EXPECT_TRUE(coalesce({}).empty());
}

TEST(PublishTest, DeviceMessagesGoToDevicesAndTheDeviceChannel) {
    InProcessBus bus;
    Recorder recorder(bus, {"devices", "device:d1", "device:d2"});
    DeviceFacts device{"d1", "org", "site", "SN-1", "Door", "active", Micros{1'000'000}};
    publishDeviceOnline(bus, device);
    ASSERT_EQ(1u, recorder.on("devices").size());
    ASSERT_EQ(1u, recorder.on("device:d1").size());
    EXPECT_TRUE(recorder.on("device:d2").empty());
    const json::object& message = recorder.on("device:d1")[0];
    EXPECT_EQ("device.online", message.at("type").as_string());
    EXPECT_EQ("device:d1", message.at("channel").as_string());
    EXPECT_EQ("site", message.at("data").at("site_id").as_string());
    EXPECT_EQ("1970-01-01T00:00:01.000Z", message.at("data").at("last_seen_at").as_string());
}

TEST(PublishTest, BatchTelemetryGoesToTheDeviceAndMetricChannels) {
    InProcessBus bus;
    Recorder recorder(bus, {telemetryChannel("d"), telemetryChannel("d", "rh")});
    store::IngestBatch batch;
    batch.device_id = "d";
    batch.organization_id = "org";
    batch.points = {point("rh", 1, 40), point("temp", 1, 20), point("rh", 2, 41)};
    // No events: the SQL session is never used.
    struct NoSql final : store::SqlSession {
        std::string dialect() const override { return "none"; }
        Result<std::vector<store::SqlRow>> query(std::string_view,
                                                 const store::SqlParams&) override {
            ADD_FAILURE() << "no query expected";
            return std::vector<store::SqlRow>{};
        }
        Result<std::int64_t> execute(std::string_view, const store::SqlParams&) override {
            return 0;
        }
        Result<void> transaction(const std::function<Result<void>(SqlSession&)>&) override {
            return {};
        }
    } sql;
    publishBatch(bus, sql, batch, store::IngestCounts{3, 0, 0, 3, 0});
    EXPECT_EQ(2u, recorder.on(telemetryChannel("d")).size());
    ASSERT_EQ(1u, recorder.on(telemetryChannel("d", "rh")).size());
    const json::object& rh = recorder.on(telemetryChannel("d", "rh"))[0];
    EXPECT_EQ(2, rh.at("data").at("count").as_int64());
    EXPECT_EQ(41.0, rh.at("data").at("value").to_number<double>());
}

TEST(PublishTest, EventChangesTakeTheirScopeFromTheEvent) {
    InProcessBus bus;
    Scope seen;
    auto s = bus.subscribe("events", [&](const Message& m) { seen = m.scope; });
    publishEventChanged(bus, json::object{{"id", "e"},
                                          {"organization_id", "org"},
                                          {"site_id", nullptr},
                                          {"device_id", "d"},
                                          {"status", "acknowledged"}});
    EXPECT_EQ("org", seen.organization_id);
    EXPECT_EQ("", seen.site_id);
    EXPECT_EQ("d", seen.device_id);
}

}  // namespace
}  // namespace esocore::live
