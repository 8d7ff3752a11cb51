// Portal sessions end at their lifetime or when idle, on both stores.
#include "accounts/sessions.h"

#include <gtest/gtest.h>

#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "store/store.h"
#include "support/test_server.h"

namespace esocore {
namespace {

constexpr Micros kNow = 1'780'000'000'000'000;

class SessionsTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        static const bool ready = [] {
            initCrypto();
            log::setup("off");
            return true;
        }();
        (void)ready;
        Config config;
        config.database_url = testing::freshDatabaseUrl(GetParam(), dir_.path());
        store_ = store::openStore(config);
        ASSERT_TRUE(store_->migrate().ok());
        store::User user{newUuid(), "ada@example.com", "Ada", "x", false, "UTC", kNow};
        ASSERT_TRUE(store_->createUser(user).ok());
        user_id_ = user.id;
    }

    std::optional<accounts::PortalSession> find(const std::string& token, Micros at) {
        auto found = accounts::findSession(store_->sql(), token, at);
        EXPECT_TRUE(found.ok()) << found.error().message;
        return found.ok() ? *found : std::nullopt;
    }

    testing::TempDir dir_;
    std::unique_ptr<store::Store> store_;
    std::string user_id_;
};

TEST_P(SessionsTest, UseKeepsASessionAliveUntilItsLifetimeEnds) {
    auto made = accounts::createSession(store_->sql(), user_id_, {}, kNow);
    ASSERT_TRUE(made.ok());

    Micros at = kNow;
    while (at + accounts::kSessionIdle / 2 < kNow + accounts::kSessionLifetime) {
        at += accounts::kSessionIdle / 2;
        ASSERT_TRUE(find(made->token, at).has_value()) << (at - kNow) / 3'600'000'000 << " h";
    }
    EXPECT_FALSE(find(made->token, kNow + accounts::kSessionLifetime).has_value());
}

TEST_P(SessionsTest, AnIdleSessionEnds) {
    auto made = accounts::createSession(store_->sql(), user_id_, {}, kNow);
    ASSERT_TRUE(made.ok());

    EXPECT_FALSE(find(made->token, kNow + accounts::kSessionIdle).has_value());
    EXPECT_FALSE(find("another token", kNow).has_value());
}

TEST_P(SessionsTest, PurgeRemovesEndedSessionsOnly) {
    auto ended = accounts::createSession(store_->sql(), user_id_, {}, kNow);
    auto live = accounts::createSession(store_->sql(), user_id_, {}, kNow + accounts::kSessionIdle);
    ASSERT_TRUE(ended.ok() && live.ok());

    auto removed = accounts::purgeExpiredSignIns(store_->sql(), kNow + accounts::kSessionIdle + 1);

    ASSERT_TRUE(removed.ok()) << removed.error().message;
    EXPECT_EQ(1, *removed);
    EXPECT_TRUE(find(live->token, kNow + accounts::kSessionIdle + 1).has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, SessionsTest, ::testing::ValuesIn(testing::storeKinds()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace esocore
