#include "options.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "simulation.h"

namespace esocore::sim {
namespace {

class OptionsTest : public ::testing::Test {
protected:
    void parse(std::vector<std::string> arguments) {
        std::reverse(arguments.begin(), arguments.end());
        app_.parse(arguments);
    }

    CLI::App app_;
    SimOptions options_;

    void SetUp() override { addOptions(app_, options_); }
};

TEST_F(OptionsTest, DefaultsMatchTheDeviceApiContract) {
    parse({});
    EXPECT_EQ("http://127.0.0.1:8000", options_.server);
    EXPECT_EQ("data/sim-fleet.json", options_.fleet_file);
    EXPECT_EQ(std::nullopt, options_.devices);
    EXPECT_EQ(std::nullopt, options_.duration_s);
    EXPECT_EQ(std::nullopt, options_.batch_interval_s);
    EXPECT_EQ(1000U, options_.batch_max);
    EXPECT_EQ(EncodingChoice::Mixed, options_.encoding);
    EXPECT_EQ(64U, options_.concurrency);
    EXPECT_EQ(30.0, options_.flush_timeout_s);
}

TEST_F(OptionsTest, ParsesTheRunShape) {
    parse({"--server",         "http://10.0.0.5:9000",
           "--devices",        "50",
           "--duration",       "12.5",
           "--batch-interval", "2",
           "--batch-max",      "500",
           "--encoding",       "zstd",
           "--seed",           "7",
           "--drop-responses", "0.25",
           "--outage-after",   "3",
           "--outage-for",     "4",
           "--period",         "current_rms=250"});
    EXPECT_EQ("http://10.0.0.5:9000", options_.server);
    EXPECT_EQ(50U, options_.devices);
    EXPECT_EQ(12.5, options_.duration_s);
    EXPECT_EQ(2.0, options_.batch_interval_s);
    EXPECT_EQ(500U, options_.batch_max);
    EXPECT_EQ(EncodingChoice::Zstd, options_.encoding);
    EXPECT_EQ(7U, options_.seed);
    EXPECT_EQ(0.25, options_.drop_responses);
    EXPECT_EQ(3.0, options_.outage_after_s);
    EXPECT_EQ(4.0, options_.outage_for_s);
    EXPECT_EQ(std::vector<std::string>{"current_rms=250"}, options_.periods);
}

TEST_F(OptionsTest, RejectsOutOfRangeValues) {
    EXPECT_THROW(parse({"--encoding", "brotli"}), CLI::ValidationError);
    EXPECT_THROW(parse({"--drop-responses", "1.5"}), CLI::ValidationError);
    EXPECT_THROW(parse({"--batch-max", "0"}), CLI::ValidationError);
    EXPECT_THROW(parse({"--duration", "-1"}), CLI::ValidationError);
}

TEST(SamplingPlanTest, RateScalesAndPeriodOverridesOneSeries) {
    SimOptions options;
    options.rate = 2.0;
    options.periods = {"acoustic_level=100"};
    const SamplingPlan plan = samplingPlanFrom(options);
    EXPECT_EQ(5'000, plan[static_cast<std::size_t>(Sensor::TempAmbient)]);
    EXPECT_EQ(500, plan[static_cast<std::size_t>(Sensor::CurrentRms)]);
    EXPECT_EQ(100, plan[static_cast<std::size_t>(Sensor::AcousticLevel)]);
}

TEST(SamplingPlanTest, RejectsUnknownSeriesAndMalformedPeriods) {
    for (const char* period : {"cycle_open=100", "current_rms", "current_rms=0", "rh=10ms"}) {
        SimOptions options;
        options.periods = {period};
        EXPECT_THROW(samplingPlanFrom(options), std::invalid_argument) << period;
    }
}

TEST(ServerUrlTest, SplitsHostPortAndPrefix) {
    const ServerAddress server = parseServerUrl("http://127.0.0.1:8000/edge/");
    EXPECT_EQ("127.0.0.1", server.host);
    EXPECT_EQ("8000", server.port);
    EXPECT_EQ("127.0.0.1:8000", server.host_header);
    EXPECT_EQ("/edge", server.base_path);
    EXPECT_EQ("80", parseServerUrl("http://localhost").port);
    EXPECT_THROW(parseServerUrl("https://example.com"), std::invalid_argument);
    EXPECT_THROW(parseServerUrl("127.0.0.1:8000"), std::invalid_argument);
}

}  // namespace
}  // namespace esocore::sim
