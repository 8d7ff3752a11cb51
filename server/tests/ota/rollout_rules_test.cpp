#include "ota/rollout_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/crypto.h"

namespace esocore::ota {
namespace {

std::vector<std::string> deviceIds(std::size_t count) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < count; ++i) {
        ids.push_back(newUuid());
    }
    return ids;
}

std::set<std::string> admitted(const std::vector<std::string>& ids, std::int64_t percentage_bp) {
    RolloutTarget staged{"staged", percentage_bp, {}, {}, "stable", {"esocore-edge"}};
    std::set<std::string> out;
    for (const auto& id : ids) {
        if (reaches(staged, DeviceFacts{id, "esocore-edge", "stable", {}})) {
            out.insert(id);
        }
    }
    return out;
}

class RolloutRulesTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { initCrypto(); }
};

TEST_F(RolloutRulesTest, BucketIsStableForADeviceWhateverTheCaseOfItsId) {
    for (const auto& id : deviceIds(50)) {
        std::string upper = id;
        std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);

        std::int64_t bucket = bucketOf(id);

        EXPECT_EQ(bucket, bucketOf(id));
        EXPECT_EQ(bucket, bucketOf(upper));
        EXPECT_GE(bucket, 0);
        EXPECT_LT(bucket, kBuckets);
    }
}

// Pinned values: changing how buckets are made would reshuffle every staged rollout under way.
TEST_F(RolloutRulesTest, BucketIsTheFirstEightBytesOfTheSha256OfTheIdModuloTenThousand) {
    // SHA-256 of the id starts db8055e0e0307d5a, and 0xdb8055e0e0307d5a % 10000 = 1418.
    EXPECT_EQ(1418, bucketOf("00000000-0000-4000-8000-000000000000"));
    // e7d73399149ac223 % 10000 = 3683.
    EXPECT_EQ(3683, bucketOf("6f1c2a4e-93b1-4f3e-8d55-0c7b2f1e9a10"));
}

TEST_F(RolloutRulesTest, BucketsSpreadEvenly) {
    std::vector<int> deciles(10, 0);
    const int devices = 20'000;
    for (const auto& id : deviceIds(devices)) {
        ++deciles[static_cast<std::size_t>(bucketOf(id) / 1000)];
    }

    for (int count : deciles) {
        EXPECT_NEAR(devices / 10, count, devices / 10 * 0.1);
    }
}

