// Channel names as clients send them: the five kinds, canonical forms, and what is no channel.
#include "live/channels.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace esocore::live {
namespace {

constexpr const char* kDevice = "0b7f3c1e-8d2a-4c55-9e61-7a1f0c2d9b34";

TEST(ParseChannelTest, NamesTheOrganizationWideChannels) {
    EXPECT_EQ(ChannelKind::devices, parseChannel("devices")->kind);
    EXPECT_EQ(ChannelKind::events, parseChannel("events")->kind);
    EXPECT_EQ(ChannelKind::alerts, parseChannel("alerts")->kind);
    EXPECT_FALSE(parseChannel("devices")->aboutOneDevice());
}

TEST(ParseChannelTest, DeviceChannelIsCanonicalInLowercase) {
    auto channel = parseChannel("device:0B7F3C1E-8D2A-4C55-9E61-7A1F0C2D9B34");
    ASSERT_TRUE(channel);
    EXPECT_EQ(ChannelKind::device, channel->kind);
    EXPECT_EQ(kDevice, channel->device_id);
    EXPECT_EQ(std::string("device:") + kDevice, channel->name);
}

TEST(ParseChannelTest, TelemetryWithAndWithoutMetric) {
    auto all = parseChannel(std::string("telemetry:") + kDevice);
    ASSERT_TRUE(all);
    EXPECT_EQ(ChannelKind::telemetry, all->kind);
    EXPECT_TRUE(all->metric.empty());
    auto one = parseChannel(std::string("telemetry:") + kDevice + ":temp:stator");
    ASSERT_TRUE(one);
    EXPECT_EQ("temp:stator", one->metric);
    EXPECT_EQ(std::string("telemetry:") + kDevice + ":temp:stator", one->name);
}

TEST(ParseChannelTest, MetricIsComparedInNfc) {
    // "Temp_é" decomposed (e + combining acute) is the same series as composed.
    auto decomposed = parseChannel(std::string("telemetry:") + kDevice + ":Temp_e\xCC\x81");
    ASSERT_TRUE(decomposed);
    EXPECT_EQ("Temp_\xC3\xA9", decomposed->metric);
}

TEST(ParseChannelTest, RefusesWhatIsNoChannel) {
    const std::vector<std::string> names{"",
                                         "device",
                                         "device:",
                                         "telemetry:",
                                         "everything",
                                         "Devices",
                                         std::string("telemetry:").append(kDevice).append(":"),
                                         "device:a:b",
                                         "device:has space",
                                         "telemetry:x:\xff"};
    for (const auto& name : names) {
        EXPECT_FALSE(parseChannel(name)) << name;
    }
}

TEST(ChannelNameTest, BuildsTheNamesPublishersUse) {
    EXPECT_EQ("device:d", deviceChannel("d"));
    EXPECT_EQ("telemetry:d", telemetryChannel("d"));
    EXPECT_EQ("telemetry:d:rh", telemetryChannel("d", "rh"));
}

}  // namespace
}  // namespace esocore::live
