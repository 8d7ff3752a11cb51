#pragma once

// Device updates through rollouts (DESIGN §8): which bundle a device is offered, and what its
// reports do — the device's firmware version, events for failures, and the automatic pause
// and completion of the rollout.

#include <optional>
#include <string>
#include <utility>

#include "core/result.h"
#include "live/bus.h"
#include "ota/rollouts.h"
#include "store/sql.h"
#include "store/types.h"

namespace esocore::ota {

/// A bundle offered to a device through one rollout.
struct Offer {
    store::FirmwareBundle bundle;
    std::string rollout_id;
    std::string update_id;  // empty until the offer is recorded
};

/// What a device reported about its update.
struct UpdateReport {
    std::string status;   // downloading, installing, completed, failed, rolled_back
    std::string version;  // the version being installed; empty: the latest offered
    std::string error;
};

class UpdateService {
public:
    UpdateService(store::SqlSession& sql, live::Bus& bus) : sql_(sql), bus_(bus) {}

    /// The bundle the device should install next, without recording anything: the newest
    /// bundle that an active rollout of its organization reaches it with, newer than
    /// `running` (any bundle when `running` is not a version). A rollout in which the device
    /// already finished (completed, failed, rolled back) offers nothing again; an update the
    /// device has started (downloading, installing) is offered until it finishes.
    Result<std::optional<Offer>> findOffer(const store::Device& device, const std::string& running);

    /// findOffer, recorded as the device's update in that rollout (state `offered`) unless it
    /// already is. An offer of another rollout that the device never started is withdrawn.
    Result<std::optional<Offer>> offer(const store::Device& device, const std::string& running);

    /// Moves the device's update of `report.version` (its latest update when empty) to
    /// `report.status`. 409 `no_update_in_progress` without such an update, 409
    /// `invalid_transition` for a move the states do not allow. A repeated report changes
    /// nothing. `completed` sets the device's firmware version; `failed` and `rolled_back`
    /// raise an event and may pause the rollout; the last update to finish completes it.
    Result<store::DeviceUpdate> report(const store::Device& device, const UpdateReport& report);

private:
    struct ReportEffects;

    Result<std::optional<store::FirmwareBundle>> findBundle(const std::string& id);
    Result<std::optional<std::pair<store::DeviceUpdate, std::string>>> findUpdate(
        store::SqlSession& sql, const store::Device& device, const std::string& version);
    Result<void> recordOffer(const store::Device& device, const std::string& running, Offer& offer);
    Result<void> applyReport(store::SqlSession& tx, const store::Device& device,
                             store::DeviceUpdate& update, const std::string& rollout_id,
                             ReportEffects& effects);
    Result<void> checkRollout(store::SqlSession& tx, Rollout& rollout, const std::string& status,
                              ReportEffects& effects);
    Result<void> pauseForFailures(store::SqlSession& tx, Rollout& rollout,
                                  const FailureCount& count, ReportEffects& effects);
    Result<void> completeIfDone(store::SqlSession& tx, Rollout& rollout);
    void publish(const store::Device& device, const store::DeviceUpdate& update,
                 const ReportEffects& effects);

    store::SqlSession& sql_;
    live::Bus& bus_;
};

}  // namespace esocore::ota
