// The records of a batch over HTTP (DESIGN §5): per-record rules, events, point identity, and
// acknowledgement only after commit.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "core/crypto.h"
#include "support/device_test.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::BatchOptions;
using testing::DeviceClient;
using testing::HttpResult;
using testing::makePoint;
using testing::makePoints;
using testing::recordEpoch;

constexpr Micros kSecond = 1'000'000;

class DeviceApiRecordsTest : public testing::DeviceTest {
protected:
    // Sends the records; expects 200 and returns the answer.
    json::object upload(const std::string& records, const BatchOptions& options = {}) {
        HttpResult result = device_->batch(records, options);
        EXPECT_EQ(200, result.status) << result.body;
        return testing::jsonObject(result);
    }

    // Sends one good point, the record under test, and another good point; expects the batch
    // accepted with the record under test rejected by `code`.
    void expectRecordRejected(const std::string& record, const std::string& code) {
        std::string records = "[" + makePoint("rh", recordEpoch(), "1") + "," + record + "," +
                              makePoint("rh", recordEpoch() + kSecond, "2") + "]";

        json::object answer = upload(records);

        EXPECT_EQ(2, answer.at("accepted").as_int64()) << record;
        EXPECT_EQ(1, answer.at("rejected").as_int64()) << record;
        EXPECT_EQ((json::array{json::object{{"index", 1}, {"code", code}}}), answer.at("errors"))
            << record;
        EXPECT_EQ(2, rows_->pointCount(deviceId())) << record;
    }

    std::string withSerial(std::string text) {
        for (auto at = text.find("EDGE-0001"); at != std::string::npos;
             at = text.find("EDGE-0001", at)) {
            text.replace(at, 9, device_->device().serial);
        }
        return text;
    }
};

TEST_P(DeviceApiRecordsTest, NumericTimestampThatLooksLikeSecondsIsRejected) {
    expectRecordRejected(R"({"series":"rh","val":3,"ts":1772435700})", "invalid_timestamp");
}

TEST_P(DeviceApiRecordsTest, TimestampPastTheSkewIsRejected) {
    expectRecordRejected(R"({"series":"rh","val":3,"ts":")" + testing::secondsFromNow(600) + "\"}",
                         "future_timestamp");
}

TEST_P(DeviceApiRecordsTest, FutureTimestampIsRestampedWhenTheDeviceAsksInAHeader) {
    BatchOptions options;
    options.headers = {{"X-Restamp", "1"}};
    Micros before = nowMicros();

    json::object answer =
        upload("[" + makePoint("rh", nowMicros() + 3600 * kSecond, "3") + "]", options);

    EXPECT_EQ(1, answer.at("accepted").as_int64());
    auto points = rows_->points(deviceId());
    ASSERT_EQ(1u, points.size());
    EXPECT_LE(before, points[0].ts);
    EXPECT_GE(nowMicros(), points[0].ts);
}

TEST_P(DeviceApiRecordsTest, FutureTimestampIsRestampedWhenTheConfigurationAsks) {
    start({}, R"({"restamp_future": true})");
    Micros before = nowMicros();

    json::object answer = upload("[" + makePoint("rh", nowMicros() + 3600 * kSecond, "3") + "]");

    EXPECT_EQ(1, answer.at("accepted").as_int64());
    auto points = rows_->points(deviceId());
    ASSERT_EQ(1u, points.size());
    EXPECT_LE(before, points[0].ts);
    EXPECT_GE(nowMicros(), points[0].ts);
}

TEST_P(DeviceApiRecordsTest, ConfiguredSkewIsHonoured) {
    start([](Config& c) { c.time_skew_seconds = 3600; });

    json::object answer = upload("[" + makePoint("rh", nowMicros() + 600 * kSecond, "3") + "]");

    EXPECT_EQ(1, answer.at("accepted").as_int64());
}

TEST_P(DeviceApiRecordsTest, NonFiniteValueIsRejected) {
    expectRecordRejected(R"({"series":"rh","val":1e400})", "value_out_of_range");
}

