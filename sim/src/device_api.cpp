#include "device_api.h"

#include <algorithm>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <string>

#include "timestamp.h"

namespace esocore::sim {
namespace {

namespace http = boost::beast::http;

HttpRequest deviceRequest(http::verb method, const DeviceCredentials& device,
                          std::string_view base_path, std::string_view endpoint) {
    HttpRequest request{method, std::string(base_path) + "/api/iot/v1/" + std::string(endpoint),
                        11};
    request.set("X-Device-Id", device.id);
    request.set("X-Auth-Key", device.key);
    request.set(http::field::user_agent, "esocore-sim/" + std::string(kFirmwareVersion));
    request.set(http::field::accept, "application/json");
    return request;
}

HttpRequest jsonRequest(const DeviceCredentials& device, std::string_view base_path,
                        std::string_view endpoint, const boost::json::object& body) {
    HttpRequest request = deviceRequest(http::verb::post, device, base_path, endpoint);
    request.set(http::field::content_type, "application/json");
    request.body() = boost::json::serialize(body);
    request.prepare_payload();
    return request;
}

}  // namespace

HttpRequest handshakeRequest(const DeviceCredentials& device, std::string_view base_path,
                             std::int64_t device_now_ms) {
    return jsonRequest(device, base_path, "auth/handshake",
                       {{"device_id", device.id}, {"timestamp", formatRfc3339Ms(device_now_ms)}});
}

HttpRequest configRequest(const DeviceCredentials& device, std::string_view base_path,
                          std::string_view etag) {
    HttpRequest request = deviceRequest(http::verb::get, device, base_path, "config");
    if (!etag.empty()) {
        request.set(http::field::if_none_match, etag);
    }
    request.prepare_payload();
    return request;
}

HttpRequest heartbeatRequest(const DeviceCredentials& device, std::string_view base_path,
                             const HealthReport& health) {
    return jsonRequest(device, base_path, "heartbeat",
                       {{"status", "ok"},
                        {"sd_free_mb", health.sd_free_mb},
                        {"battery_pct", health.battery_pct},
                        {"signal_dbm", health.signal_dbm},
                        {"backlog_records", health.backlog_records},
                        {"firmware_version", health.firmware_version}});
}

HttpRequest batchRequest(const DeviceCredentials& device, std::string_view base_path,
                         const SealedBatch& batch) {
    HttpRequest request = deviceRequest(http::verb::post, device, base_path, "telemetry/batch");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::content_encoding, encodingName(batch.encoding));
    request.set("Idempotency-Key", batch.idempotency_key);
    request.set("Content-SHA256", batch.body_sha256);
    request.body() = batch.body;
    request.prepare_payload();
    return request;
}

std::optional<std::chrono::seconds> uploadIntervalFrom(std::string_view config_body) {
    boost::system::error_code error;
    const boost::json::value config = boost::json::parse(config_body, error);
    const auto* interval = !error && config.is_object()
                               ? config.as_object().if_contains("upload_interval_s")
                               : nullptr;
    if (interval == nullptr || !interval->is_number()) {
        return std::nullopt;
    }
    const auto seconds = interval->to_number<double>(error);
    if (error || seconds <= 0.0) {
        return std::nullopt;
    }
    return std::chrono::seconds{std::max<std::int64_t>(1, std::llround(seconds))};
}

}  // namespace esocore::sim
