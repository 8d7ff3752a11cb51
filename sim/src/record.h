#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace esocore::sim {

/// The firmware every simulated device runs and reports.
inline constexpr std::string_view kFirmwareVersion = "1.4.2";

/// One reading or event as a device records it, before it is tied to the device's identity.
struct Record {
    std::int64_t ts_ms = 0;     // device clock, epoch milliseconds
    std::string series;         // e.g. temp_ambient, cycle_open, power_outage
    std::optional<double> val;  // empty for events
    std::string unit;           // empty for events, sent as null
    boost::json::object meta;
};

/// Where a device sits; every record it uploads carries these.
struct DeviceIdentity {
    std::string serial;
    std::string site_id;
    std::string asset_id;
};

/// Serializes a record as one element of a telemetry batch array.
std::string recordToJson(const Record& record, const DeviceIdentity& identity);

}  // namespace esocore::sim
