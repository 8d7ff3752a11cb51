#include "ingest/records.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "ingest/json_reader.h"

namespace esocore::ingest {
namespace {

namespace json = boost::json;

// 2026-03-02T07:15:00Z
constexpr Micros kNow = 1772435700000000;
constexpr Micros kSecond = 1'000'000;

// The example batch of DESIGN §5 (shared/examples/batch.json), as a device sends it.
constexpr const char* kExampleBatch = R"([
  {"ts": "2026-03-02T07:15:00.000Z", "device_id": "EDGE-0001", "site_id": "PLANT_NORTH",
   "asset_id": "DOOR_7", "series": "temp_ambient", "val": 18.4, "unit": "°C",
   "meta": {"sensor_id": "SHT40_01", "firmware_ver": "1.4.2"}},
  {"ts": "2026-03-02T07:15:00.000Z", "device_id": "EDGE-0001", "site_id": "PLANT_NORTH",
   "asset_id": "DOOR_7", "series": "rh", "val": 47.1, "unit": "%", "meta": {"sensor_id": "SHT40_01"}},
  {"ts": "2026-03-02T07:15:01.000Z", "device_id": "EDGE-0001", "site_id": "PLANT_NORTH",
   "asset_id": "DOOR_7", "series": "current_rms", "val": 3.82, "unit": "A",
   "meta": {"sample_rate": 250}},
  {"ts": "2026-03-02T07:15:01.000Z", "device_id": "EDGE-0001", "site_id": "PLANT_NORTH",
   "asset_id": "DOOR_7", "series": "vibration_rms", "val": 0.214, "unit": "g",
   "meta": {"sample_rate": 500}},
  {"ts": "2026-03-02T07:15:02.250Z", "device_id": "EDGE-0001", "site_id": "PLANT_NORTH",
   "asset_id": "DOOR_7", "series": "cycle_open", "val": null, "unit": null,
   "meta": {"event_type": "asset", "cycle_id": 88121}},
  {"ts": "2026-03-02T07:15:09.730Z", "device_id": "EDGE-0001", "site_id": "PLANT_NORTH",
   "asset_id": "DOOR_7", "series": "cycle_close", "val": null, "unit": null,
   "meta": {"event_type": "asset", "cycle_id": 88121, "duration_ms": 7480}},
  {"ts": "2026-03-02T07:16:40.000Z", "device_id": "EDGE-0001", "site_id": "PLANT_NORTH",
   "asset_id": "DOOR_7", "series": "power_outage", "val": null, "unit": null,
   "meta": {"event_type": "power", "severity": "critical",
            "description": "Mains lost, running on supercapacitor", "main_voltage": 0.0}},
  {"ts": "2026-03-02T07:16:42.100Z", "device_id": "EDGE-0001", "site_id": "PLANT_NORTH",
   "asset_id": "DOOR_7", "series": "safe_shutdown_initiated", "val": null, "unit": null,
   "meta": {"event_type": "power", "severity": "critical",
            "description": "Flushing buffers before shutdown", "shutdown_reason": "power_outage"}},
  {"ts": 1772435880000, "device_id": "EDGE-0001", "series": "temp_stator", "val": 41.7, "unit": "°C"},
  {"timestamp": "2026-03-02T07:18:00+01:00", "metric": "acoustic_level", "value": 63.5, "unit": "dBA"}
])";

class RecordsTest : public ::testing::Test {
protected:
    RecordsTest() {
        rules_.now = kNow;
        rules_.device_id = "6f1c7a5e-2b7d-4c1e-9a53-0d6b8c2f4e11";
        rules_.device_serial = "EDGE-0001";
        rules_.device_asset = "DOOR_7";
    }

