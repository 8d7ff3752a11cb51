#pragma once

// The channels of live updates (DESIGN §6) and their names.

#include <optional>
#include <string>
#include <string_view>

namespace esocore::live {

inline constexpr std::string_view kDevicesChannel = "devices";
inline constexpr std::string_view kEventsChannel = "events";
inline constexpr std::string_view kAlertsChannel = "alerts";

enum class ChannelKind {
    devices,    // every visible device: online, offline, status, OTA progress
    device,     // device:<id>: the same for one device, plus its events and alerts
    telemetry,  // telemetry:<device>[:<metric>]: coalesced readings per series and batch
    events,     // every visible event: created, acknowledged, resolved
    alerts,     // every visible alert: firing, resolved
};

/// A channel a client named, in its canonical form.
struct Channel {
    ChannelKind kind = ChannelKind::devices;
    std::string device_id;  // device and telemetry channels; lowercase
    std::string metric;     // telemetry of one series; NFC
    std::string name;       // the canonical name, as messages carry it

    /// Channels about one device; the others span organizations.
    bool aboutOneDevice() const { return !device_id.empty(); }
};

/// The channel named `name`, or nothing when it names none. A device part is only checked
/// for its shape here: whether it exists and may be seen is the subscription's question.
std::optional<Channel> parseChannel(std::string_view name);

/// `device:<id>`.
std::string deviceChannel(std::string_view device_id);

/// `telemetry:<device>`, or `telemetry:<device>:<metric>` when a metric is given.
std::string telemetryChannel(std::string_view device_id, std::string_view metric = {});

}  // namespace esocore::live
