// /ws and POST /api/live/ticket over real HTTP and real WebSockets, on both stores: who may
// connect (session cookie from a real sign-in, its Origin, JWT, API token, single-use
// tickets), when a connection ends (login expired: 4401; server stopping: 1001), pings, and
// the slow consumer whose queue overflows (4008) while the server's queue metrics stay bounded.
#include "api/live_api.h"

#include <gtest/gtest.h>

#include <thread>

#include "accounts/access_tokens.h"
#include "accounts/sessions.h"
#include "core/crypto.h"
#include "live/live_fixture.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::Headers;
using testing::WebSocketClient;

class LiveApiTest : public testing::LiveTest {
protected:
    void SetUp() override {
        LiveTest::SetUp();
        email_ = "ada-" + randomToken(4) + "@example.com";
        user_id_ = addPasswordUser(email_, org_, auth::Role::operator_);
    }

    // A ticket for `user`, checked against the OpenAPI document.
    std::string ticketFor(const testing::ApiUser& user) {
        auto answer = call("POST", "/api/live/ticket", user);
        EXPECT_EQ(201, answer.status) << answer.raw.body;
        return answer["ticket"].is_string() ? std::string(answer["ticket"].as_string()) : "";
    }

    std::string email_;
    std::string user_id_;
};

TEST_P(LiveApiTest, SessionCookieFromSignInOpensTheSocket) {
    auto session = signIn(email_);
    auto ws = connectWith({{"Cookie", session.cookie}});
    ASSERT_EQ(101, ws->handshakeStatus()) << ws->refusalBody();
    subscribe(*ws, "devices");
}

TEST_P(LiveApiTest, SessionCookieFromThisServersOriginIsAccepted) {
    auto session = signIn(email_);
    std::string origin = "http://127.0.0.1:" + std::to_string(port());
    auto ws = connectWith({{"Cookie", session.cookie}, {"Origin", origin}});
    EXPECT_EQ(101, ws->handshakeStatus()) << ws->refusalBody();
}

TEST_P(LiveApiTest, SessionCookieFromAnotherOriginIsRefused) {
    auto session = signIn(email_);
    auto ws = connectWith({{"Cookie", session.cookie}, {"Origin", "https://evil.example"}});
    EXPECT_EQ(403, ws->handshakeStatus());
    EXPECT_NE(std::string::npos, ws->refusalBody().find("origin_not_allowed")) << ws->refusalBody();
}

TEST_P(LiveApiTest, ConfiguredPublicUrlIsAnAllowedOrigin) {
    start([](Config& config) { config.public_url = "https://portal.example.com"; });
    addPasswordUser(email_, org_, auth::Role::viewer);
    auto session = signIn(email_);
    auto ws = connectWith({{"Cookie", session.cookie}, {"Origin", "https://portal.example.com"}});
    EXPECT_EQ(101, ws->handshakeStatus()) << ws->refusalBody();
}

TEST_P(LiveApiTest, NoCredentialsAreRefusedWith401) {
    auto ws = connectWith({});
    EXPECT_EQ(401, ws->handshakeStatus());
    EXPECT_NE(std::string::npos, ws->refusalBody().find("not_authenticated"));
}

TEST_P(LiveApiTest, PlainGetWithoutUpgradeAnswers426) {
    auto answer = call("GET", "/ws", owner_);
    EXPECT_EQ(426, answer.status);
    EXPECT_EQ("upgrade_required", answer.errorCode());
    EXPECT_EQ("websocket", answer.raw.header("upgrade"));
}

TEST_P(LiveApiTest, BearerAccessTokenOpensTheSocket) {
    std::string token = accessToken(email_);
    auto ws = connectWith({{"Authorization", "Bearer " + token}});
    ASSERT_EQ(101, ws->handshakeStatus()) << ws->refusalBody();
    subscribe(*ws, "events");
}

