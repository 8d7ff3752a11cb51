// The device API besides the batch (DESIGN §5): handshake, configuration, heartbeat, and the
// answers that slow a device down (429, 503).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>

#include "core/crypto.h"
#include "core/version.h"
#include "ota/firmware.h"
#include "support/device_test.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::DeviceClient;
using testing::HttpClient;
using testing::HttpResult;
using testing::makePoints;

constexpr Micros kSecond = 1'000'000;

class DeviceApiTest : public testing::DeviceTest {
protected:
    // The config answer's ETag for this device.
    std::string configETag() {
        HttpResult result = device_->get("config");
        EXPECT_EQ(200, result.status) << result.body;
        return result.header("etag");
    }
};

TEST_P(DeviceApiTest, AcceptsTheExampleBatch) {
    std::string body = R"([
        {"ts": "2026-03-02T07:15:00.000Z", "series": "temp_ambient", "val": 18.4, "unit": "°C"},
        {"ts": "2026-03-02T07:16:40.000Z", "series": "power_outage", "val": null,
         "meta": {"event_type": "power", "severity": "critical"}}
    ])";

    HttpResult result = device_->batch(body);

    ASSERT_EQ(200, result.status) << result.body;
    json::object answer = testing::jsonObject(result);
    EXPECT_EQ(2, answer.at("accepted").as_int64());
    EXPECT_EQ(1, answer.at("points").as_int64());
    EXPECT_EQ(1, answer.at("events").as_int64());
}

TEST_P(DeviceApiTest, HandshakeWithoutCredentialsAnswersNonceTimeAndVersion) {
    HttpResult result = HttpClient(server_->baseUrl()).post("/api/iot/v1/auth/handshake", "");

    ASSERT_EQ(200, result.status) << result.body;
    json::object answer = testing::jsonObject(result);
    EXPECT_FALSE(answer.at("nonce").as_string().empty());
    EXPECT_EQ(kVersion, answer.at("version").as_string());
    auto server_time = parseRfc3339(std::string(answer.at("server_time").as_string()));
    ASSERT_TRUE(server_time.has_value()) << answer;
    EXPECT_LT(std::llabs(nowMicros() - *server_time), 5 * kSecond);
    EXPECT_FALSE(answer.contains("status"));
}

TEST_P(DeviceApiTest, HandshakeNoncesDiffer) {
    HttpClient http(server_->baseUrl());

    json::object first = testing::jsonObject(http.post("/api/iot/v1/auth/handshake", "{}"));
    json::object second = testing::jsonObject(http.post("/api/iot/v1/auth/handshake", "{}"));

    EXPECT_NE(first.at("nonce"), second.at("nonce"));
}

TEST_P(DeviceApiTest, HandshakeWithCredentialsAddsTheDevicesState) {
    std::string body = R"({"device_id":")" + device_->device().serial + R"(","timestamp":")" +
                       formatRfc3339Millis(nowMicros()) + "\"}";

    HttpResult result = device_->post("auth/handshake", body);

    ASSERT_EQ(200, result.status) << result.body;
    json::object answer = testing::jsonObject(result);
    EXPECT_EQ(deviceId(), answer.at("device_id").as_string());
    EXPECT_EQ("active", answer.at("status").as_string());
    EXPECT_EQ("\"" + std::string(answer.at("config_version").as_string()) + "\"", configETag());
    EXPECT_FALSE(answer.at("update_available").as_bool());
    EXPECT_EQ(server_->app().firmware().publicKey(), answer.at("ota_public_key").as_string());
}

TEST_P(DeviceApiTest, HandshakeWithAWrongKeyIs401) {
    HttpResult result =
        HttpClient(server_->baseUrl())
            .post("/api/iot/v1/auth/handshake", "{}",
                  {{"X-Device-Id", device_->device().serial}, {"X-Auth-Key", "abc.wrong"}});

    EXPECT_EQ(401, result.status);
    EXPECT_EQ("invalid_credentials", testing::errorCode(result));
}

TEST_P(DeviceApiTest, HandshakeBodyThatIsNotAnObjectIs400) {
    HttpResult result = device_->post("auth/handshake", "[1]");

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("invalid_json", testing::errorCode(result));
}

