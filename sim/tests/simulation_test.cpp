#include "simulation.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "fake_device_api.h"

namespace esocore::sim {
namespace {

using testing::FakeLedger;
using testing::ScriptedAnswer;

class SimulationTest : public ::testing::Test {
protected:
    void SetUp() override { spdlog::set_level(spdlog::level::err); }

    SimOptions makeOptions(double duration_s) const {
        SimOptions options;
        options.server = fake_.url();
        options.duration_s = duration_s;
        options.rate = 10.0;
        options.batch_interval_s = 0.3;
        options.batch_max = 20;
        options.seed = 7;
        options.event_rate = 0.0;
        options.flush_timeout_s = 10.0;
        return options;
    }

    static std::vector<DeviceCredentials> makeFleet(int count) {
        std::vector<DeviceCredentials> fleet;
        for (int i = 1; i <= count; ++i) {
            fleet.push_back({"00000000-0000-4000-8000-00000000000" + std::to_string(i),
                             "SIM-000" + std::to_string(i), "key", "esocore-edge"});
        }
        return fleet;
    }

    // Everything the sim says was acknowledged is exactly what the server stored.
    static void expectServerHoldsEverything(const FleetStats& stats, const FakeLedger& ledger) {
        EXPECT_TRUE(stats.allAcknowledged()) << summaryJson(stats);
        EXPECT_EQ(0U, stats.unackedRecords());
        EXPECT_EQ(stats.records_generated, ledger.stored_points + ledger.stored_events);
        EXPECT_EQ(stats.points_acked, ledger.stored_points);
        EXPECT_EQ(stats.events_acked, ledger.stored_events);
        EXPECT_EQ(0U, ledger.duplicate_records);
        EXPECT_EQ(0U, ledger.header_errors);
        EXPECT_EQ(0U, stats.count_mismatches);
    }