TEST_P(LiveApiTest, ApiTokenOpensTheSocket) {
    auto ws = connect(owner_);
    ASSERT_EQ(101, ws->handshakeStatus()) << ws->refusalBody();
    subscribe(*ws, "alerts");
}

TEST_P(LiveApiTest, TicketOpensOneConnectionOnce) {
    std::string ticket = ticketFor(owner_);
    ASSERT_EQ(43u, ticket.size());
    auto first = connectWith({}, "/ws?ticket=" + ticket);
    ASSERT_EQ(101, first->handshakeStatus()) << first->refusalBody();
    subscribe(*first, "devices");

    auto again = connectWith({}, "/ws?ticket=" + ticket);
    EXPECT_EQ(401, again->handshakeStatus());
    EXPECT_NE(std::string::npos, again->refusalBody().find("not_authenticated"));
}

TEST_P(LiveApiTest, TicketAnswerCarriesItsExpiry) {
    auto answer = call("POST", "/api/live/ticket", owner_);
    ASSERT_EQ(201, answer.status) << answer.raw.body;
    auto expires = parseRfc3339(answer["expires_at"].as_string());
    ASSERT_TRUE(expires.has_value());
    Micros left = *expires - nowMicros();
    EXPECT_GT(left, 25'000'000);
    EXPECT_LE(left, 30'000'000);
}

TEST_P(LiveApiTest, ExpiredTicketIsRefused) {
    std::string ticket = ticketFor(owner_);
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("UPDATE live_tickets SET expires_at = $1 WHERE id = $2",
                             {nowMicros() - 1, sha256Hex(ticket)})
                    .ok());
    auto ws = connectWith({}, "/ws?ticket=" + ticket);
    EXPECT_EQ(401, ws->handshakeStatus());
}

TEST_P(LiveApiTest, UnknownTicketIsRefused) {
    auto ws = connectWith({}, "/ws?ticket=" + randomToken(32));
    EXPECT_EQ(401, ws->handshakeStatus());
}

TEST_P(LiveApiTest, TicketNeedsASignedInCaller) {
    auto answer = server_->client().post("/api/live/ticket", "");
    EXPECT_EQ(401, answer.status);
}

TEST_P(LiveApiTest, TicketWithASessionNeedsTheCsrfToken) {
    auto session = signIn(email_);
    auto refused = server_->client().post("/api/live/ticket", "", {{"Cookie", session.cookie}});
    EXPECT_EQ(403, refused.status);
    EXPECT_EQ("csrf_failed", testing::errorCode(refused));
    auto made = server_->client().post(
        "/api/live/ticket", "", {{"Cookie", session.cookie}, {"X-CSRF-Token", session.csrf}});
    EXPECT_EQ(201, made.status) << made.body;
}

TEST_P(LiveApiTest, SignedOutSessionClosesWith4401) {
    auto session = signIn(email_);
    auto ws = connectWith({{"Cookie", session.cookie}});
    ASSERT_EQ(101, ws->handshakeStatus());
    subscribe(*ws, "devices");
    auto out = server_->client().post("/api/auth/logout", "",
                                      {{"Cookie", session.cookie}, {"X-CSRF-Token", session.csrf}});
    ASSERT_EQ(204, out.status) << out.body;
    EXPECT_EQ(4401, ws->closeCode(std::chrono::seconds(5)));
}

TEST_P(LiveApiTest, SessionPastItsIdleLimitClosesWith4401) {
    auto session = signIn(email_);
    auto ws = connectWith({{"Cookie", session.cookie}});
    ASSERT_EQ(101, ws->handshakeStatus());
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("UPDATE sessions SET last_seen_at = $1 WHERE user_id = $2",
                             {nowMicros() - accounts::kSessionIdle - 1'000'000, user_id_})
                    .ok());
    EXPECT_EQ(4401, ws->closeCode(std::chrono::seconds(5)));
}

