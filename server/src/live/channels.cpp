#include "live/channels.h"

#include <cctype>

#include "ingest/records.h"

namespace esocore::live {

namespace {

constexpr std::size_t kMaxMetricBytes = 255;
constexpr std::size_t kMaxDevicePart = 64;

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

bool plausibleDevicePart(std::string_view part) {
    if (part.empty() || part.size() > kMaxDevicePart) {
        return false;
    }
    for (char c : part) {
        if (std::iscntrl(static_cast<unsigned char>(c)) || c == ' ') {
            return false;
        }
    }
    return true;
}

std::optional<Channel> parseTelemetry(std::string_view rest) {
    std::size_t colon = rest.find(':');
    std::string_view device = rest.substr(0, colon);
    if (!plausibleDevicePart(device)) {
        return std::nullopt;
    }
    Channel channel{ChannelKind::telemetry, lowercase(device), {}, {}};
    if (colon != std::string_view::npos) {
        std::string_view metric = rest.substr(colon + 1);
        auto normalized = ingest::normalizeName(metric);
        if (metric.empty() || metric.size() > kMaxMetricBytes || !normalized) {
            return std::nullopt;
        }
        channel.metric = std::move(*normalized);
    }
    channel.name = telemetryChannel(channel.device_id, channel.metric);
    return channel;
}

}  // namespace

std::optional<Channel> parseChannel(std::string_view name) {
    if (name == kDevicesChannel) {
        return Channel{ChannelKind::devices, {}, {}, std::string(name)};
    }
    if (name == kEventsChannel) {
        return Channel{ChannelKind::events, {}, {}, std::string(name)};
    }
    if (name == kAlertsChannel) {
        return Channel{ChannelKind::alerts, {}, {}, std::string(name)};
    }
    constexpr std::string_view device_prefix = "device:";
    constexpr std::string_view telemetry_prefix = "telemetry:";
    if (name.starts_with(device_prefix)) {
        std::string_view device = name.substr(device_prefix.size());
        if (!plausibleDevicePart(device) || device.find(':') != std::string_view::npos) {
            return std::nullopt;
        }
        std::string id = lowercase(device);
        return Channel{ChannelKind::device, id, {}, deviceChannel(id)};
    }
    if (name.starts_with(telemetry_prefix)) {
        return parseTelemetry(name.substr(telemetry_prefix.size()));
    }
    return std::nullopt;
}

std::string deviceChannel(std::string_view device_id) {
    std::string name = "device:";
    name.append(device_id);
    return name;
}

std::string telemetryChannel(std::string_view device_id, std::string_view metric) {
    std::string name = "telemetry:";
    name.append(device_id);
    if (!metric.empty()) {
        name.append(":").append(metric);
    }
    return name;
}

}  // namespace esocore::live