    testing::FakeDeviceApi fake_;
};

TEST_F(SimulationTest, HealthyServerStoresEveryRecordOnce) {
    Simulation simulation(makeOptions(1.5), makeFleet(3));
    const FleetStats stats = simulation.run();
    const FakeLedger ledger = fake_.ledger();
    expectServerHoldsEverything(stats, ledger);
    EXPECT_EQ(3U, stats.devices);
    EXPECT_EQ(stats.batches_sent, stats.batches_acked);
    EXPECT_GT(stats.batches_sent, 6U);
    EXPECT_EQ(0U, stats.resends + stats.retries);
    EXPECT_EQ(3U, ledger.handshakes);
    EXPECT_EQ(3U, ledger.heartbeats);
    EXPECT_EQ((std::set<std::string>{"gzip", "zstd"}), ledger.encodings);
    for (const char* series :
         {"temp_ambient", "rh", "temp_stator", "current_rms", "vibration_rms", "acoustic_level"}) {
        EXPECT_GT(ledger.series.count(series), 0U) << series;
    }
}

TEST_F(SimulationTest, DroppedAnswersAreRecoveredByTheReplayOnce) {
    SimOptions options = makeOptions(1.5);
    options.drop_responses = 0.5;
    Simulation simulation(options, makeFleet(2));
    const FleetStats stats = simulation.run();
    const FakeLedger ledger = fake_.ledger();
    expectServerHoldsEverything(stats, ledger);
    EXPECT_GT(stats.dropped_responses, 0U);
    EXPECT_EQ(stats.dropped_responses, stats.resends);
    EXPECT_EQ(ledger.replays, stats.replayed_acks);
    EXPECT_EQ(ledger.batches_applied, stats.batches_acked);
}

TEST_F(SimulationTest, MaintenanceAnswersAreRetriedAfterRetryAfter) {
    fake_.script(ScriptedAnswer{503, "maintenance", 1, 3});
    Simulation simulation(makeOptions(1.5), makeFleet(2));
    const FleetStats stats = simulation.run();
    expectServerHoldsEverything(stats, fake_.ledger());
    EXPECT_EQ(3U, fake_.ledger().refused_batches);
    EXPECT_EQ(3U, stats.retries);
}

TEST_F(SimulationTest, ServerErrorsAreRetriedWithBackoff) {
    fake_.script(ScriptedAnswer{500, "internal", -1, 2});
    Simulation simulation(makeOptions(1.0), makeFleet(1));
    const FleetStats stats = simulation.run();
    expectServerHoldsEverything(stats, fake_.ledger());
    EXPECT_EQ(2U, stats.retries);
}

TEST_F(SimulationTest, RefusedBatchIsDroppedAndFailsTheRun) {
    fake_.script(ScriptedAnswer{422, "invalid_batch", -1, 1});
    Simulation simulation(makeOptions(1.0), makeFleet(1));
    const FleetStats stats = simulation.run();
    EXPECT_EQ(1U, stats.failed_batches);
    EXPECT_GT(stats.records_failed, 0U);
    EXPECT_EQ(stats.records_failed, stats.unackedRecords());
    EXPECT_FALSE(stats.allAcknowledged());
}

TEST_F(SimulationTest, ServerThatWasNeverUpGetsTheBufferedDataWhenItComes) {
    fake_.setReachable(false);
    std::thread revive([this] {
        std::this_thread::sleep_for(std::chrono::milliseconds{1'200});
        fake_.setReachable(true);
    });
    Simulation simulation(makeOptions(1.5), makeFleet(2));
    const FleetStats stats = simulation.run();
    revive.join();
    expectServerHoldsEverything(stats, fake_.ledger());
    EXPECT_EQ(2U, fake_.ledger().handshakes);
}

TEST_F(SimulationTest, ServerGoingAwayMidRunGetsTheSameBatchesLater) {
    std::thread outage([this] {
        std::this_thread::sleep_for(std::chrono::milliseconds{500});
        fake_.setReachable(false);
        std::this_thread::sleep_for(std::chrono::milliseconds{1'000});
        fake_.setReachable(true);
    });
    Simulation simulation(makeOptions(2.0), makeFleet(2));
    const FleetStats stats = simulation.run();
    outage.join();
    expectServerHoldsEverything(stats, fake_.ledger());
    EXPECT_GT(stats.retries, 0U);
    EXPECT_EQ(stats.batches_sent, stats.batches_acked);
}

TEST_F(SimulationTest, FleetOutageBuffersThenSendsTheBacklog) {
    SimOptions options = makeOptions(2.0);
    options.outage_after_s = 0.3;
    options.outage_for_s = 1.0;
    Simulation simulation(options, makeFleet(3));
    const FleetStats stats = simulation.run();
    const FakeLedger ledger = fake_.ledger();
    expectServerHoldsEverything(stats, ledger);
    EXPECT_EQ(3U, ledger.series.at("connectivity_lost"));
    EXPECT_EQ(3U, ledger.series.at("connectivity_restored"));
}

TEST_F(SimulationTest, StopDuringAnOutageStillFlushes) {
    SimOptions options = makeOptions(1.0);
    options.outage_after_s = 0.2;
    options.outage_for_s = 600.0;
    Simulation simulation(options, makeFleet(2));
    const FleetStats stats = simulation.run();
    expectServerHoldsEverything(stats, fake_.ledger());
    EXPECT_LT(stats.elapsed_s, 5.0);
}

TEST_F(SimulationTest, GivesUpWhenTheFlushTimeRunsOut) {
    fake_.setReachable(false);
    SimOptions options = makeOptions(0.5);
    options.flush_timeout_s = 0.5;
    Simulation simulation(options, makeFleet(2));
    const FleetStats stats = simulation.run();
    EXPECT_FALSE(stats.allAcknowledged());
    EXPECT_EQ(stats.records_generated, stats.unackedRecords());
    EXPECT_LT(stats.elapsed_s, 3.0);
}

}  // namespace
}  // namespace esocore::sim
