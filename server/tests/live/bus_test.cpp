// The in-process bus: fan-out to the subscribers of one channel only, unsubscription that
// holds once it returns, and publishers on several threads at once.
#include "live/bus.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace esocore::live {
namespace {

const Scope kScope{"org", "site", "device"};

TEST(InProcessBusTest, DeliversToTheSubscribersOfTheChannelOnly) {
    InProcessBus bus;
    std::vector<std::string> a;
    std::vector<std::string> b;
    auto first = bus.subscribe("devices", [&](const Message& m) { a.push_back(*m.text); });
    auto second = bus.subscribe("events", [&](const Message& m) { b.push_back(*m.text); });
    bus.publish("devices", kScope, "one");
    bus.publish("alerts", kScope, "nobody");
    EXPECT_EQ(std::vector<std::string>{"one"}, a);
    EXPECT_TRUE(b.empty());
}

TEST(InProcessBusTest, EverySubscriberSharesOneText) {
    InProcessBus bus;
    const std::string* seen[2] = {nullptr, nullptr};
    auto first = bus.subscribe("devices", [&](const Message& m) { seen[0] = m.text.get(); });
    auto second = bus.subscribe("devices", [&](const Message& m) { seen[1] = m.text.get(); });
    bus.publish("devices", kScope, "shared");
    ASSERT_NE(nullptr, seen[0]);
    EXPECT_EQ(seen[0], seen[1]);
}

TEST(InProcessBusTest, MessageCarriesItsChannelAndScope) {
    InProcessBus bus;
    std::string channel;
    std::string device;
    auto s = bus.subscribe("device:x", [&](const Message& m) {
        channel = std::string(m.channel);
        device = m.scope.device_id;
    });
    bus.publish("device:x", kScope, "{}");
    EXPECT_EQ("device:x", channel);
    EXPECT_EQ("device", device);
}

TEST(InProcessBusTest, ResetSubscriptionReceivesNothingMore) {
    InProcessBus bus;
    int received = 0;
    auto s = bus.subscribe("devices", [&](const Message&) { ++received; });
    EXPECT_TRUE(bus.hasSubscribers("devices"));
    bus.publish("devices", kScope, "1");
    s.reset();
    bus.publish("devices", kScope, "2");
    EXPECT_EQ(1, received);
    EXPECT_FALSE(bus.hasSubscribers("devices"));
}

TEST(InProcessBusTest, MovedSubscriptionStaysSubscribed) {
    InProcessBus bus;
    int received = 0;
    Subscription kept;
    {
        auto s = bus.subscribe("devices", [&](const Message&) { ++received; });
        kept = std::move(s);
    }
    bus.publish("devices", kScope, "1");
    EXPECT_EQ(1, received);
}

TEST(InProcessBusTest, ConcurrentPublishersAndSubscribersLoseNothingSubscribed) {
    InProcessBus bus;
    std::atomic<int> received{0};
    auto steady = bus.subscribe("devices", [&](const Message&) { ++received; });
    std::atomic<bool> done{false};
    std::thread churn([&] {
        while (!done) {
            auto passing = bus.subscribe("devices", [](const Message&) {});
        }
    });
    std::vector<std::thread> publishers;
    for (int t = 0; t < 4; ++t) {
        publishers.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                bus.publish("devices", kScope, "x");
            }
        });
    }
    for (auto& t : publishers) {
        t.join();
    }
    done = true;
    churn.join();
    EXPECT_EQ(8000, received.load());
}

}  // namespace
}  // namespace esocore::live
