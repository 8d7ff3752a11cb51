#include "live/live_fixture.h"

#include <sstream>

#include "core/crypto.h"

namespace esocore::testing {

namespace json = boost::json;

namespace {

json::object parsed(const HttpResult& result) {
    json::error_code ec;
    json::value value = json::parse(result.body, ec);
    return !ec && value.is_object() ? value.as_object() : json::object{};
}

}  // namespace

void LiveTest::start(std::function<void(Config&)> adjust) {
    server_.reset();
    server_ = std::make_unique<TestServer>(GetParam(), [adjust](Config& config) {
        config.live_ping_ms = 200;
        config.default_offline_timeout_seconds = 1;
        config.offline_check_seconds = 1;
        config.device_rate_per_second = 1000;
        config.device_rate_burst = 1000;
        if (adjust) {
            adjust(config);
        }
    });
    org_ = addOrganization("Acme Doors");
    owner_ = addUser(org_, auth::Role::owner);
    other_org_ = addOrganization("Other Works");
    other_owner_ = addUser(other_org_, auth::Role::owner);
}

unsigned short LiveTest::port() const {
    std::string url = server_->baseUrl();
    return static_cast<unsigned short>(std::stoi(url.substr(url.rfind(':') + 1)));
}

std::unique_ptr<WebSocketClient> LiveTest::connect(const ApiUser& user, const std::string& target) {
    return connectWith(user.headers(), target);
}

std::unique_ptr<WebSocketClient> LiveTest::connectWith(const Headers& headers,
                                                       const std::string& target) {
    return std::make_unique<WebSocketClient>(port(), target, WebSocketClientOptions{headers, 0});
}

json::object LiveTest::request(WebSocketClient& ws, const std::string& type,
                               const std::string& channel) {
    ws.send(json::object{{"type", type}, {"channel", channel}});
    return ws.nextJson();
}

void LiveTest::subscribe(WebSocketClient& ws, const std::string& channel) {
    json::object answer = request(ws, "subscribe", channel);
    EXPECT_EQ("subscribed", typeOf(answer)) << json::serialize(answer);
}

std::string LiveTest::addPasswordUser(const std::string& email, const std::string& organization_id,
                                      auth::Role role) {
    store::User user{newUuid(), email, "Live Tester", hashPassword(kPassword),
                     false,     "UTC", nowMicros()};
    EXPECT_TRUE(server_->store().createUser(user).ok());
    EXPECT_TRUE(server_->store()
                    .addMembership(user.id, organization_id, std::string(auth::roleName(role)))
                    .ok());
    return user.id;
}

BrowserSession LiveTest::signIn(const std::string& email) {
    json::object body{{"email", email}, {"password", kPassword}};
    HttpResult result = server_->client().post("/api/auth/login", json::serialize(body),
                                               {{"Content-Type", "application/json"}});
    EXPECT_EQ(200, result.status) << result.body;
    std::string cookie = result.header("set-cookie");
    json::object answer = parsed(result);
    const json::value* csrf = answer.if_contains("csrf_token");
    return BrowserSession{cookie.substr(0, cookie.find(';')), csrf != nullptr && csrf->is_string()
                                                                  ? std::string(csrf->as_string())
                                                                  : std::string()};
}

std::string LiveTest::accessToken(const std::string& email) {
    json::object body{{"email", email}, {"password", kPassword}, {"mode", "token"}};
    HttpResult result = server_->client().post("/api/auth/login", json::serialize(body),
                                               {{"Content-Type", "application/json"}});
    EXPECT_EQ(200, result.status) << result.body;
    json::object answer = parsed(result);
    const json::value* token = answer.if_contains("access_token");
    return token != nullptr && token->is_string() ? std::string(token->as_string()) : "";
}

void LiveTest::heartbeat(const TestDevice& device) {
    DeviceClient client(*server_, device);
    HttpResult result = client.post("heartbeat", R"({"battery": 90})");
    EXPECT_EQ(200, result.status) << result.body;
}

void LiveTest::upload(const TestDevice& device, const std::string& records) {
    DeviceClient client(*server_, device);
    HttpResult result = client.batch(records);
    EXPECT_EQ(200, result.status) << result.body;
}

double LiveTest::metric(const std::string& sample) {
    HttpResult result = server_->client().get("/metrics");
    std::istringstream lines(result.body);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() > sample.size() && line.compare(0, sample.size(), sample) == 0 &&
            line[sample.size()] == ' ') {
            return std::stod(line.substr(sample.size() + 1));
        }
    }
    return 0;
}

std::string typeOf(const json::object& message) {
    const json::value* type = message.if_contains("type");
    return type != nullptr && type->is_string() ? std::string(type->as_string()) : "";
}

std::string dataText(const json::object& message, const std::string& key) {
    const json::value* data = message.if_contains("data");
    if (data == nullptr || !data->is_object()) {
        return {};
    }
    const json::value* value = data->as_object().if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

}  // namespace esocore::testing
