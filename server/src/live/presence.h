#pragma once

// Online and offline, derived from when a device was last heard from: it is online while its
// silence is shorter than its offline timeout (`offline_timeout_s` of its configuration).

#include <boost/json/object.hpp>
#include <optional>

#include "core/clock.h"
#include "core/config.h"
#include "core/result.h"
#include "live/bus.h"
#include "store/store.h"

namespace esocore::live {

/// The offline timeout of a device's merged configuration, else the server's default.
Micros offlineTimeout(const boost::json::object& settings, const Config& config);

/// Whether being heard from at `now` brings the device online: it was never heard from, or
/// its last contact is older than its offline timeout.
bool comesOnline(std::optional<Micros> last_seen, Micros offline_timeout, Micros now);

/// The periodic check that notices devices going offline: each device whose offline moment
/// (last seen + its timeout) falls after the previous check and at or before this one gets a
/// device.offline message. Run by one instance at a time (a claimed job).
class OfflineWatch {
public:
    OfflineWatch(const Config& config, store::Store& store, Bus& bus);

    /// Checks up to `now`; returns how many devices went offline.
    Result<std::int64_t> check(Micros now);

private:
    const Config& config_;
    store::Store& store_;
    Bus& bus_;
    Micros checked_until_;
};

}  // namespace esocore::live