TEST_P(DeviceApiTest, ConfigAnswersTheMergedSettingsWithAnETag) {
    HttpResult result = device_->get("config");

    ASSERT_EQ(200, result.status) << result.body;
    json::object config = testing::jsonObject(result);
    EXPECT_EQ(5, config.at("upload_interval_s").as_int64());
    EXPECT_FALSE(config.at("signing_required").as_bool());
    EXPECT_EQ("\"" + std::string(config.at("config_version").as_string()) + "\"",
              result.header("etag"));
}

TEST_P(DeviceApiTest, ConfigWithTheCurrentETagIs304) {
    std::string etag = configETag();

    HttpResult result = device_->get("config", {{"If-None-Match", etag}});

    EXPECT_EQ(304, result.status);
    EXPECT_EQ(etag, result.header("etag"));
    EXPECT_EQ("", result.body);
}

TEST_P(DeviceApiTest, ConfigWithTheETagInAListIs304) {
    std::string etag = configETag();

    EXPECT_EQ(304, device_->get("config", {{"If-None-Match", "\"older\", " + etag}}).status);
    EXPECT_EQ(304, device_->get("config", {{"If-None-Match", "W/" + etag}}).status);
}

TEST_P(DeviceApiTest, ConfigWithAnOldETagIs200) {
    HttpResult result = device_->get("config", {{"If-None-Match", "\"older\""}});

    EXPECT_EQ(200, result.status);
}

TEST_P(DeviceApiTest, DeviceOverridesChangeTheConfigAndItsETag) {
    std::string plain = configETag();
    start({}, R"({"upload_interval_s": 30, "thresholds": {"temp_stator": 80}})");

    HttpResult result = device_->get("config");

    ASSERT_EQ(200, result.status);
    json::object config = testing::jsonObject(result);
    EXPECT_EQ(30, config.at("upload_interval_s").as_int64());
    EXPECT_EQ(80, config.at("thresholds").at("temp_stator").as_int64());
    EXPECT_EQ(1000, config.at("sampling_ms").at("current_rms").as_int64());
    EXPECT_NE(plain, result.header("etag"));
}

TEST_P(DeviceApiTest, ProfileChangeForTheModelChangesTheETag) {
    std::string before = configETag();
    store::ConfigProfile profile;
    profile.organization_id = device_->device().organization_id;
    profile.model = "esocore-edge";
    profile.settings_json = R"({"window_s": 120})";
    ASSERT_TRUE(server_->store().saveConfigProfile(profile).ok());

    HttpResult result = device_->get("config", {{"If-None-Match", before}});

    ASSERT_EQ(200, result.status);
    EXPECT_EQ(120, testing::jsonObject(result).at("window_s").as_int64());
    EXPECT_NE(before, result.header("etag"));
}

TEST_P(DeviceApiTest, ConfigWithoutCredentialsIs401) {
    HttpResult result = HttpClient(server_->baseUrl()).get("/api/iot/v1/config");

    EXPECT_EQ(401, result.status);
    EXPECT_EQ("missing_credentials", testing::errorCode(result));
}

TEST_P(DeviceApiTest, HeartbeatUpdatesLastSeenAndHealth) {
    Micros before = nowMicros();

    HttpResult result = device_->post(
        "heartbeat", R"({"status":"ok","battery_pct":87,"sd":{"free_mb":1200},"rssi_dbm":-67,)"
                     R"("firmware_version":"1.4.2"})");

    ASSERT_EQ(200, result.status) << result.body;
    EXPECT_EQ("ok", testing::jsonObject(result).at("status").as_string());
    auto device = server_->store().findDevice(deviceId());
    ASSERT_TRUE(device.ok() && device->has_value());
    ASSERT_TRUE((*device)->last_seen.has_value());
    EXPECT_LE(before, *(*device)->last_seen);
    EXPECT_GE(nowMicros(), *(*device)->last_seen);
    EXPECT_EQ((*device)->last_seen, (*device)->first_seen);
    json::value health = json::parse((*device)->health_json);
    EXPECT_EQ(87, health.at("battery_pct").as_int64());
    EXPECT_EQ(1200, health.at("sd").at("free_mb").as_int64());
    EXPECT_EQ("1.4.2", (*device)->firmware_version);
}

