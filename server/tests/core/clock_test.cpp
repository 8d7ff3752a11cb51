#include "core/clock.h"

#include <gtest/gtest.h>

namespace esocore {
namespace {

TEST(ClockTest, ParsesUtcWithMilliseconds) {
    auto t = parseRfc3339("2026-03-02T07:15:00.000Z");
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(1772435700000000, *t);
}

TEST(ClockTest, ParsesOffsetsIntoUtc) {
    EXPECT_EQ(parseRfc3339("2026-03-02T06:18:00Z"), parseRfc3339("2026-03-02T07:18:00+01:00"));
    EXPECT_EQ(parseRfc3339("2026-03-02T08:48:00Z"), parseRfc3339("2026-03-02T07:18:00-01:30"));
}

TEST(ClockTest, KeepsMicroseconds) {
    EXPECT_EQ(1772435700123456, *parseRfc3339("2026-03-02T07:15:00.123456Z"));
    EXPECT_EQ(1772435700100000, *parseRfc3339("2026-03-02T07:15:00.1Z"));
}

TEST(ClockTest, RejectsMalformedTimes) {
    for (const char* bad : {"2026-03-02", "2026-03-02T07:15:00", "2026-02-30T00:00:00Z",
                            "2026-03-02T24:00:00Z", "2026-03-02T07:15:00.1234567Z",
                            "2026-03-02T07:15:00.Z", "2026-03-02T07:15:00+0100", "garbage"}) {
        EXPECT_FALSE(parseRfc3339(bad).has_value()) << bad;
    }
}

TEST(ClockTest, FormatsWhatItParses) {
    Micros t = 1772435700123456;
    EXPECT_EQ("2026-03-02T07:15:00.123Z", formatRfc3339Millis(t));
    EXPECT_EQ("2026-03-02T07:15:00.123456Z", formatRfc3339Micros(t));
    EXPECT_EQ(t, *parseRfc3339(formatRfc3339Micros(t)));
}

}  // namespace
}  // namespace esocore