TEST_P(LiveApiTest, ExpiredAccessTokenClosesWith4401) {
    // A token issued so that it ends a second from now.
    accounts::AccessTokens tokens(server_->app().config().secret_key);
    auto token = tokens.issue(user_id_, nowMicros() - accounts::kAccessLifetime + 1'500'000);
    ASSERT_TRUE(token.ok());
    auto ws = connectWith({{"Authorization", "Bearer " + *token}});
    ASSERT_EQ(101, ws->handshakeStatus()) << ws->refusalBody();
    subscribe(*ws, "devices");
    EXPECT_EQ(4401, ws->closeCode(std::chrono::seconds(5)));
}

TEST_P(LiveApiTest, RevokedApiTokenClosesWith4401) {
    auto ws = connect(owner_);
    ASSERT_EQ(101, ws->handshakeStatus());
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2",
                             {nowMicros(), owner_.id})
                    .ok());
    EXPECT_EQ(4401, ws->closeCode(std::chrono::seconds(5)));
}

TEST_P(LiveApiTest, TicketConnectionEndsWithTheSessionThatAskedForIt) {
    auto session = signIn(email_);
    auto made = server_->client().post(
        "/api/live/ticket", "", {{"Cookie", session.cookie}, {"X-CSRF-Token", session.csrf}});
    ASSERT_EQ(201, made.status) << made.body;
    std::string ticket(testing::jsonObject(made).at("ticket").as_string());
    auto ws = connectWith({}, "/ws?ticket=" + ticket);
    ASSERT_EQ(101, ws->handshakeStatus()) << ws->refusalBody();
    subscribe(*ws, "devices");
    server_->client().post("/api/auth/logout", "",
                           {{"Cookie", session.cookie}, {"X-CSRF-Token", session.csrf}});
    EXPECT_EQ(4401, ws->closeCode(std::chrono::seconds(5)));
}

TEST_P(LiveApiTest, DeactivatedAccountClosesWith4401) {
    auto ws = connect(owner_);
    ASSERT_EQ(101, ws->handshakeStatus());
    ASSERT_TRUE(
        server_->store()
            .sql()
            .execute("UPDATE users SET is_active = $1 WHERE id = $2", {std::int64_t{0}, owner_.id})
            .ok());
    EXPECT_EQ(4401, ws->closeCode(std::chrono::seconds(5)));
}

TEST_P(LiveApiTest, ServerPingsAtItsInterval) {
    auto ws = connect(owner_);
    ASSERT_EQ(101, ws->handshakeStatus());
    // The client answers pings only while it reads; a subscription keeps it reading.
    subscribe(*ws, "devices");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    EXPECT_GE(ws->pingsReceived(), 3);
    EXPECT_LE(ws->pingsReceived(), 7);
}

TEST_P(LiveApiTest, ShutdownClosesWith1001) {
    auto ws = connect(owner_);
    ASSERT_EQ(101, ws->handshakeStatus());
    subscribe(*ws, "devices");
    std::thread stopper([this] { server_->stop(); });
    EXPECT_EQ(1001, ws->closeCode(std::chrono::seconds(10)));
    stopper.join();
}

TEST_P(LiveApiTest, InvalidMessagesAnswerWithAnErrorAndKeepTheConnection) {
    auto ws = connect(owner_);
    ASSERT_EQ(101, ws->handshakeStatus());
    ws->send(std::string("not json"));
    EXPECT_EQ("invalid_message", std::string(ws->nextJson().at("code").as_string()));
    ws->send(json::object{{"type", "shout"}, {"channel", "devices"}, {"id", 7}});
    auto unknown = ws->nextJson();
    EXPECT_EQ("invalid_message", std::string(unknown.at("code").as_string()));
    EXPECT_EQ(7, unknown.at("id").as_int64());
    for (std::string channel : {"", "everything", "device:", "telemetry:", "telemetry:x:"}) {
        auto answer = request(*ws, "subscribe", channel);
        EXPECT_EQ("error", testing::typeOf(answer)) << channel;
        EXPECT_EQ("invalid_channel", std::string(answer.at("code").as_string())) << channel;
    }
    subscribe(*ws, "devices");
}