TEST_P(DeviceApiRecordsTest, StringValueIsRejected) {
    expectRecordRejected(R"({"series":"rh","val":"47.1"})", "invalid_value");
}

TEST_P(DeviceApiRecordsTest, ObjectValueIsRejected) {
    expectRecordRejected(R"({"series":"rh","val":{"v":47.1}})", "invalid_value");
}

TEST_P(DeviceApiRecordsTest, IntegerJustPastTwoToTheFiftyThreeIsRejected) {
    expectRecordRejected(R"({"series":"rh","val":9007199254740993})", "inexact_value");
}

TEST_P(DeviceApiRecordsTest, ThirtyDigitIntegerIsRejected) {
    expectRecordRejected(R"({"series":"rh","val":123456789012345678901234567890})",
                         "inexact_value");
}

TEST_P(DeviceApiRecordsTest, LargestExactIntegerIsStoredExactly) {
    upload("[" + makePoint("count", recordEpoch(), "9007199254740992") + "]");

    auto points = rows_->points(deviceId());
    ASSERT_EQ(1u, points.size());
    EXPECT_EQ(9007199254740992.0, points[0].value);
}

TEST_P(DeviceApiRecordsTest, BooleansAreStoredAsOneAndZero) {
    upload("[" + makePoint("door_open", recordEpoch(), "true") + "," +
           makePoint("door_open", recordEpoch() + kSecond, "false") + "]");

    auto points = rows_->points(deviceId());
    ASSERT_EQ(2u, points.size());
    EXPECT_EQ(1.0, points[0].value);
    EXPECT_EQ(0.0, points[1].value);
}

TEST_P(DeviceApiRecordsTest, AnotherDevicesIdIsRejected) {
    testing::TestDevice other = server_->createDevice();

    expectRecordRejected(R"({"series":"rh","val":3,"device_id":")" + other.serial + "\"}",
                         "device_mismatch");
}

TEST_P(DeviceApiRecordsTest, TheDevicesOwnIdAndSerialAreAccepted) {
    std::string records = R"([{"series":"rh","val":1,"ts":"2026-03-02T07:15:00Z","device_id":")" +
                          deviceId() +
                          R"("},{"series":"rh","val":2,"ts":"2026-03-02T07:15:01Z","device_id":")" +
                          device_->device().serial + "\"}]";

    json::object answer = upload(records);

    EXPECT_EQ(2, answer.at("accepted").as_int64());
    EXPECT_EQ(0, answer.at("rejected").as_int64());
}

TEST_P(DeviceApiRecordsTest, ListsAtMostAHundredErrorsButCountsThemAll) {
    std::string records = "[";
    for (int i = 0; i < 150; ++i) {
        records += R"({"series":"rh","val":"bad"},)";
    }
    records += makePoints(10).substr(1);

    json::object answer = upload(records);

    EXPECT_EQ(10, answer.at("accepted").as_int64());
    EXPECT_EQ(150, answer.at("rejected").as_int64());
    const json::array& errors = answer.at("errors").as_array();
    ASSERT_EQ(100u, errors.size());
    EXPECT_EQ(0, errors.front().at("index").as_int64());
    EXPECT_EQ(99, errors.back().at("index").as_int64());
    EXPECT_EQ("invalid_value", errors.back().at("code").as_string());
    EXPECT_EQ(10, rows_->pointCount(deviceId()));
}

