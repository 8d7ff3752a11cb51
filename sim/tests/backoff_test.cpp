#include "backoff.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace esocore::sim {
namespace {

using std::chrono::milliseconds;

class BackoffTest : public ::testing::Test {
protected:
    std::mt19937_64 rng_{42};
    Backoff backoff_;
};

TEST_F(BackoffTest, DoublesFromHalfASecondWithinQuarterJitter) {
    for (int failure = 0; failure < 6; ++failure) {
        const double nominal_ms = 500.0 * (1 << failure);
        const auto delay = backoff_.next(rng_);
        EXPECT_GE(delay.count(), static_cast<std::int64_t>(nominal_ms * 0.75)) << failure;
        EXPECT_LE(delay.count(), static_cast<std::int64_t>(nominal_ms * 1.25)) << failure;
    }
    EXPECT_EQ(6, backoff_.failures());
}

TEST_F(BackoffTest, NeverExceedsThirtySecondsEvenWithJitter) {
    for (int failure = 0; failure < 200; ++failure) {
        const auto delay = backoff_.next(rng_);
        EXPECT_LE(delay, milliseconds{30'000});
        if (failure >= 8) {
            EXPECT_GE(delay, milliseconds{22'500});
        }
    }
}

TEST_F(BackoffTest, ResetStartsFromTheBaseAgain) {
    for (int failure = 0; failure < 5; ++failure) {
        backoff_.next(rng_);
    }
    backoff_.reset();
    const auto delay = backoff_.next(rng_);
    EXPECT_GE(delay, milliseconds{375});
    EXPECT_LE(delay, milliseconds{625});
}

TEST_F(BackoffTest, JitterSpreadsDelaysAcrossTheRange) {
    std::vector<std::int64_t> delays;
    for (int i = 0; i < 100; ++i) {
        Backoff fresh;
        delays.push_back(fresh.next(rng_).count());
    }
    const auto [lowest, highest] = std::minmax_element(delays.begin(), delays.end());
    EXPECT_LT(*lowest, 425);
    EXPECT_GT(*highest, 575);
}

TEST_F(BackoffTest, SameSeedGivesSameDelays) {
    std::mt19937_64 first{7};
    std::mt19937_64 second{7};
    Backoff other;
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(backoff_.next(first), other.next(second));
    }
}

TEST(ServerDelayTest, WaitsAtLeastWhatTheServerAsked) {
    std::mt19937_64 rng{1};
    for (int i = 0; i < 100; ++i) {
        const auto delay = serverDelay(milliseconds{2'000}, rng);
        EXPECT_GE(delay, milliseconds{2'000});
        EXPECT_LE(delay, milliseconds{2'500});
    }
}

TEST(ServerDelayTest, SpreadsAZeroWaitOverAQuarterSecond) {
    std::mt19937_64 rng{1};
    for (int i = 0; i < 100; ++i) {
        EXPECT_LE(serverDelay(milliseconds{0}, rng), milliseconds{250});
    }
}

TEST(RetryAfterTest, ParsesDeltaSeconds) {
    EXPECT_EQ(std::chrono::seconds{3}, parseRetryAfter("3"));
    EXPECT_EQ(std::chrono::seconds{120}, parseRetryAfter(" 120 "));
    EXPECT_EQ(std::chrono::seconds{0}, parseRetryAfter("0"));
}

TEST(RetryAfterTest, IgnoresDatesAndGarbage) {
    EXPECT_EQ(std::nullopt, parseRetryAfter(""));
    EXPECT_EQ(std::nullopt, parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
    EXPECT_EQ(std::nullopt, parseRetryAfter("-1"));
    EXPECT_EQ(std::nullopt, parseRetryAfter("5s"));
}

}  // namespace
}  // namespace esocore::sim
