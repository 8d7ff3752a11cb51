#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/crypto.h"
#include "support/test_server.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::Headers;
using testing::HttpResult;
using testing::TestDevice;
using testing::TestServer;

class DeviceApiTest : public ::testing::TestWithParam<std::string> {
protected:
    TestServer server_{GetParam()};

    Headers deviceHeaders(const TestDevice& device) {
        return {{"X-Device-Id", device.serial}, {"X-Auth-Key", device.key}};
    }

    HttpResult sendBatch(const TestDevice& device, const std::string& body,
                         const std::string& key = newUuid()) {
        std::string compressed = testing::gzip(body);
        Headers headers = deviceHeaders(device);
        headers.emplace_back("Idempotency-Key", key);
        headers.emplace_back("Content-Encoding", "gzip");
        headers.emplace_back("Content-SHA256", sha256Hex(compressed));
        return server_.client().post("/api/iot/v1/telemetry/batch", compressed, headers);
    }
};

TEST_P(DeviceApiTest, AcceptsTheExampleBatch) {
    TestDevice device = server_.createDevice();
    std::string body = R"([
        {"ts": "2026-03-02T07:15:00.000Z", "series": "temp_ambient", "val": 18.4, "unit": "°C"},
        {"ts": "2026-03-02T07:16:40.000Z", "series": "power_outage", "val": null,
         "meta": {"event_type": "power", "severity": "critical"}}
    ])";
    HttpResult result = sendBatch(device, body);
    ASSERT_EQ(200, result.status) << result.body;
    json::value answer = json::parse(result.body);
    EXPECT_EQ(2, answer.at("accepted").as_int64());
    EXPECT_EQ(1, answer.at("points").as_int64());
    EXPECT_EQ(1, answer.at("events").as_int64());
}

INSTANTIATE_TEST_SUITE_P(Stores, DeviceApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