TEST_P(DeviceApiRecordsTest, TheExampleBatchIsStoredAsPointsEventsAndACycle) {
    std::string records = withSerial(R"([
  {"ts": "2026-03-02T07:15:00.000Z", "device_id": "EDGE-0001", "site_id": "PLANT_NORTH", "asset_id": "DOOR_7",
   "series": "temp_ambient", "val": 18.4, "unit": "°C", "meta": {"sensor_id": "SHT40_01"}},
  {"ts": "2026-03-02T07:15:00.000Z", "device_id": "EDGE-0001", "series": "rh", "val": 47.1, "unit": "%"},
  {"ts": "2026-03-02T07:15:01.000Z", "device_id": "EDGE-0001", "series": "current_rms", "val": 3.82, "unit": "A"},
  {"ts": "2026-03-02T07:15:01.000Z", "device_id": "EDGE-0001", "series": "vibration_rms", "val": 0.214, "unit": "g"},
  {"ts": "2026-03-02T07:15:02.250Z", "device_id": "EDGE-0001", "asset_id": "DOOR_7",
   "series": "cycle_open", "val": null, "unit": null, "meta": {"event_type": "asset", "cycle_id": 88121}},
  {"ts": "2026-03-02T07:15:09.730Z", "device_id": "EDGE-0001", "asset_id": "DOOR_7",
   "series": "cycle_close", "val": null, "unit": null,
   "meta": {"event_type": "asset", "cycle_id": 88121, "duration_ms": 7480}},
  {"ts": "2026-03-02T07:16:40.000Z", "device_id": "EDGE-0001", "asset_id": "DOOR_7",
   "series": "power_outage", "val": null, "unit": null,
   "meta": {"event_type": "power", "severity": "critical", "description": "Mains lost"}},
  {"ts": "2026-03-02T07:16:42.100Z", "device_id": "EDGE-0001", "series": "safe_shutdown_initiated",
   "val": null, "unit": null, "meta": {"event_type": "power", "severity": "critical"}},
  {"ts": 1772435880000, "device_id": "EDGE-0001", "series": "temp_stator", "val": 41.7, "unit": "°C"},
  {"timestamp": "2026-03-02T07:18:00+01:00", "metric": "acoustic_level", "value": 63.5, "unit": "dBA"}
])");

    json::object answer = upload(records);

    EXPECT_EQ(10, answer.at("accepted").as_int64());
    EXPECT_EQ(6, answer.at("points").as_int64());
    EXPECT_EQ(4, answer.at("events").as_int64());
    EXPECT_EQ(0, answer.at("rejected").as_int64()) << answer;
    EXPECT_EQ(6, rows_->pointCount(deviceId()));
    EXPECT_EQ(6, rows_->seriesCount(deviceId()));
    auto events = rows_->events(deviceId());
    ASSERT_EQ(4u, events.size());
    EXPECT_EQ("cycle_open", events[0].type);
    EXPECT_EQ("power_outage", events[2].type);
    EXPECT_EQ("power", events[2].category);
    EXPECT_EQ("critical", events[2].severity);
    EXPECT_EQ("Mains lost", events[2].description);
    EXPECT_EQ("DOOR_7", events[2].asset_ref);
    auto cycles = rows_->cycles(deviceId());
    ASSERT_EQ(1u, cycles.size());
    EXPECT_EQ(88121, cycles[0].cycle_id);
    EXPECT_EQ(7480, cycles[0].duration_ms);
}

TEST_P(DeviceApiRecordsTest, EventRecordsAreStoredAsEventsNotPoints) {
    std::string records = R"([
        {"ts":"2026-03-02T07:16:40Z","series":"power_outage","val":null,
         "meta":{"event_type":"power","severity":"critical","description":"Mains lost"}},
        {"ts":"2026-03-02T07:16:41Z","series":"door_forced","val":null,
         "meta":{"event_type":"security","severity":"warning"}},
        {"ts":"2026-03-02T07:16:42Z","series":"connectivity_lost"},
        {"ts":"2026-03-02T07:16:43Z","series":"board_temp_high","meta":{"severity":"error"}}
    ])";

    json::object answer = upload(records);

    EXPECT_EQ(4, answer.at("events").as_int64());
    EXPECT_EQ(0, answer.at("points").as_int64());
    EXPECT_EQ(0, rows_->pointCount(deviceId()));
    auto events = rows_->events(deviceId());
    ASSERT_EQ(4u, events.size());
    EXPECT_EQ("power", events[0].category);
    EXPECT_EQ("critical", events[0].severity);
    EXPECT_EQ("door_forced", events[1].type);
    EXPECT_EQ("security", events[1].category);
    EXPECT_EQ("medium", events[1].severity);
    EXPECT_EQ("connectivity", events[2].category);
    EXPECT_EQ("medium", events[2].severity);
    EXPECT_EQ("system", events[3].category);
    EXPECT_EQ("high", events[3].severity);
}