    // Reads the records of a batch body, parsed the way the device API parses it.
    store::IngestBatch read(const std::string& text) {
        auto parsed = parseBatchJson(text, 16, 10'000);
        EXPECT_TRUE(parsed.ok()) << text;
        store::IngestBatch batch;
        if (parsed) {
            readRecords(parsed->as_array(), rules_, batch);
        }
        return batch;
    }

    // The code that rejects the single record, or empty when it is accepted.
    std::string rejection(const std::string& record) {
        store::IngestBatch batch = read("[" + record + "]");
        if (batch.errors.empty()) {
            EXPECT_EQ(0, batch.rejected);
            return {};
        }
        EXPECT_EQ(0, batch.errors[0].index);
        return batch.errors[0].code;
    }

    // The single point read from a one-record batch.
    store::PointRow point(const std::string& record) {
        store::IngestBatch batch = read("[" + record + "]");
        EXPECT_EQ(1u, batch.points.size()) << record;
        return batch.points.empty() ? store::PointRow{} : batch.points[0];
    }

    store::EventRow event(const std::string& record) {
        store::IngestBatch batch = read("[" + record + "]");
        EXPECT_EQ(1u, batch.events.size()) << record;
        return batch.events.empty() ? store::EventRow{} : batch.events[0];
    }

    RecordRules rules_;
};

TEST_F(RecordsTest, SortsTheExampleBatchIntoPointsAndEvents) {
    rules_.now = kNow + 300 * kSecond;  // the batch spans three minutes

    store::IngestBatch batch = read(kExampleBatch);

    EXPECT_EQ(0, batch.rejected);
    ASSERT_EQ(6u, batch.points.size());
    ASSERT_EQ(4u, batch.events.size());
    EXPECT_EQ("temp_ambient", batch.points[0].series);
    EXPECT_EQ("°C", batch.points[0].unit);
    EXPECT_EQ(18.4, batch.points[0].value);
    EXPECT_EQ(kNow, batch.points[0].ts);
    EXPECT_EQ(R"({"sensor_id":"SHT40_01","firmware_ver":"1.4.2"})", batch.points[0].meta_json);
    EXPECT_EQ("temp_stator", batch.points[4].series);
    EXPECT_EQ(1772435880000000, batch.points[4].ts);
    EXPECT_EQ("acoustic_level", batch.points[5].series);
    EXPECT_EQ(1772432280000000, batch.points[5].ts);
    EXPECT_EQ(63.5, batch.points[5].value);
    EXPECT_EQ("cycle_open", batch.events[0].type);
    EXPECT_EQ("power_outage", batch.events[2].type);
    EXPECT_EQ("power", batch.events[2].category);
    EXPECT_EQ("critical", batch.events[2].severity);
    EXPECT_EQ("Mains lost, running on supercapacitor", batch.events[2].description);
    EXPECT_EQ("DOOR_7", batch.events[2].asset_ref);
    EXPECT_EQ("PLANT_NORTH", batch.events[2].site_ref);
}

TEST_F(RecordsTest, ReadsTimestampsWithOffsetsAsUtc) {
    EXPECT_EQ(kNow - 3600 * kSecond,
              point(R"({"ts":"2026-03-02T07:15:00+01:00","series":"rh","val":1})").ts);
    EXPECT_EQ(kNow - 123456,
              point(R"({"ts":"2026-03-02T07:14:59.876544Z","series":"rh","val":1})").ts);
}

TEST_F(RecordsTest, ReadsNumericTimestampsAsMilliseconds) {
    EXPECT_EQ(kNow, point(R"({"ts":1772435700000,"series":"rh","val":1})").ts);
    EXPECT_EQ(kNow + 500, point(R"({"ts":1772435700000.5,"series":"rh","val":1})").ts);
    EXPECT_EQ(100'000'000'000'000, point(R"({"ts":100000000000,"series":"rh","val":1})").ts);
}

TEST_F(RecordsTest, RejectsNumericTimestampsThatLookLikeSeconds) {
    for (const char* ts : {"1772435700", "99999999999", "99999999999.9", "0", "-1772435700000"}) {
        EXPECT_EQ("invalid_timestamp",
                  rejection(std::string(R"({"series":"rh","val":1,"ts":)") + ts + "}"))
            << ts;
    }
}

TEST_F(RecordsTest, RejectsTimestampsThatAreNotTimes) {
    for (const char* ts : {R"("2026-03-02")", R"("2026-03-02T07:15:00")", R"("yesterday")", "true",
                           "[1]", R"({"s":1})", "1e400", "253402300800000", "9007199254740993"}) {
        EXPECT_EQ("invalid_timestamp",
                  rejection(std::string(R"({"series":"rh","val":1,"ts":)") + ts + "}"))
            << ts;
    }
}

TEST_F(RecordsTest, MissingTimestampMeansNow) {
    EXPECT_EQ(kNow, point(R"({"series":"rh","val":1})").ts);
    EXPECT_EQ(kNow, point(R"({"series":"rh","val":1,"ts":null})").ts);
}

TEST_F(RecordsTest, RejectsTimestampsPastTheSkew) {
    EXPECT_EQ("", rejection(R"({"series":"rh","val":1,"ts":"2026-03-02T07:17:00Z"})"));
    EXPECT_EQ("future_timestamp",
              rejection(R"({"series":"rh","val":1,"ts":"2026-03-02T07:17:00.001Z"})"));
    EXPECT_EQ("future_timestamp", rejection(R"({"series":"rh","val":1,"ts":1772435820001})"));
}

TEST_F(RecordsTest, RestampsFutureTimestampsWhenAsked) {
    rules_.restamp_future = true;

    EXPECT_EQ(kNow, point(R"({"series":"rh","val":1,"ts":"2027-01-01T00:00:00Z"})").ts);
    EXPECT_EQ(kNow - kSecond, point(R"({"series":"rh","val":1,"ts":"2026-03-02T07:14:59Z"})").ts);
}

TEST_F(RecordsTest, StoresBooleansAsOneAndZero) {
    EXPECT_EQ(1.0, point(R"({"series":"door_open","val":true})").value);
    EXPECT_EQ(0.0, point(R"({"series":"door_open","val":false})").value);
}

TEST_F(RecordsTest, KeepsNumbersExactly) {
    EXPECT_EQ(9007199254740992.0, point(R"({"series":"n","val":9007199254740992})").value);
    EXPECT_EQ(-42.0, point(R"({"series":"n","val":-42})").value);
    EXPECT_EQ(1e300, point(R"({"series":"n","val":1e300})").value);
    EXPECT_EQ(0.1, point(R"({"series":"n","val":0.1})").value);
}

TEST_F(RecordsTest, RejectsValuesThatAreNotNumbers) {
    for (const char* val : {R"("18.4")", R"({"v":1})", "[1]"}) {
        EXPECT_EQ("invalid_value", rejection(std::string(R"({"series":"rh","val":)") + val + "}"))
            << val;
    }
    EXPECT_EQ("missing_value", rejection(R"({"series":"rh"})"));
    EXPECT_EQ("missing_value", rejection(R"({"series":"rh","val":null})"));
}

TEST_F(RecordsTest, RejectsNumbersADoubleCannotHold) {
    EXPECT_EQ("value_out_of_range", rejection(R"({"series":"rh","val":1e400})"));
    EXPECT_EQ("value_out_of_range", rejection(R"({"series":"rh","val":-1e400})"));
    EXPECT_EQ("inexact_value", rejection(R"({"series":"rh","val":9007199254740993})"));
    EXPECT_EQ("inexact_value",
              rejection(R"({"series":"rh","val":123456789012345678901234567890})"));
}

TEST_F(RecordsTest, AcceptsTheDevicesOwnIdOrSerial) {
    EXPECT_EQ("", rejection(R"({"series":"rh","val":1,"device_id":"EDGE-0001"})"));
    EXPECT_EQ("", rejection(R"({"series":"rh","val":1,"device_id":null})"));
    EXPECT_EQ("", rejection(R"({"series":"rh","val":1,)"
                            R"("device_id":"6f1c7a5e-2b7d-4c1e-9a53-0d6b8c2f4e11"})"));
}

TEST_F(RecordsTest, AcceptsTheDevicesOwnUuidInAnyCase) {
    EXPECT_EQ("", rejection(R"({"series":"rh","val":1,)"
                            R"("device_id":"6F1C7A5E-2B7D-4C1E-9A53-0D6B8C2F4E11"})"));
    EXPECT_EQ("device_mismatch", rejection(R"({"series":"rh","val":1,"device_id":"edge-0001"})"));
}

TEST_F(RecordsTest, RejectsAnotherDevicesId) {
    EXPECT_EQ("device_mismatch", rejection(R"({"series":"rh","val":1,"device_id":"EDGE-0002"})"));
    EXPECT_EQ("device_mismatch", rejection(R"({"series":"rh","val":1,"device_id":1})"));
}

TEST_F(RecordsTest, NormalizesSeriesNamesToNfc) {
    std::string composed = "temp_caf\xc3\xa9";
    std::string decomposed = "temp_cafe\xcc\x81";

    EXPECT_EQ(composed, point(R"({"val":1,"series":")" + decomposed + "\"}").series);
    EXPECT_EQ(composed, point(R"({"val":1,"series":")" + composed + "\"}").series);
}

