#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "support/http_client.h"
#include "support/test_server.h"

namespace esocore::testing {

inline constexpr const char* kDeviceApi = "/api/iot/v1/";

/// How a batch is sent.
struct BatchOptions {
    /// "gzip" and "zstd" compress the body; "identity" sends it as is without the header; any
    /// other value is sent as the Content-Encoding header over the uncompressed body.
    std::string encoding = "gzip";
    /// A fresh UUID when unset; an empty string sends no Idempotency-Key.
    std::optional<std::string> idempotency_key;
    /// Sends Content-SHA256 of the body as sent.
    bool checksum = true;
    Headers headers;
};

/// A device talking to a test server over HTTP with its serial number and key.
class DeviceClient {
public:
    DeviceClient(const TestServer& server, TestDevice device);

    const TestDevice& device() const { return device_; }

    /// X-Device-Id (the serial number) and X-Auth-Key.
    Headers credentials() const;

    /// POST telemetry/batch with the records (a JSON array as text).
    HttpResult batch(const std::string& records, const BatchOptions& options = {});

    /// Requests under /api/iot/v1/, with the credentials and then `headers`.
    HttpResult get(const std::string& endpoint, const Headers& headers = {});
    HttpResult post(const std::string& endpoint, const std::string& body,
                    const Headers& headers = {});

private:
    HttpClient http_;
    TestDevice device_;
};

/// The body of a batch as sent on the wire for `options.encoding`.
std::string encodeBatch(const std::string& records, const std::string& encoding);

/// X-Timestamp and X-Signature for a device whose profile requires signing.
Headers signatureHeaders(const std::string& key, const std::string& body, Micros at);

/// The `error.code` of an error answer, or empty.
std::string errorCode(const HttpResult& result);

/// The answer's body as a JSON object; an empty object when it is not one.
boost::json::object jsonObject(const HttpResult& result);

/// An RFC 3339 time `seconds` from now, whole seconds, UTC.
std::string secondsFromNow(std::int64_t seconds);

/// A fixed time for the records of one test process: whole seconds, a day before it started.
Micros recordEpoch();

/// A point record; `val` is JSON text, so that numbers JSON can write but a double cannot hold
/// can be sent as written.
std::string makePoint(const std::string& series, Micros ts, const std::string& val);

/// A batch of `count` points of `series`, one second apart from `first`.
std::string makePoints(int count, const std::string& series = "temp_ambient",
                       Micros first = recordEpoch());

}  // namespace esocore::testing