TEST_P(DeviceApiRecordsTest, SameEventAgainIsADuplicate) {
    std::string record = R"([{"ts":"2026-03-02T07:16:42Z","series":"sd_error"}])";
    upload(record);

    json::object answer = upload(record);

    EXPECT_EQ(0, answer.at("accepted").as_int64());
    EXPECT_EQ(1, answer.at("duplicates").as_int64());
    EXPECT_EQ(1, rows_->eventCount(deviceId()));
}

TEST_P(DeviceApiRecordsTest, EventWithAnUnusableDurationIsOneBadRecord) {
    // These made the record check throw, and the whole batch failed with 500.
    std::string records = "[";
    for (const char* duration : {"1e400", "9007199254740993", "-5", "\"7s\""}) {
        records += std::string(R"({"series":"sd_error","meta":{"duration_ms":)") + duration + "}},";
    }
    records += makePoint("rh", recordEpoch(), "1") + "]";

    json::object answer = upload(records);

    EXPECT_EQ(1, answer.at("accepted").as_int64());
    EXPECT_EQ(4, answer.at("rejected").as_int64());
    for (const auto& error : answer.at("errors").as_array()) {
        EXPECT_EQ("invalid_duration", error.at("code").as_string());
    }
    EXPECT_EQ(0, rows_->eventCount(deviceId()));
}

TEST_P(DeviceApiRecordsTest, FractionalDurationIsRoundedToAMillisecond) {
    json::object answer =
        upload(R"([{"ts":"2026-03-02T07:15:00Z","series":"cycle_open","meta":{"cycle_id":9}},)"
               R"({"ts":"2026-03-02T07:15:02Z","series":"cycle_close",)"
               R"("meta":{"cycle_id":9,"duration_ms":1999.6}}])");

    EXPECT_EQ(2, answer.at("accepted").as_int64()) << answer;
    auto cycles = rows_->cycles(deviceId());
    ASSERT_EQ(1u, cycles.size());
    EXPECT_EQ(2000, cycles[0].duration_ms);
}

TEST_P(DeviceApiRecordsTest, CycleIdPastTheLargestInt64IsOneBadRecord) {
    expectRecordRejected(R"({"series":"cycle_open","meta":{"cycle_id":9223372036854775808}})",
                         "invalid_cycle");
}

TEST_P(DeviceApiRecordsTest, CycleWithoutADurationGetsOneFromItsTimes) {
    upload(R"([{"ts":"2026-03-02T07:15:00Z","series":"cycle_open","meta":{"cycle_id":5}}])");
    upload(R"([{"ts":"2026-03-02T07:15:04.5Z","series":"cycle_close","meta":{"cycle_id":5}}])");

    auto cycles = rows_->cycles(deviceId());
    ASSERT_EQ(1u, cycles.size());
    EXPECT_EQ("DOOR_7", cycles[0].asset_ref);
    EXPECT_EQ(4500, cycles[0].duration_ms);
    EXPECT_EQ(cycles[0].started_at.value_or(0) + 4'500'000, cycles[0].ended_at.value_or(0));
}

TEST_P(DeviceApiRecordsTest, SamePointAgainWithTheSameValueIsADuplicate) {
    std::string record = "[" + makePoint("rh", recordEpoch(), "47.1") + "]";
    upload(record);

    json::object answer = upload(record);

    EXPECT_EQ(0, answer.at("accepted").as_int64());
    EXPECT_EQ(1, answer.at("duplicates").as_int64());
    auto points = rows_->points(deviceId());
    ASSERT_EQ(1u, points.size());
    EXPECT_EQ(47.1, points[0].value);
}

TEST_P(DeviceApiRecordsTest, SamePointWithAnotherValueReplacesIt) {
    upload("[" + makePoint("rh", recordEpoch(), "47.1") + "]");

    json::object answer = upload("[" + makePoint("rh", recordEpoch(), "48.25") + "]");

    EXPECT_EQ(1, answer.at("accepted").as_int64());
    EXPECT_EQ(0, answer.at("duplicates").as_int64());
    auto points = rows_->points(deviceId());
    ASSERT_EQ(1u, points.size());
    EXPECT_EQ(48.25, points[0].value);
}

