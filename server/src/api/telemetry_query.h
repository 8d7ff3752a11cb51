#pragma once

// What the telemetry routes read from a request: the device, the time range, the metrics.

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/management.h"

namespace esocore::api {

/// A device whose telemetry is asked for.
struct TelemetryDevice {
    std::string id;
    std::string organization_id;
    std::string site_id;
    std::string serial;
};

/// The device of the query parameter `device_id` when the principal may perform `action` on
/// it: 400 invalid_parameter when absent, 404 not_found (one body) when malformed, missing or
/// not visible to the principal, 403 permission_denied when visible but not allowed.
Result<TelemetryDevice> requestedDevice(store::SqlSession& sql, const http::Request& request,
                                        const Principal& principal, auth::Action action);

/// As requestedDevice, but nothing when the request names no device.
Result<std::optional<TelemetryDevice>> optionalDevice(store::SqlSession& sql,
                                                      const http::Request& request,
                                                      const Principal& principal,
                                                      auth::Action action);

/// `start` (inclusive) and `end` (exclusive), RFC 3339.
struct TimeRange {
    Micros start = 0;
    Micros end = 0;
};

/// The query's `start` and `end`; when `required` is false a missing one leaves the range
/// open on that side. 400 invalid_parameter for a bad time or an end not after the start.
Result<TimeRange> requestedRange(const http::Request& request, bool required);

/// The metric names of the query's `metric` parameters, NFC-normalized: each value is a name,
/// and a value with commas also names each of its comma-separated parts (a name that itself
/// holds a comma stays reachable). Empty when there are none.
std::vector<std::string> requestedMetrics(const http::Request& request);

/// " AND <column> IN ($a, $b, ...)" for the names, or empty when there are none.
std::string nameIn(const std::string& column, const std::vector<std::string>& names,
                   store::SqlParams& params);

/// " AND lower(<column>) LIKE $N ESCAPE '\'" for `?search=`, or empty when absent.
std::string searchCondition(const http::Request& request, const std::string& column,
                            store::SqlParams& params);

/// A path parameter that names a row by its integer id; nothing when it is not one.
std::optional<std::int64_t> integerId(std::string_view text);

/// A stored JSON column as a value; `fallback` when null or unreadable.
boost::json::value storedJson(const std::optional<std::string>& text, boost::json::value fallback);

/// A point's time in UTC: milliseconds, or microseconds when it has them.
std::string pointTime(Micros at);

}  // namespace esocore::api
