#include "series_model.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <set>

#include "record.h"

namespace esocore::sim {
namespace {

constexpr std::int64_t kStart = 1'772'435'700'000;  // 2026-03-02T07:15:00Z
constexpr std::int64_t kHourMs = 3'600'000;

class SeriesModelTest : public ::testing::Test {
protected:
    // Advances like the sim does, in uneven steps, and returns everything generated.
    static std::vector<Record> runFor(SeriesModel& model, std::int64_t duration_ms) {
        std::vector<Record> records;
        const std::int64_t end = kStart + duration_ms;
        std::int64_t at = kStart;
        std::int64_t step = 1;
        while (at < end) {
            at = std::min(at + step, end);
            step = step * 7 % 1'999 + 1;
            model.advanceTo(at, records);
        }
        return records;
    }

    static std::vector<Record> only(const std::vector<Record>& records, std::string_view series) {
        std::vector<Record> matching;
        for (const auto& record : records) {
            if (record.series == series) {
                matching.push_back(record);
            }
        }
        return matching;
    }

    ModelSettings quiet_{defaultSamplingPlan(), 0.0, 19.0};
    ModelSettings eventful_{defaultSamplingPlan(), 60.0, 19.0};
};

TEST_F(SeriesModelTest, NeverProducesTheSameSeriesAndTimestampTwice) {
    SeriesModel model(eventful_, 3, kStart);
    const auto records = runFor(model, 6 * kHourMs);
    std::set<std::pair<std::string, std::int64_t>> seen;
    for (const auto& record : records) {
        EXPECT_TRUE(seen.emplace(record.series, record.ts_ms).second)
            << record.series << " at " << record.ts_ms;
    }
    EXPECT_GT(only(records, "power_outage").size(), 10U);
    EXPECT_GT(only(records, "connectivity_lost").size(), 10U);
    EXPECT_GT(only(records, "sd_error").size(), 10U);
}

TEST_F(SeriesModelTest, SamplesEachSensorAtItsPeriod) {
    SeriesModel model(quiet_, 1, kStart);
    const auto records = runFor(model, 60'000);
    EXPECT_NEAR(60, only(records, "current_rms").size(), 1);
    EXPECT_NEAR(60, only(records, "vibration_rms").size(), 1);
    EXPECT_NEAR(60, only(records, "acoustic_level").size(), 1);
    EXPECT_NEAR(12, only(records, "temp_stator").size(), 1);
    EXPECT_NEAR(6, only(records, "temp_ambient").size(), 1);
    EXPECT_NEAR(6, only(records, "rh").size(), 1);
    const auto currents = only(records, "current_rms");
    for (std::size_t i = 1; i < currents.size(); ++i) {
        EXPECT_EQ(1'000, currents[i].ts_ms - currents[i - 1].ts_ms);
    }
}

TEST_F(SeriesModelTest, RateScalesPeriodsButNotBelowOneMillisecond) {
    const SamplingPlan fast = scaleSamplingPlan(defaultSamplingPlan(), 10.0);
    EXPECT_EQ(1'000, fast[static_cast<std::size_t>(Sensor::TempAmbient)]);
    EXPECT_EQ(100, fast[static_cast<std::size_t>(Sensor::CurrentRms)]);
    const SamplingPlan extreme = scaleSamplingPlan(defaultSamplingPlan(), 1e9);
    for (const auto period : extreme) {
        EXPECT_EQ(1, period);
    }
}

TEST_F(SeriesModelTest, SameSeedGivesSameRecords) {
    SeriesModel first(eventful_, 99, kStart);
    SeriesModel second(eventful_, 99, kStart);
    const DeviceIdentity identity{"SIM-0001", "PLANT_NORTH", "DOOR_1"};
    const auto a = runFor(first, kHourMs);
    const auto b = runFor(second, kHourMs);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(recordToJson(a[i], identity), recordToJson(b[i], identity));
    }
}

TEST_F(SeriesModelTest, CyclesCloseWhatTheyOpenedWithIncreasingIds) {
    SeriesModel model(quiet_, 5, kStart);
    const auto records = runFor(model, kHourMs);
    const auto opens = only(records, "cycle_open");
    const auto closes = only(records, "cycle_close");
    ASSERT_GT(opens.size(), 20U);
    ASSERT_GE(opens.size(), closes.size());
    for (std::size_t i = 0; i < closes.size(); ++i) {
        EXPECT_EQ(opens[i].meta.at("cycle_id"), closes[i].meta.at("cycle_id"));
        EXPECT_EQ(closes[i].ts_ms - opens[i].ts_ms, closes[i].meta.at("duration_ms").as_int64());
        EXPECT_EQ("asset", opens[i].meta.at("event_type").as_string());
        EXPECT_FALSE(opens[i].val.has_value());
        if (i > 0) {
            EXPECT_EQ(opens[i - 1].meta.at("cycle_id").as_int64() + 1,
                      opens[i].meta.at("cycle_id").as_int64());
        }
    }
}

TEST_F(SeriesModelTest, CurrentIsHighOnlyWhileACycleRuns) {
    SeriesModel model(quiet_, 8, kStart);
    const auto records = runFor(model, kHourMs);
    std::map<std::int64_t, bool> running_since;
    for (const auto& record : records) {
        if (record.series == "cycle_open" || record.series == "cycle_close") {
            running_since[record.ts_ms] = record.series == "cycle_open";
        }
    }
    for (const auto& record : only(records, "current_rms")) {
        const auto change = running_since.upper_bound(record.ts_ms);
        const bool running = change != running_since.begin() && std::prev(change)->second;
        if (running) {
            EXPECT_GT(*record.val, 3.0);
        } else {
            EXPECT_LT(*record.val, 1.0);
        }
    }
}

TEST_F(SeriesModelTest, PowerOutageIsFollowedBySafeShutdownAndRestore) {
    SeriesModel model(eventful_, 11, kStart);
    const auto records = runFor(model, 6 * kHourMs);
    const auto outages = only(records, "power_outage");
    const auto shutdowns = only(records, "safe_shutdown_initiated");
    const auto restores = only(records, "power_restored");
    ASSERT_FALSE(outages.empty());
    ASSERT_GE(outages.size(), shutdowns.size());
    for (std::size_t i = 0; i < shutdowns.size(); ++i) {
        EXPECT_GT(shutdowns[i].ts_ms, outages[i].ts_ms);
        EXPECT_EQ("critical", outages[i].meta.at("severity").as_string());
        EXPECT_EQ("power_outage", shutdowns[i].meta.at("shutdown_reason").as_string());
        if (i < restores.size()) {
            EXPECT_GT(restores[i].ts_ms, shutdowns[i].ts_ms);
        }
    }
}

TEST_F(SeriesModelTest, NoSamplesWhileThePowerIsOff) {
    SeriesModel model(eventful_, 11, kStart);
    const auto records = runFor(model, 6 * kHourMs);
    const auto shutdowns = only(records, "safe_shutdown_initiated");
    const auto restores = only(records, "power_restored");
    for (std::size_t i = 0; i < std::min(shutdowns.size(), restores.size()); ++i) {
        for (const auto& record : only(records, "current_rms")) {
            EXPECT_FALSE(record.ts_ms > shutdowns[i].ts_ms && record.ts_ms < restores[i].ts_ms);
        }
    }
}

TEST_F(SeriesModelTest, FleetOutageLogsLostThenRestoredWithItsDuration) {
    SeriesModel model(quiet_, 2, kStart);
    std::vector<Record> records;
    model.advanceTo(kStart + 10'000, records);
    EXPECT_TRUE(model.linkUp());
    model.setFleetOutage(true, records);
    EXPECT_FALSE(model.linkUp());
    model.advanceTo(kStart + 40'000, records);
    model.setFleetOutage(false, records);
    EXPECT_TRUE(model.linkUp());
    const auto lost = only(records, "connectivity_lost");
    const auto restored = only(records, "connectivity_restored");
    ASSERT_EQ(1U, lost.size());
    ASSERT_EQ(1U, restored.size());
    EXPECT_EQ(kStart + 10'000, lost[0].ts_ms);
    EXPECT_EQ(30'000, restored[0].meta.at("duration_ms").as_int64());
}

TEST_F(SeriesModelTest, RestoreAllBringsTheLinkBackForTheFinalFlush) {
    SeriesModel model(eventful_, 4, kStart);
    std::vector<Record> records;
    model.advanceTo(kStart + 1'000, records);
    model.setFleetOutage(true, records);
    model.restoreAll(records);
    EXPECT_TRUE(model.linkUp());
    EXPECT_EQ(1U, only(records, "connectivity_restored").size());
}

TEST_F(SeriesModelTest, RecordsSerializeLikeTheExampleBatch) {
    SeriesModel model(quiet_, 1, kStart);
    std::vector<Record> records;
    model.advanceTo(kStart + 10'000, records);
    const DeviceIdentity identity{"SIM-0001", "PLANT_NORTH", "DOOR_7"};
    std::map<std::string, std::string> units;
    for (const auto& record : records) {
        const auto json = boost::json::parse(recordToJson(record, identity)).as_object();
        EXPECT_EQ("SIM-0001", json.at("device_id").as_string());
        EXPECT_EQ("PLANT_NORTH", json.at("site_id").as_string());
        EXPECT_EQ("DOOR_7", json.at("asset_id").as_string());
        EXPECT_EQ(24U, json.at("ts").as_string().size());
        EXPECT_EQ('Z', json.at("ts").as_string().back());
        if (json.at("unit").is_string()) {
            units[record.series] = json.at("unit").as_string();
        }
    }
    EXPECT_EQ("°C", units["temp_ambient"]);
    EXPECT_EQ("%", units["rh"]);
    EXPECT_EQ("°C", units["temp_stator"]);
    EXPECT_EQ("A", units["current_rms"]);
    EXPECT_EQ("g", units["vibration_rms"]);
    EXPECT_EQ("dBA", units["acoustic_level"]);
}

TEST_F(SeriesModelTest, SeriesNamesMapBackToSensors) {
    EXPECT_EQ(Sensor::CurrentRms, sensorFromSeries("current_rms"));
    EXPECT_EQ(std::nullopt, sensorFromSeries("cycle_open"));
    EXPECT_EQ("acoustic_level", sensorSeries(Sensor::AcousticLevel));
}

}  // namespace
}  // namespace esocore::sim
