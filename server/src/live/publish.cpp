#include "live/publish.h"

#include <algorithm>
#include <boost/json.hpp>
#include <unordered_map>

#include "api/json_values.h"
#include "core/log.h"
#include "live/channels.h"

namespace esocore::live {

namespace json = boost::json;

namespace {

std::string messageText(std::string_view type, std::string_view channel, const json::object& data) {
    json::object message{{"type", type}, {"channel", channel}, {"data", data}};
    return json::serialize(message);
}

// Publishes to each channel that has subscribers; the text names the channel it went to.
void publishTo(Bus& bus, std::initializer_list<std::string_view> channels, const Scope& scope,
               std::string_view type, const json::object& data) {
    for (std::string_view channel : channels) {
        if (!channel.empty() && bus.hasSubscribers(channel)) {
            bus.publish(channel, scope, messageText(type, channel, data));
        }
    }
}

json::value textOrNull(const std::string& text) {
    return text.empty() ? json::value(nullptr) : json::value(text);
}

std::string stringField(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

Scope scopeOf(const json::object& object) {
    return Scope{stringField(object, "organization_id"), stringField(object, "site_id"),
                 stringField(object, "device_id")};
}

json::object deviceData(const DeviceFacts& device) {
    return json::object{{"device_id", device.id},
                        {"organization_id", textOrNull(device.organization_id)},
                        {"site_id", textOrNull(device.site_id)},
                        {"serial", device.serial},
                        {"name", device.name},
                        {"status", device.status},
                        {"last_seen_at", api::timeOrNull(device.last_seen)}};
}

void publishDevice(Bus& bus, std::string_view type, const DeviceFacts& device,
                   const json::object& data) {
    Scope scope{device.organization_id, device.site_id, device.id};
    std::string one = deviceChannel(device.id);
    publishTo(bus, {kDevicesChannel, one}, scope, type, data);
}

// Events this batch stored, read back for their ids: rows of this device received with this
// batch. Events that were already stored keep their earlier received_at.
constexpr const char* kBatchEvents =
    "SELECT e.id, e.organization_id, e.device_id, d.serial, d.name, d.site_id, e.asset_ref, "
    "e.site_ref, e.ts, e.received_at, e.type, e.category, e.severity, e.description, "
    "e.duration_ms, e.metadata, e.status, e.acknowledged_by, e.acknowledged_at, e.resolved_by, "
    "e.resolved_at FROM events e LEFT JOIN devices d ON d.id = e.device_id "
    "WHERE e.device_id = $1 AND e.received_at = $2 AND e.ts >= $3 AND e.ts <= $4 "
    "ORDER BY e.ts, e.id";

// The shape of GET /api/events/{id}.
json::object eventData(const store::SqlRow& row) {
    return json::object{
        {"id", row.text(0)},
        {"organization_id", api::textOrNull(row, 1)},
        {"device_id", api::textOrNull(row, 2)},
        {"device_serial", api::textOrNull(row, 3)},
        {"device_name", api::textOrNull(row, 4)},
        {"site_id", api::textOrNull(row, 5)},
        {"asset_ref", row.text(6)},
        {"site_ref", row.text(7)},
        {"ts", formatRfc3339Millis(row.integer(8))},
        {"received_at", formatRfc3339Millis(row.integer(9))},
        {"type", row.text(10)},
        {"category", row.text(11)},
        {"severity", row.text(12)},
        {"description", row.text(13)},
        {"duration_ms", api::integerOrNull(row, 14)},
        {"metadata", api::storedJson(row.text(15), json::object{})},
        {"status", row.text(16)},
        {"acknowledged_by", api::textOrNull(row, 17)},
        {"acknowledged_at", api::timeOrNull(row.optionalInteger(18))},
        {"resolved_by", api::textOrNull(row, 19)},
        {"resolved_at", api::timeOrNull(row.optionalInteger(20))},
    };
}

void publishTelemetry(Bus& bus, const store::IngestBatch& batch) {
    std::string all = telemetryChannel(batch.device_id);
    // Most batches come from devices nobody watches: skip the coalescing unless a channel of
    // this device may have subscribers.
    bool anyone = bus.hasSubscribers(all);
    std::vector<SeriesSummary> series;
    if (!anyone) {
        series = coalesce(batch.points);
        anyone = std::any_of(series.begin(), series.end(), [&](const SeriesSummary& s) {
            return bus.hasSubscribers(telemetryChannel(batch.device_id, s.metric));
        });
        if (!anyone) {
            return;
        }
    } else {
        series = coalesce(batch.points);
    }
    Scope scope{batch.organization_id, batch.site_id, batch.device_id};
    for (const auto& s : series) {
        json::object data{{"device_id", batch.device_id},
                          {"metric", s.metric},
                          {"unit", s.unit},
                          {"value", s.value},
                          {"ts", formatRfc3339Millis(s.ts)},
                          {"count", s.count}};
        std::string one = telemetryChannel(batch.device_id, s.metric);
        publishTo(bus, {all, one}, scope, "telemetry", data);
    }
}

void publishBatchEvents(Bus& bus, store::SqlSession& sql, const store::IngestBatch& batch) {
    if (!bus.hasSubscribers(kEventsChannel) &&
        !bus.hasSubscribers(deviceChannel(batch.device_id))) {
        return;
    }
    auto [first, last] = std::minmax_element(
        batch.events.begin(), batch.events.end(),
        [](const store::EventRow& a, const store::EventRow& b) { return a.ts < b.ts; });
    auto rows = sql.query(kBatchEvents, {batch.device_id, batch.received_at, first->ts, last->ts});
    if (!rows) {
        log::warn("live: cannot read the events of a batch",
                  {{"device_id", batch.device_id}, {"error", rows.error().message}});
        return;
    }
    for (const auto& row : *rows) {
        publishEvent(bus, "event.created", eventData(row));
    }
}

}  // namespace

DeviceFacts factsOf(const store::Device& device) {
    return DeviceFacts{device.id,   device.organization_id, device.site_id,  device.serial,
                       device.name, device.status,          device.last_seen};
}

void publishDeviceOnline(Bus& bus, const DeviceFacts& device) {
    json::object data = deviceData(device);
    data["online"] = true;
    publishDevice(bus, "device.online", device, data);
}

void publishDeviceOffline(Bus& bus, const DeviceFacts& device, Micros offline_timeout) {
    json::object data = deviceData(device);
    data["online"] = false;
    data["offline_timeout_s"] = offline_timeout / 1'000'000;
    publishDevice(bus, "device.offline", device, data);
}

void publishDeviceStatus(Bus& bus, const DeviceFacts& device, std::string_view previous_status) {
    json::object data = deviceData(device);
    data["previous_status"] = previous_status;
    publishDevice(bus, "device.status", device, data);
}

void publishOtaProgress(Bus& bus, const DeviceFacts& device, const store::DeviceUpdate& update) {
    json::object data{{"device_id", device.id},
                      {"organization_id", textOrNull(device.organization_id)},
                      {"site_id", textOrNull(device.site_id)},
                      {"update_id", update.id},
                      {"bundle_id", update.bundle_id},
                      {"status", update.status},
                      {"from_version", update.from_version},
                      {"to_version", update.to_version},
                      {"error", textOrNull(update.error)},
                      {"updated_at", formatRfc3339Millis(update.updated_at)}};
    publishDevice(bus, "ota.progress", device, data);
}

std::vector<SeriesSummary> coalesce(const std::vector<store::PointRow>& points) {
    std::vector<SeriesSummary> series;
    std::unordered_map<std::string_view, std::size_t> index;
    for (const auto& point : points) {
        auto [at, added] = index.try_emplace(point.series, series.size());
        if (added) {
            series.push_back(SeriesSummary{point.series, point.unit, point.value, point.ts, 0});
        }
        SeriesSummary& s = series[at->second];
        ++s.count;
        if (point.ts >= s.ts) {
            s.value = point.value;
            s.ts = point.ts;
            s.unit = point.unit;
        }
    }
    return series;
}

void publishBatch(Bus& bus, store::SqlSession& sql, const store::IngestBatch& batch,
                  const store::IngestCounts& counts) {
    if (!batch.points.empty()) {
        publishTelemetry(bus, batch);
    }
    if (counts.events > 0 && !batch.events.empty()) {
        publishBatchEvents(bus, sql, batch);
    }
}

void publishEvent(Bus& bus, std::string_view type, const json::object& event) {
    Scope scope = scopeOf(event);
    std::string one = scope.device_id.empty() ? std::string() : deviceChannel(scope.device_id);
    publishTo(bus, {kEventsChannel, one}, scope, type, event);
}

void publishAlert(Bus& bus, std::string_view type, const json::object& alert) {
    Scope scope = scopeOf(alert);
    std::string one = scope.device_id.empty() ? std::string() : deviceChannel(scope.device_id);
    publishTo(bus, {kAlertsChannel, one}, scope, type, alert);
}

}  // namespace esocore::live