TEST_F(RecordsTest, RejectsSeriesNamesThatAreMissingEmptyOrTooLong) {
    EXPECT_EQ("missing_series", rejection(R"({"val":1})"));
    EXPECT_EQ("invalid_series", rejection(R"({"val":1,"series":""})"));
    EXPECT_EQ("invalid_series", rejection(R"({"val":1,"series":7})"));
    EXPECT_EQ("", rejection(R"({"val":1,"series":")" + std::string(255, 's') + "\"}"));
    EXPECT_EQ("invalid_series",
              rejection(R"({"val":1,"series":")" + std::string(256, 's') + "\"}"));
}

TEST_F(RecordsTest, RejectsMetaThatIsNotASmallObject) {
    EXPECT_EQ("invalid_meta", rejection(R"({"series":"rh","val":1,"meta":"text"})"));
    std::string big =
        R"({"series":"rh","val":1,"meta":{"note":")" + std::string(4096, 'x') + "\"}}";
    EXPECT_EQ("meta_too_large", rejection(big));
}

TEST_F(RecordsTest, RejectsUnitsThatAreNotShortText) {
    EXPECT_EQ("invalid_unit", rejection(R"({"series":"rh","val":1,"unit":5})"));
    EXPECT_EQ("invalid_unit",
              rejection(R"({"series":"rh","val":1,"unit":")" + std::string(33, 'u') + "\"}"));
    EXPECT_EQ("", point(R"({"series":"rh","val":1,"unit":null})").unit);
}

