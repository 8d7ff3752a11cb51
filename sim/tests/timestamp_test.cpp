#include "timestamp.h"

#include <gtest/gtest.h>

namespace esocore::sim {
namespace {

TEST(TimestampTest, FormatsUtcWithMillisecondsAndZ) {
    EXPECT_EQ("2026-03-02T07:15:00.250Z", formatRfc3339Ms(1'772'435'700'250));
}

TEST(TimestampTest, PadsWholeSecondsToThreeDigits) {
    EXPECT_EQ("1970-01-01T00:00:00.000Z", formatRfc3339Ms(0));
    EXPECT_EQ("2026-03-02T07:18:00.007Z", formatRfc3339Ms(1'772'435'880'007));
}

TEST(TimestampTest, WallClockIsAfter2024) {
    EXPECT_GT(wallClockMs(), 1'704'067'200'000);
}

}  // namespace
}  // namespace esocore::sim