TEST_P(LiveApiTest, MetricsCountConnectionsSubscriptionsAndMessages) {
    double connections = metric("esocore_ws_connections");
    double subscriptions = metric("esocore_ws_subscriptions");
    double sent = metric("esocore_ws_messages_sent_total");
    auto ws = connect(owner_);
    ASSERT_EQ(101, ws->handshakeStatus());
    subscribe(*ws, "devices");
    subscribe(*ws, "events");
    EXPECT_EQ(connections + 1, metric("esocore_ws_connections"));
    EXPECT_EQ(subscriptions + 2, metric("esocore_ws_subscriptions"));
    EXPECT_EQ(sent + 2, metric("esocore_ws_messages_sent_total"));
    EXPECT_EQ("unsubscribed", testing::typeOf(request(*ws, "unsubscribe", "events")));
    EXPECT_EQ(subscriptions + 1, metric("esocore_ws_subscriptions"));
    ws.reset();
    for (int i = 0; i < 50 && metric("esocore_ws_connections") != connections; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(connections, metric("esocore_ws_connections"));
    EXPECT_EQ(subscriptions, metric("esocore_ws_subscriptions"));
}

// A client that stops reading while telemetry flows: its queue overflows into a close with
// 4008, and the server's queued bytes and messages never pass one connection's limits.
TEST_P(LiveApiTest, SlowConsumerIsClosedWith4008AndTheQueueStaysBounded) {
    constexpr int kQueueMessages = 64;
    constexpr std::int64_t kQueueBytes = 16 * 1024;
    start([](Config& config) {
        config.live_ping_ms = 30'000;
        config.live_queue_messages = kQueueMessages;
        config.live_queue_bytes = kQueueBytes;
    });
    auto device = addDevice(org_);
    double connections = metric("esocore_ws_connections");
    auto ws = std::make_unique<WebSocketClient>(
        port(), "/ws", testing::WebSocketClientOptions{owner_.headers(), 4096});
    ASSERT_EQ(101, ws->handshakeStatus());
    subscribe(*ws, "telemetry:" + device.id);
    double closes = metric("esocore_ws_slow_consumer_closes_total");
    double dropped = metric("esocore_ws_messages_dropped_total");
    ws->pauseReading();

    // Each batch: 200 series, so 200 messages of about 200 bytes.
    Micros ts = testing::recordEpoch();
    double peak_bytes = 0;
    double peak_messages = 0;
    for (int batch = 0; batch < 60 && metric("esocore_ws_slow_consumer_closes_total") == closes;
         ++batch) {
        std::string records = "[";
        for (int s = 0; s < 200; ++s) {
            records.append(s > 0 ? "," : "")
                .append(testing::makePoint("vibration_axis_" + std::to_string(s), ts,
                                           std::to_string(batch)));
        }
        ts += 1'000'000;
        upload(device, records.append("]"));
        peak_bytes = std::max(peak_bytes, metric("esocore_ws_queue_bytes"));
        peak_messages = std::max(peak_messages, metric("esocore_ws_queue_messages"));
    }
    EXPECT_EQ(closes + 1, metric("esocore_ws_slow_consumer_closes_total"));
    EXPECT_GT(metric("esocore_ws_messages_dropped_total"), dropped);
    EXPECT_LE(peak_bytes, static_cast<double>(kQueueBytes));
    EXPECT_LE(peak_messages, static_cast<double>(kQueueMessages));
    EXPECT_EQ(0, metric("esocore_ws_queue_bytes"));

    EXPECT_EQ(4008, ws->closeCode(std::chrono::seconds(10)));
    for (int i = 0; i < 100 && metric("esocore_ws_connections") != connections; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(connections, metric("esocore_ws_connections"));
    EXPECT_EQ(0, metric("esocore_ws_queue_messages"));
}

INSTANTIATE_TEST_SUITE_P(Stores, LiveApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