// PostgreSQL's text and jsonb cannot hold NUL; a NUL used to fail the whole batch there.
TEST_F(RecordsTest, RejectsNulCharactersThatAStoreCannotHold) {
    EXPECT_EQ("invalid_meta", rejection(R"({"series":"rh","val":1,"meta":{"a":"x\u0000y"}})"));
    EXPECT_EQ("invalid_unit", rejection(R"({"series":"rh","val":1,"unit":"%\u0000"})"));
    EXPECT_EQ("invalid_record", rejection(R"({"series":"rh","val":1,"asset_id":"DOOR\u00007"})"));
    EXPECT_EQ("invalid_series", rejection(R"({"series":"r\u0000h","val":1})"));
}

TEST_F(RecordsTest, RejectsRecordsThatAreNotObjects) {
    EXPECT_EQ("invalid_record", rejection("18.4"));
    EXPECT_EQ("invalid_record", rejection("[]"));
    EXPECT_EQ("invalid_record", rejection("null"));
}

TEST_F(RecordsTest, ReadsEventsFromMeta) {
    store::EventRow e = event(
        R"({"series":"door_forced","val":null,"meta":{"event_type":"security","severity":"warning",)"
        R"("description":"Forced open","duration_ms":1500}})");

    EXPECT_EQ("door_forced", e.type);
    EXPECT_EQ("security", e.category);
    EXPECT_EQ("medium", e.severity);
    EXPECT_EQ("Forced open", e.description);
    EXPECT_EQ(1500, e.duration_ms);
}

TEST_F(RecordsTest, ReadsKnownEventNamesWithoutMeta) {
    store::EventRow e = event(R"({"series":"emergency_stop_activated"})");

    EXPECT_EQ("safety", e.category);
    EXPECT_EQ("critical", e.severity);
    EXPECT_EQ("{}", e.meta_json);
}

TEST_F(RecordsTest, MapsTheDevicesSeverityWords) {
    for (auto [word, severity] : {std::pair{"warning", "medium"},
                                  {"warn", "medium"},
                                  {"error", "high"},
                                  {"debug", "info"},
                                  {"critical", "critical"}}) {
        std::string record =
            R"({"series":"sd_error","meta":{"severity":")" + std::string(word) + "\"}}";
        EXPECT_EQ(severity, event(record).severity) << word;
    }
    EXPECT_EQ("invalid_severity", rejection(R"({"series":"sd_error","meta":{"severity":"loud"}})"));
    EXPECT_EQ("invalid_severity", rejection(R"({"series":"sd_error","meta":{"severity":3}})"));
}

TEST_F(RecordsTest, KeepsTheKnownCategoryWhenMetaNamesAnUnknownOne) {
    EXPECT_EQ("power",
              event(R"({"series":"power_outage","meta":{"event_type":"mains"}})").category);
    EXPECT_EQ("system", event(R"({"series":"odd_thing","meta":{"event_type":"mains"}})").category);
}

TEST_F(RecordsTest, ReadsANumericRecordWithAnEventNameAsAPoint) {
    EXPECT_EQ(1.0, point(R"({"series":"power_outage","val":1})").value);
}

