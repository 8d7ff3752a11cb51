#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "batch_builder.h"
#include "fleet.h"
#include "record.h"

namespace esocore::sim {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// What a heartbeat tells the server about the device's health.
struct HealthReport {
    std::int64_t sd_free_mb = 0;
    int battery_pct = 100;
    int signal_dbm = -70;
    std::size_t backlog_records = 0;
    std::string firmware_version{kFirmwareVersion};
};

/// `POST auth/handshake`, stamped with the device's clock.
HttpRequest handshakeRequest(const DeviceCredentials& device, std::string_view base_path,
                             std::int64_t device_now_ms);

/// `GET config`, conditional on `etag` when the device has one.
HttpRequest configRequest(const DeviceCredentials& device, std::string_view base_path,
                          std::string_view etag);

/// `POST heartbeat`.
HttpRequest heartbeatRequest(const DeviceCredentials& device, std::string_view base_path,
                             const HealthReport& health);

/// `POST telemetry/batch` carrying a sealed batch's exact bytes and key.
HttpRequest batchRequest(const DeviceCredentials& device, std::string_view base_path,
                         const SealedBatch& batch);

/// `upload_interval_s` from a config document, when present and positive.
std::optional<std::chrono::seconds> uploadIntervalFrom(std::string_view config_body);

}  // namespace esocore::sim
