#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/sql.h"
#include "store/types.h"

namespace esocore {
struct Config;
}

namespace esocore::store {

struct MigrationState {
    int current = 0;
    int latest = 0;
};

/// What the server keeps. SQLite and PostgreSQL each fill this interface; nothing above it
/// knows which one runs. Every method is safe to call from several threads.
class Store {
public:
    virtual ~Store() = default;

    /// "sqlite" or "postgresql".
    virtual std::string dialect() const = 0;

    /// Applies the numbered migrations not yet applied, each in its own transaction.
    virtual Result<MigrationState> migrate() = 0;
    virtual Result<MigrationState> migrationState() = 0;

    // Organizations and users.
    virtual Result<Organization> ensureDefaultOrganization() = 0;
    virtual Result<User> createUser(const User& user) = 0;
    virtual Result<std::int64_t> countUsers() = 0;
    virtual Result<void> addMembership(const std::string& user_id,
                                       const std::string& organization_id,
                                       const std::string& role) = 0;

    // Devices and their keys.
    virtual Result<void> createDevice(const Device& device, const DeviceKey& key) = 0;
    /// By UUID or serial number.
    virtual Result<std::optional<Device>> findDevice(const std::string& id_or_serial) = 0;
    /// Keys not yet expired at `now`.
    virtual Result<std::vector<DeviceKey>> activeDeviceKeys(const std::string& device_id,
                                                            Micros now) = 0;
    /// Records a heartbeat: last seen, first seen when unset, reported health and firmware.
    virtual Result<void> recordHeartbeat(const std::string& device_id, Micros at,
                                         const std::string& health_json,
                                         const std::string& firmware_version) = 0;
    virtual Result<std::optional<ConfigProfile>> configProfile(const std::string& organization_id,
                                                               const std::string& model) = 0;
    virtual Result<void> saveConfigProfile(const ConfigProfile& profile) = 0;

    // Ingest.
    virtual Result<std::optional<Packet>> findPacket(const std::string& device_id,
                                                     const std::string& idempotency_key) = 0;
    /// Commits every batch in one transaction. A batch whose key is already in the ledger is
    /// not applied again: its outcome is `replayed` (same body) or `conflict`.
    virtual Result<std::vector<IngestOutcome>> commitIngest(
        std::span<IngestBatch* const> batches) = 0;
    /// Removes ledger entries received before `cutoff`; returns how many.
    virtual Result<std::int64_t> purgePackets(Micros cutoff) = 0;

    // Firmware.
    virtual Result<void> addFirmwareBundle(const FirmwareBundle& bundle) = 0;
    virtual Result<std::optional<FirmwareBundle>> findFirmwareBundle(const std::string& id) = 0;
    /// Bundles on `channel` that list `model` among their supported models.
    virtual Result<std::vector<FirmwareBundle>> firmwareBundlesFor(const std::string& model,
                                                                   const std::string& channel) = 0;
    virtual Result<std::optional<DeviceUpdate>> latestDeviceUpdate(
        const std::string& device_id) = 0;
    virtual Result<void> saveDeviceUpdate(const DeviceUpdate& update) = 0;
    virtual Result<void> setDeviceFirmware(const std::string& device_id,
                                           const std::string& version) = 0;
    /// Raises a server-side event (not from a batch), e.g. an OTA failure.
    virtual Result<void> insertEvent(const std::string& device_id,
                                     const std::string& organization_id, const EventRow& event) = 0;

    // Telemetry housekeeping and work shared by instances.
    /// Makes sure telemetry can be stored for the month of `now` and the months ahead
    /// (PostgreSQL creates the monthly partitions; SQLite has nothing to prepare). Safe to call
    /// from several instances at once.
    virtual Result<void> maintainPartitions(Micros now) = 0;
    /// Removes the telemetry of every UTC calendar month that ended at or before `cutoff`:
    /// PostgreSQL drops whole partitions, SQLite deletes rows in bounded chunks. Months that
    /// end later stay whole in both, so the two stores keep the same points.
    virtual Result<void> dropTelemetryBefore(Micros cutoff) = 0;
    /// Claims the job `name` until `now + lease` when no instance holds it at `now`. Among
    /// concurrent callers on one database, in any number of processes, exactly one gets true.
    virtual Result<bool> claimJob(const std::string& name, Micros now, Micros lease) = 0;

    /// Portable SQL on this store, for the management resources (accounts, sites, ...).
    virtual SqlSession& sql() = 0;

    // Health.
    virtual bool ping() = 0;
};

/// Opens the store named by config.database_url.
std::unique_ptr<Store> openStore(const Config& config);

}  // namespace esocore::store
