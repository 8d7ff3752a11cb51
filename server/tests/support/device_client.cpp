#include "support/device_client.h"

#include <boost/json/parse.hpp>

#include "core/crypto.h"

namespace esocore::testing {

namespace json = boost::json;

DeviceClient::DeviceClient(const TestServer& server, TestDevice device)
    : http_(server.baseUrl()), device_(std::move(device)) {}

Headers DeviceClient::credentials() const {
    return {{"X-Device-Id", device_.serial}, {"X-Auth-Key", device_.key}};
}

HttpResult DeviceClient::batch(const std::string& records, const BatchOptions& options) {
    std::string body = encodeBatch(records, options.encoding);
    Headers headers = credentials();
    std::string key = options.idempotency_key.value_or(newUuid());
    if (!key.empty()) {
        headers.emplace_back("Idempotency-Key", key);
    }
    if (options.encoding != "identity") {
        headers.emplace_back("Content-Encoding", options.encoding);
    }
    if (options.checksum) {
        headers.emplace_back("Content-SHA256", sha256Hex(body));
    }
    headers.insert(headers.end(), options.headers.begin(), options.headers.end());
    return http_.post(std::string(kDeviceApi) + "telemetry/batch", body, headers);
}

HttpResult DeviceClient::get(const std::string& endpoint, const Headers& headers) {
    Headers all = credentials();
    all.insert(all.end(), headers.begin(), headers.end());
    return http_.get(kDeviceApi + endpoint, all);
}

HttpResult DeviceClient::post(const std::string& endpoint, const std::string& body,
                              const Headers& headers) {
    Headers all = credentials();
    all.insert(all.end(), headers.begin(), headers.end());
    return http_.post(kDeviceApi + endpoint, body, all);
}

std::string encodeBatch(const std::string& records, const std::string& encoding) {
    if (encoding == "gzip") {
        return gzip(records);
    }
    if (encoding == "zstd") {
        return zstd(records);
    }
    return records;
}

Headers signatureHeaders(const std::string& key, const std::string& body, Micros at) {
    std::string timestamp = std::to_string(at / 1'000'000);
    return {{"X-Timestamp", timestamp},
            {"X-Signature", "sha256=" + hmacSha256Hex(key, timestamp + "." + body)}};
}

std::string errorCode(const HttpResult& result) {
    json::object body = jsonObject(result);
    const json::value* error = body.if_contains("error");
    if (error == nullptr || !error->is_object()) {
        return {};
    }
    const json::value* code = error->get_object().if_contains("code");
    return code != nullptr && code->is_string() ? std::string(code->get_string()) : std::string();
}

json::object jsonObject(const HttpResult& result) {
    json::error_code ec;
    json::value body = json::parse(result.body, ec);
    if (ec || !body.is_object()) {
        return {};
    }
    return std::move(body.as_object());
}

std::string secondsFromNow(std::int64_t seconds) {
    return formatRfc3339Millis((nowMicros() / 1'000'000 + seconds) * 1'000'000);
}

Micros recordEpoch() {
    static const Micros epoch = (nowMicros() / 1'000'000 - 86'400) * 1'000'000;
    return epoch;
}

std::string makePoint(const std::string& series, Micros ts, const std::string& val) {
    return R"({"ts":")" + formatRfc3339Micros(ts) + R"(","series":")" + series + R"(","val":)" +
           val + R"(,"unit":"C"})";
}

std::string makePoints(int count, const std::string& series, Micros first) {
    std::string records = "[";
    for (int i = 0; i < count; ++i) {
        if (i > 0) {
            records += ',';
        }
        records += makePoint(series, first + Micros{i} * 1'000'000, std::to_string(20 + i));
    }
    return records + "]";
}

}  // namespace esocore::testing