TEST_F(RolloutRulesTest, RaisingTheStagedPercentageOnlyAddsDevices) {
    std::vector<std::string> ids = deviceIds(2000);
    std::set<std::string> before;

    for (std::int64_t bp : {0, 1, 500, 1000, 2500, 5000, 5001, 9999, 10'000}) {
        std::set<std::string> now = admitted(ids, bp);

        EXPECT_TRUE(std::includes(now.begin(), now.end(), before.begin(), before.end())) << bp;
        EXPECT_EQ(now, admitted(ids, bp)) << "the same answer every time";
        before = now;
    }
    EXPECT_TRUE(admitted(ids, 0).empty());
    EXPECT_EQ(ids.size(), admitted(ids, 10'000).size());
    EXPECT_NEAR(200.0, static_cast<double>(admitted(ids, 1000).size()), 60.0);
}

TEST_F(RolloutRulesTest, StableDevicesTakeStableBetaTakeBetaAndStableDevTakeAll) {
    EXPECT_EQ((std::vector<std::string>{"stable"}), channelsFor("stable"));
    EXPECT_EQ((std::vector<std::string>{"stable", "beta"}), channelsFor("beta"));
    EXPECT_EQ((std::vector<std::string>{"stable", "beta", "dev"}), channelsFor("dev"));
    EXPECT_TRUE(channelsFor("nightly").empty());
    EXPECT_FALSE(channelAdmits("stable", "beta"));
    EXPECT_FALSE(channelAdmits("beta", "dev"));
    EXPECT_TRUE(channelAdmits("dev", "stable"));
    EXPECT_FALSE(channelAdmits("stable", "nightly"));
}

TEST_F(RolloutRulesTest, ImmediateReachesEveryDeviceOfTheModelAndChannel) {
    RolloutTarget target{"immediate", kBuckets, {}, {}, "beta", {"esocore-edge", "edge-x"}};

    EXPECT_TRUE(reaches(target, {newUuid(), "edge-x", "beta", {}}));
    EXPECT_TRUE(reaches(target, {newUuid(), "esocore-edge", "dev", {}}));
    EXPECT_FALSE(reaches(target, {newUuid(), "esocore-edge", "stable", {}}));
    EXPECT_FALSE(reaches(target, {newUuid(), "other", "beta", {}}));
}

TEST_F(RolloutRulesTest, ManualReachesListedDevicesAndTaggedOnes) {
    std::string listed = newUuid();
    std::string upper = listed;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    RolloutTarget target{"manual", kBuckets, {listed}, "pilot", "stable", {"esocore-edge"}};

    EXPECT_TRUE(reaches(target, {listed, "esocore-edge", "stable", {}}));
    EXPECT_TRUE(reaches(target, {upper, "esocore-edge", "stable", {}}));
    EXPECT_TRUE(reaches(target, {newUuid(), "esocore-edge", "stable", {"north", "pilot"}}));
    EXPECT_FALSE(reaches(target, {newUuid(), "esocore-edge", "stable", {"north"}}));
    EXPECT_FALSE(reaches(target, {listed, "other", "stable", {}}));
    target.tag.clear();
    EXPECT_FALSE(reaches(target, {newUuid(), "esocore-edge", "stable", {""}}));
}

TEST_F(RolloutRulesTest, StatesMoveForwardRepeatAndRetryOnly) {
    const std::vector<std::string> states = {"offered",   "downloading", "installing",
                                             "completed", "failed",      "rolled_back"};
    const std::set<std::pair<std::string, std::string>> allowed = {
        {"offered", "downloading"},   {"offered", "installing"},      {"offered", "completed"},
        {"offered", "failed"},        {"downloading", "downloading"}, {"downloading", "installing"},
        {"downloading", "completed"}, {"downloading", "failed"},      {"installing", "installing"},
        {"installing", "completed"},  {"installing", "failed"},       {"installing", "rolled_back"},
        {"completed", "completed"},   {"completed", "rolled_back"},   {"failed", "failed"},
        {"failed", "downloading"},    {"rolled_back", "rolled_back"},
    };
    for (const auto& from : states) {
        for (const auto& to : states) {
            EXPECT_EQ(allowed.contains({from, to}), transitionAllowed(from, to))
                << from << " -> " << to;
        }
    }
    EXPECT_FALSE(transitionAllowed("offered", "offered")) << "devices never report offered";
    EXPECT_FALSE(transitionAllowed("unknown", "failed"));
}

TEST_F(RolloutRulesTest, ThresholdNeedsBothTheShareAndTheMinimum) {
    EXPECT_FALSE(reachesThreshold({2, 2}, 2000, 3)) << "100 % but below the minimum";
    EXPECT_TRUE(reachesThreshold({3, 10}, 3000, 3)) << "exactly the threshold";
    EXPECT_FALSE(reachesThreshold({3, 11}, 3000, 3)) << "27 % of 11";
    EXPECT_TRUE(reachesThreshold({1, 1}, 10'000, 1));
    EXPECT_FALSE(reachesThreshold({0, 0}, 1, 1));
}

TEST_F(RolloutRulesTest, PercentagesInHundredths) {
    EXPECT_EQ(1000, basisPoints(10));
    EXPECT_EQ(1250, basisPoints(12.5));
    EXPECT_EQ(1, basisPoints(0.01));
    EXPECT_EQ(10'000, basisPoints(100));
    EXPECT_EQ(0, basisPoints(0));
    EXPECT_FALSE(basisPoints(100.01).has_value());
    EXPECT_FALSE(basisPoints(-1).has_value());
    EXPECT_FALSE(basisPoints(12.345).has_value());
    EXPECT_EQ("10", percentText(1000));
    EXPECT_EQ("12.5", percentText(1250));
    EXPECT_EQ("12.05", percentText(1205));
    EXPECT_EQ("0.01", percentText(1));
}

}  // namespace
}  // namespace esocore::ota
