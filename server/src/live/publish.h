#pragma once

// The messages of live updates and the channels each goes to. Every message is
// {"type", "channel", "data"}; a publisher skips channels without subscribers, so publishing
// to an idle bus costs a lookup per channel.
//
//   device.online, device.offline, device.status, ota.progress  -> devices, device:<id>
//   telemetry (one per series and batch)       -> telemetry:<device>, telemetry:<device>:<metric>
//   event.created, event.updated                -> events, device:<id>
//   alert.fired, alert.resolved                 -> alerts, device:<id>

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "live/bus.h"
#include "store/sql.h"
#include "store/types.h"

namespace esocore::live {

/// What device messages say about the device.
struct DeviceFacts {
    std::string id;
    std::string organization_id;
    std::string site_id;
    std::string serial;
    std::string name;
    std::string status;
    std::optional<Micros> last_seen;
};

DeviceFacts factsOf(const store::Device& device);

/// The device was silent past its offline timeout and has been heard from again (or for the
/// first time).
void publishDeviceOnline(Bus& bus, const DeviceFacts& device);

/// The device has been silent for longer than its offline timeout.
void publishDeviceOffline(Bus& bus, const DeviceFacts& device, Micros offline_timeout);

/// The device's lifecycle status changed (active, maintenance, inactive, decommissioned).
void publishDeviceStatus(Bus& bus, const DeviceFacts& device, std::string_view previous_status);

/// The device reported OTA progress for `update`.
void publishOtaProgress(Bus& bus, const DeviceFacts& device, const store::DeviceUpdate& update);

/// One series of a batch, coalesced: its newest point and how many points it had.
struct SeriesSummary {
    std::string metric;
    std::string unit;
    double value = 0;
    Micros ts = 0;
    std::int64_t count = 0;
};

/// The batch's points per series, in the order each series first appears. The newest point
/// (largest ts; of equal ones, the later in the batch) gives the value.
std::vector<SeriesSummary> coalesce(const std::vector<store::PointRow>& points);

/// After a batch committed: a telemetry message per series, and event.created for each event
/// the batch stored (read back from `sql` for their ids; events that were already stored are
/// not new).
void publishBatch(Bus& bus, store::SqlSession& sql, const store::IngestBatch& batch,
                  const store::IngestCounts& counts);

/// An event as the events API shows it (GET /api/events/{id}); `type` is event.created or
/// event.updated (acknowledged, resolved). Its organization_id, site_id and device_id decide
/// who receives it.
void publishEvent(Bus& bus, std::string_view type, const boost::json::object& event);

/// An event's state changed (acknowledged, resolved): `event` as the events API answers it.
inline void publishEventChanged(Bus& bus, const boost::json::object& event) {
    publishEvent(bus, "event.updated", event);
}

/// An alert fired or resolved (`type` alert.fired or alert.resolved); the object carries its
/// organization_id and, when it has them, site_id and device_id.
void publishAlert(Bus& bus, std::string_view type, const boost::json::object& alert);

}  // namespace esocore::live