TEST_P(DeviceApiTest, LaterHeartbeatKeepsTheFirstSeenTime) {
    ASSERT_EQ(200, device_->post("heartbeat", R"({"status":"ok"})").status);
    auto first = server_->store().findDevice(deviceId());
    ASSERT_TRUE(first.ok() && first->has_value());

    ASSERT_EQ(200, device_->post("heartbeat", R"({"status":"degraded"})").status);

    auto second = server_->store().findDevice(deviceId());
    ASSERT_TRUE(second.ok() && second->has_value());
    EXPECT_EQ((*first)->first_seen, (*second)->first_seen);
    EXPECT_LE(*(*first)->last_seen, *(*second)->last_seen);
    EXPECT_EQ("degraded", json::parse((*second)->health_json).at("status").as_string());
}

TEST_P(DeviceApiTest, HeartbeatThatIsNotJsonIs400) {
    HttpResult result = device_->post("heartbeat", "battery=87");

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("invalid_json", testing::errorCode(result));
}

TEST_P(DeviceApiTest, HeartbeatLargerThanSixteenKibibytesIs413) {
    std::string body = R"({"status":"ok","log":")" + std::string(20 * 1024, 'x') + "\"}";

    HttpResult result = device_->post("heartbeat", body);

    EXPECT_EQ(413, result.status);
    EXPECT_EQ("body_too_large", testing::errorCode(result));
    auto device = server_->store().findDevice(deviceId());
    ASSERT_TRUE(device.ok() && device->has_value());
    EXPECT_FALSE((*device)->last_seen.has_value());
}

TEST_P(DeviceApiTest, BatchMarksTheDeviceSeen) {
    Micros before = nowMicros();

    ASSERT_EQ(200, device_->batch(makePoints(1)).status);

    auto device = server_->store().findDevice(deviceId());
    ASSERT_TRUE(device.ok() && device->has_value());
    ASSERT_TRUE((*device)->last_seen.has_value());
    EXPECT_LE(before, *(*device)->last_seen);
}

TEST_P(DeviceApiTest, BatchesPastTheRateAre429WithRetryAfter) {
    start([](Config& c) {
        c.device_rate_per_second = 0.01;
        c.device_rate_burst = 2;
    });
    ASSERT_EQ(200, device_->batch(makePoints(1, "a")).status);
    ASSERT_EQ(200, device_->batch(makePoints(1, "b")).status);

    HttpResult result = device_->batch(makePoints(1, "c"));

    EXPECT_EQ(429, result.status);
    EXPECT_EQ("rate_limited", testing::errorCode(result));
    int retry_after = std::atoi(result.header("retry-after").c_str());
    EXPECT_GE(retry_after, 1);
    EXPECT_LE(retry_after, 100);
    EXPECT_EQ(2, rows_->pointCount(deviceId()));
    EXPECT_EQ(2, rows_->packetCount(deviceId()));
}

TEST_P(DeviceApiTest, RateIsCountedPerDevice) {
    start([](Config& c) {
        c.device_rate_per_second = 0.01;
        c.device_rate_burst = 1;
    });
    ASSERT_EQ(200, device_->batch(makePoints(1)).status);
    ASSERT_EQ(429, device_->batch(makePoints(1)).status);
    DeviceClient other(*server_, server_->createDevice());

    EXPECT_EQ(200, other.batch(makePoints(1)).status);
}

TEST_P(DeviceApiTest, MaintenanceModeAnswers503WithRetryAfter) {
    start([](Config& c) {
        c.maintenance = true;
        c.maintenance_retry_after = 120;
    });

    HttpResult batch = device_->batch(makePoints(2));

    expectRefused(batch, 503, "maintenance");
    EXPECT_EQ("120", batch.header("retry-after"));
    for (HttpResult result :
         {device_->get("config"), device_->post("heartbeat", "{}"),
          device_->post("auth/handshake", "{}"), device_->get("ota/check?version=1.0.0"),
          device_->post("ota/report", R"({"status":"downloading"})")}) {
        EXPECT_EQ(503, result.status) << result.body;
        EXPECT_EQ("maintenance", testing::errorCode(result));
        EXPECT_EQ("120", result.header("retry-after"));
    }
}

TEST_P(DeviceApiTest, HealthAnswersInMaintenanceMode) {
    start([](Config& c) { c.maintenance = true; });

    EXPECT_EQ(200, HttpClient(server_->baseUrl()).get("/healthz").status);
}

INSTANTIATE_TEST_SUITE_P(Stores, DeviceApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