TEST_P(DeviceApiRecordsTest, SamePointTwiceInOneBatchKeepsTheLastValue) {
    json::object answer = upload("[" + makePoint("rh", recordEpoch(), "1") + "," +
                                 makePoint("rh", recordEpoch(), "2") + "]");

    EXPECT_EQ(0, answer.at("rejected").as_int64());
    auto points = rows_->points(deviceId());
    ASSERT_EQ(1u, points.size());
    EXPECT_EQ(2.0, points[0].value);
}

TEST_P(DeviceApiRecordsTest, ComposedAndDecomposedSpellingsAreOneSeries) {
    std::string composed = "temp_caf\xc3\xa9";
    std::string decomposed = "temp_cafe\xcc\x81";
    upload("[" + makePoint(composed, recordEpoch(), "1") + "]");

    json::object answer = upload("[" + makePoint(decomposed, recordEpoch(), "1") + "," +
                                 makePoint(decomposed, recordEpoch() + kSecond, "2") + "]");

    EXPECT_EQ(1, answer.at("accepted").as_int64());
    EXPECT_EQ(1, answer.at("duplicates").as_int64());
    EXPECT_EQ(1, rows_->seriesCount(deviceId()));
    auto points = rows_->points(deviceId());
    ASSERT_EQ(2u, points.size());
    EXPECT_EQ(composed, points[1].series);
}

TEST_P(DeviceApiRecordsTest, AcknowledgedRowsAreVisibleToAnotherConnectionAtOnce) {
    for (int i = 0; i < 20; ++i) {
        json::object answer = upload(makePoints(25, "rh", recordEpoch() + i * 25 * kSecond));

        ASSERT_EQ(25, answer.at("accepted").as_int64());
        EXPECT_EQ(25 * (i + 1), rows_->pointCount(deviceId())) << "after batch " << i;
    }
}

TEST_P(DeviceApiRecordsTest, StopWithBatchesInFlightLosesNothingAcknowledged) {
    constexpr int kClients = 4;
    constexpr int kPerBatch = 100;
    struct Acked {
        std::string key;
        std::int64_t accepted;
    };
    std::mutex mutex;
    std::vector<Acked> acked;
    std::atomic<bool> stopping{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
            DeviceClient device(*server_, device_->device());
            std::string series = "load_" + std::to_string(c);
            for (int b = 0; b < 500; ++b) {
                BatchOptions options;
                options.idempotency_key = newUuid();
                HttpResult result;
                try {
                    result = device.batch(
                        makePoints(kPerBatch, series, recordEpoch() + b * kPerBatch * kSecond),
                        options);
                } catch (const std::runtime_error&) {
                    return;  // the server has stopped listening
                }
                if (result.status == 200) {
                    std::lock_guard lock(mutex);
                    acked.push_back({*options.idempotency_key,
                                     testing::jsonObject(result).at("accepted").as_int64()});
                } else if (stopping) {
                    return;
                }
            }
        });
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        std::lock_guard lock(mutex);
        if (acked.size() >= 2 * kClients) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stopping = true;
    server_->stop();
    for (auto& client : clients) {
        client.join();
    }

    ASSERT_GE(acked.size(), static_cast<std::size_t>(2 * kClients));
    std::int64_t acked_points = 0;
    for (const auto& batch : acked) {
        auto packet = server_->store().findPacket(deviceId(), batch.key);
        ASSERT_TRUE(packet.ok());
        ASSERT_TRUE(packet->has_value()) << "acknowledged batch " << batch.key << " is missing";
        EXPECT_EQ(batch.accepted, (*packet)->counts.accepted);
        acked_points += batch.accepted;
    }
    // Batches committed while their answer was cut off may add to this, never take from it.
    EXPECT_LE(acked_points, rows_->pointCount(deviceId()));
    EXPECT_EQ(0, rows_->pointCount(deviceId()) % kPerBatch) << "a batch was stored in part";
}

INSTANTIATE_TEST_SUITE_P(Stores, DeviceApiRecordsTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