TEST_F(RecordsTest, CarriesCycleMarks) {
    store::EventRow open = event(
        R"({"series":"cycle_open","asset_id":"DOOR_9","meta":{"event_type":"asset","cycle_id":7}})");
    store::EventRow close =
        event(R"({"series":"cycle_close","meta":{"cycle_id":7,"duration_ms":7480}})");

    ASSERT_TRUE(open.cycle.has_value());
    EXPECT_TRUE(open.cycle->opens);
    EXPECT_EQ("DOOR_9", open.cycle->asset_ref);
    EXPECT_EQ(7, open.cycle->cycle_id);
    ASSERT_TRUE(close.cycle.has_value());
    EXPECT_FALSE(close.cycle->opens);
    EXPECT_EQ("DOOR_7", close.cycle->asset_ref);
    EXPECT_EQ(7480, close.cycle->duration_ms);
}

TEST_F(RecordsTest, RejectsDurationsThatAreNotNonNegativeNumbers) {
    for (const char* duration : {"1e400", "-1e400", "9007199254740993", "-1", "\"7\"", "[]"}) {
        EXPECT_EQ("invalid_duration",
                  rejection(std::string(R"({"series":"sd_error","meta":{"duration_ms":)") +
                            duration + "}}"))
            << duration;
    }
}

TEST_F(RecordsTest, RoundsFractionalDurations) {
    EXPECT_EQ(1500, event(R"({"series":"sd_error","meta":{"duration_ms":1499.5}})").duration_ms);
    EXPECT_EQ(0, event(R"({"series":"sd_error","meta":{"duration_ms":0}})").duration_ms);
    EXPECT_FALSE(event(R"({"series":"sd_error","meta":{"duration_ms":null}})").duration_ms);
}

TEST_F(RecordsTest, RejectsCycleIdsPastTheLargestInt64) {
    EXPECT_EQ("", rejection(R"({"series":"cycle_open","meta":{"cycle_id":9007199254740992}})"));
    EXPECT_EQ("invalid_cycle",
              rejection(R"({"series":"cycle_open","meta":{"cycle_id":9223372036854775808}})"));
    EXPECT_EQ("invalid_cycle", rejection(R"({"series":"cycle_open","meta":{"cycle_id":1.5}})"));
}

TEST_F(RecordsTest, RejectsCyclesWithoutAnIdOrAnAsset) {
    EXPECT_EQ("invalid_cycle",
              rejection(R"({"series":"cycle_open","meta":{"event_type":"asset"}})"));
    EXPECT_EQ("invalid_cycle", rejection(R"({"series":"cycle_open","meta":{"cycle_id":"x"}})"));
    rules_.device_asset.clear();
    EXPECT_EQ("missing_asset", rejection(R"({"series":"cycle_open","meta":{"cycle_id":1}})"));
}

TEST_F(RecordsTest, ListsTheFirstHundredErrorsAndCountsAll) {
    std::string text = "[";
    for (int i = 0; i < 150; ++i) {
        text += R"({"series":"rh","val":"bad"},{"series":"rh","val":1},)";
    }
    text += R"({"series":"rh","val":2}])";

    store::IngestBatch batch = read(text);

    EXPECT_EQ(150, batch.rejected);
    EXPECT_EQ(151u, batch.points.size());
    ASSERT_EQ(100u, batch.errors.size());
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(2 * i, batch.errors[static_cast<std::size_t>(i)].index);
        EXPECT_EQ("invalid_value", batch.errors[static_cast<std::size_t>(i)].code);
    }
}

TEST_F(RecordsTest, NormalizeNameRefusesInvalidUtf8) {
    EXPECT_FALSE(normalizeName("caf\xc3").has_value());
    EXPECT_FALSE(normalizeName("caf\xff").has_value());
    EXPECT_FALSE(normalizeName(std::string("nul\0byte", 8)).has_value());
    EXPECT_EQ("plain_ascii", normalizeName("plain_ascii"));
}

TEST_F(RecordsTest, KnowsTheEventNamesOfTheDesign) {
    for (const char* name : {"connectivity_lost", "power_outage", "safe_shutdown_initiated",
                             "emergency_stop_activated", "sd_error", "cycle_open", "cycle_close"}) {
        EXPECT_TRUE(isKnownEventName(name)) << name;
    }
    EXPECT_FALSE(isKnownEventName("temp_ambient"));
}

}  // namespace
}  // namespace esocore::ingest
