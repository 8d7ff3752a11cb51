#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace esocore::store {

struct Organization {
    std::string id;
    std::string name;
    Micros created_at = 0;
};

struct User {
    std::string id;
    std::string email;
    std::string name;
    std::string password_hash;
    bool is_staff = false;
    std::string time_zone = "UTC";
    Micros created_at = 0;
};

/// Device lifecycle states (DESIGN §4). Online/offline is derived from last_seen.
inline constexpr const char* kDeviceStatuses[] = {"unclaimed", "active", "maintenance", "inactive",
                                                  "decommissioned"};

struct Device {
    std::string id;
    std::string organization_id;  // empty while unclaimed
    std::string serial;
    std::string name;
    std::string model;
    std::string firmware_version;
    std::string firmware_channel = "stable";
    std::string site_id;
    std::string asset_id;
    std::string tags_json = "[]";
    std::string status = "active";
    std::string config_overrides_json = "{}";
    std::string health_json = "{}";
    std::optional<Micros> last_seen;
    std::optional<Micros> first_seen;
    std::optional<Micros> claimed_at;
    Micros created_at = 0;
    Micros updated_at = 0;
};

struct DeviceKey {
    std::int64_t id = 0;
    std::string device_id;
    std::string prefix;
    std::string secret_hash;  // hex SHA-256 of the secret part
    Micros created_at = 0;
    std::optional<Micros> expires_at;
};

struct ConfigProfile {
    std::string id;
    std::string organization_id;
    std::string model;
    std::string settings_json = "{}";
    std::int64_t version = 1;
    Micros updated_at = 0;
};

/// One sensor reading ready to store; the series name is already NFC-normalized.
struct PointRow {
    std::string series;
    std::string unit;
    Micros ts = 0;
    double value = 0;
    std::string meta_json;  // empty when the record had no meta
};

/// Asset cycle information carried by cycle_open / cycle_close events.
struct CycleMark {
    std::string asset_ref;  // the device's asset id, e.g. DOOR_7
    std::int64_t cycle_id = 0;
    bool opens = true;
    std::optional<std::int64_t> duration_ms;
};

struct EventRow {
    std::string type;
    std::string category;
    std::string severity;
    std::string description;
    std::string asset_ref;
    std::string site_ref;
    Micros ts = 0;
    std::optional<std::int64_t> duration_ms;
    std::string meta_json = "{}";
    std::optional<CycleMark> cycle;
};

/// Statistics a device computed over a window of one series (the record's `meta.window`).
struct WindowRow {
    std::string name;  // the series the record belongs to
    Micros start = 0;
    Micros end = 0;
    std::string stats_json;
};

struct RecordError {
    int index = 0;
    std::string code;
};

/// A validated upload waiting for its commit.
struct IngestBatch {
    std::string device_id;
    std::string organization_id;
    std::string site_id;  // the device's site, for live updates; empty when it has none
    std::string idempotency_key;
    std::string body_sha256;
    Micros received_at = 0;
    std::vector<PointRow> points;
    std::vector<EventRow> events;
    std::vector<WindowRow> windows;  // stored beside the points of the same records
    int rejected = 0;
    std::vector<RecordError> errors;  // at most 100 are kept
};

struct IngestCounts {
    std::int64_t accepted = 0;
    std::int64_t duplicates = 0;
    std::int64_t rejected = 0;
    std::int64_t points = 0;
    std::int64_t events = 0;
};

/// A ledger entry: what a batch with this idempotency key did.
struct Packet {
    std::int64_t id = 0;
    std::string device_id;
    std::string idempotency_key;
    std::string body_sha256;
    Micros received_at = 0;
    IngestCounts counts;
    std::string errors_json = "[]";
};

struct IngestOutcome {
    enum class Kind { applied, replayed, conflict };
    Kind kind = Kind::applied;
    Packet packet;  // for `applied`, the new entry; otherwise the one stored before
};

struct FirmwareBundle {
    std::string id;
    std::string version;
    std::string channel = "stable";
    std::string models_json = "[]";
    std::string release_notes;
    std::int64_t size = 0;
    std::string sha256;
    std::string signature;  // base64 Ed25519 over the image
    std::string path;
    Micros created_at = 0;
};

struct DeviceUpdate {
    std::string id;
    std::string device_id;
    std::string bundle_id;
    std::string from_version;
    std::string to_version;
    std::string status;
    std::string error;
    Micros created_at = 0;
    Micros updated_at = 0;
};

}  // namespace esocore::store
