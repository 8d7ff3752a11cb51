#pragma once

// A real server with live updates turned quick for tests (pings every 200 ms, devices offline
// after 1 s, the offline check every second), organizations and users from ApiTest, and real
// WebSocket clients.

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <string>

#include "support/api_fixture.h"
#include "support/device_client.h"
#include "support/websocket_client.h"

namespace esocore::testing {

/// A portal session after signing in with email and password.
struct BrowserSession {
    std::string cookie;  // "esocore_session=..."
    std::string csrf;
};

class LiveTest : public ApiTest {
protected:
    void SetUp() override { start(); }

    /// (Re)starts the server; `adjust` changes the configuration after the test defaults.
    void start(std::function<void(Config&)> adjust = {});

    unsigned short port() const;

    /// A WebSocket to `target` as `user` (its API token).
    std::unique_ptr<WebSocketClient> connect(const ApiUser& user,
                                             const std::string& target = "/ws");
    std::unique_ptr<WebSocketClient> connectWith(const Headers& headers,
                                                 const std::string& target = "/ws");

    /// Sends {"type": type, "channel": channel} and returns the answer.
    boost::json::object request(WebSocketClient& ws, const std::string& type,
                                const std::string& channel);
    /// Subscribes and checks the answer is "subscribed".
    void subscribe(WebSocketClient& ws, const std::string& channel);

    /// A user with a password and a membership, who signs in through /api/auth/login.
    std::string addPasswordUser(const std::string& email, const std::string& organization_id,
                                auth::Role role);
    BrowserSession signIn(const std::string& email);
    /// A JWT access token from /api/auth/login ("mode": "token").
    std::string accessToken(const std::string& email);

    /// The device reports a heartbeat (it comes online when it was offline).
    void heartbeat(const TestDevice& device);
    /// The device uploads `records` (a JSON array) and gets a 200.
    void upload(const TestDevice& device, const std::string& records);

    /// A sample's value in /metrics (0 when absent).
    double metric(const std::string& sample);

    static constexpr const char* kPassword = "correct horse battery";
};

/// The "type" of a message, or empty.
std::string typeOf(const boost::json::object& message);
/// data.<key> of a message as text, or empty.
std::string dataText(const boost::json::object& message, const std::string& key);

}  // namespace esocore::testing
