#include "store/postgres/pg_store.h"

#include <unistd.h>

#include <chrono>
#include <set>

#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "store/migrations.h"
#include "store/months.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_ingest.h"
#include "store/postgres/pg_partitions.h"
#include "store/postgres/pg_pool.h"
#include "store/postgres/pg_sql.h"

namespace esocore::store {

namespace {

using postgres::Connection;
using postgres::Params;
using postgres::Rows;
using postgres::Transaction;

// Held while migrating, so that instances starting together apply each migration once.
constexpr std::int64_t kMigrationLock = 0x65736f636f7200;

// A group that lost a deadlock or met a partition dropped by another instance is retried.
constexpr int kIngestAttempts = 3;

// How long a caller waits for a free connection before the store reports itself unavailable.
constexpr std::chrono::seconds kPoolWait{10};

constexpr const char* kDeviceColumns =
    "id, coalesce(organization_id::text, ''), serial, name, model, firmware_version, "
    "firmware_channel, coalesce(site_id::text, ''), coalesce(asset_id, ''), tags, status, "
    "config_overrides, health, last_seen, first_seen, claimed_at, created_at, updated_at";

Device readDevice(const Rows& r, int row) {
    Device d;
    d.id = r.text(row, 0);
    d.organization_id = r.text(row, 1);
    d.serial = r.text(row, 2);
    d.name = r.text(row, 3);
    d.model = r.text(row, 4);
    d.firmware_version = r.text(row, 5);
    d.firmware_channel = r.text(row, 6);
    d.site_id = r.text(row, 7);
    d.asset_id = r.text(row, 8);
    d.tags_json = r.text(row, 9);
    d.status = r.text(row, 10);
    d.config_overrides_json = r.text(row, 11);
    d.health_json = r.text(row, 12);
    d.last_seen = r.optionalInteger(row, 13);
    d.first_seen = r.optionalInteger(row, 14);
    d.claimed_at = r.optionalInteger(row, 15);
    d.created_at = r.integer(row, 16);
    d.updated_at = r.integer(row, 17);
    return d;
}

constexpr const char* kPacketColumns =
    "id, device_id, idempotency_key, body_sha256, received_at, accepted, duplicates, rejected, "
    "points, events, errors";

constexpr const char* kBundleColumns =
    "id, version, channel, models, release_notes, size, sha256, signature, path, created_at";

FirmwareBundle readBundle(const Rows& r, int row) {
    return FirmwareBundle{r.text(row, 0), r.text(row, 1),    r.text(row, 2), r.text(row, 3),
                          r.text(row, 4), r.integer(row, 5), r.text(row, 6), r.text(row, 7),
                          r.text(row, 8), r.integer(row, 9)};
}

Result<void> done(Result<Rows> rows) {
    if (!rows) {
        return rows.takeError();
    }
    return {};
}

// Who holds a claimed job, for people reading the jobs table: host, process and store.
std::string jobOwner() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(getpid()) + ":" + newUuid().substr(0, 8);
}

// Every month start that a point of the group falls in.
std::set<Micros> monthsOf(std::span<IngestBatch* const> batches) {
    std::set<Micros> months;
    Micros from = 1;
    Micros to = 0;  // [from, to) is the month last added; points mostly stay in it
    for (const IngestBatch* batch : batches) {
        for (const PointRow& point : batch->points) {
            if (point.ts < from || point.ts >= to) {
                from = monthStart(point.ts);
                to = monthsLater(point.ts, 1);
                months.insert(from);
            }
        }
    }
    return months;
}

metrics::Counter& retries() {
    static metrics::Counter& counter = metrics::Registry::instance().counter(
        "esocore_store_ingest_retries_total",
        "Group commits retried after a deadlock or a partition dropped by another instance");
    return counter;
}

class PgStore final : public Store {
public:
    PgStore(const std::string& url, std::size_t max_connections)
        : pool_(url, max_connections, kPoolWait) {}

    std::string dialect() const override { return "postgresql"; }

    Result<MigrationState> migrate() override;
    Result<MigrationState> migrationState() override;
    Result<Organization> ensureDefaultOrganization() override;
    Result<User> createUser(const User& user) override;
    Result<std::int64_t> countUsers() override;
    Result<void> addMembership(const std::string& user_id, const std::string& organization_id,
                               const std::string& role) override;
    Result<void> createDevice(const Device& device, const DeviceKey& key) override;
    Result<std::optional<Device>> findDevice(const std::string& id_or_serial) override;
    Result<std::vector<DeviceKey>> activeDeviceKeys(const std::string& device_id,
                                                    Micros now) override;
    Result<void> recordHeartbeat(const std::string& device_id, Micros at,
                                 const std::string& health_json,
                                 const std::string& firmware_version) override;
    Result<std::optional<ConfigProfile>> configProfile(const std::string& organization_id,
                                                       const std::string& model) override;
    Result<void> saveConfigProfile(const ConfigProfile& profile) override;
    Result<std::optional<Packet>> findPacket(const std::string& device_id,
                                             const std::string& idempotency_key) override;
    Result<std::vector<IngestOutcome>> commitIngest(std::span<IngestBatch* const> batches) override;
    Result<std::int64_t> purgePackets(Micros cutoff) override;
    Result<void> addFirmwareBundle(const FirmwareBundle& bundle) override;
    Result<std::optional<FirmwareBundle>> findFirmwareBundle(const std::string& id) override;
    Result<std::vector<FirmwareBundle>> firmwareBundlesFor(const std::string& model,
                                                           const std::string& channel) override;
    Result<std::optional<DeviceUpdate>> latestDeviceUpdate(const std::string& device_id) override;
    Result<void> saveDeviceUpdate(const DeviceUpdate& update) override;
    Result<void> setDeviceFirmware(const std::string& device_id,
                                   const std::string& version) override;
    Result<void> insertEvent(const std::string& device_id, const std::string& organization_id,
                             const EventRow& event) override;
    Result<void> maintainPartitions(Micros now) override;
    Result<void> dropTelemetryBefore(Micros cutoff) override;
    Result<bool> claimJob(const std::string& name, Micros now, Micros lease) override;
    SqlSession& sql() override { return sql_; }
    bool ping() override;

private:
    /// One statement on a pooled connection.
    Result<Rows> run(const std::string& sql, const Params& params = {});
    Result<std::optional<Device>> findDeviceWhere(const char* condition, const std::string& value);
    Result<void> applyMigrations(Connection& c);
    Result<void> applyMigration(Connection& c, const Migration& migration);
    Result<std::vector<IngestOutcome>> tryCommit(std::span<IngestBatch* const> batches,
                                                 const std::set<Micros>& months, bool& retry);

    postgres::Pool pool_;
    postgres::PoolSession sql_{pool_};
    postgres::SeriesCache series_;
    postgres::Partitions partitions_;
    const std::string owner_ = jobOwner();
};

Result<Rows> PgStore::run(const std::string& sql, const Params& params) {
    auto lease = pool_.acquire();
    if (!lease) {
        return lease.takeError();
    }
    return (*lease)->query(sql, params);
}

bool PgStore::ping() {
    return run("SELECT 1").ok();
}

Result<MigrationState> PgStore::migrationState() {
    MigrationState state{0, latestMigration(postgresMigrations())};
    auto exists = run("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!exists) {
        return exists.takeError();
    }
    if (!exists->boolean(0, 0)) {
        return state;
    }
    auto current = run("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!current) {
        return current.takeError();
    }
    state.current = static_cast<int>(current->integer(0, 0));
    return state;
}

Result<void> PgStore::applyMigration(Connection& c, const Migration& migration) {
    auto tx = Transaction::begin(c);
    if (!tx) {
        return tx.takeError();
    }
    if (auto ok = c.exec(migration.sql); !ok) {
        Error error = ok.takeError();
        error.message = "migration " + std::string(migration.name) + ": " + error.message;
        return error;
    }
    auto mark = c.query(
        "INSERT INTO schema_migrations (version, name, applied_at) "
        "VALUES ($1::integer, $2::text, $3::bigint)",
        Params().add(migration.version).add(migration.name).add(std::int64_t{nowMicros()}));
    if (!mark) {
        return mark.takeError();
    }
    return tx->commit();
}

Result<void> PgStore::applyMigrations(Connection& c) {
    if (auto ok = c.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY "
                         "KEY, name text NOT NULL, applied_at bigint NOT NULL)");
        !ok) {
        return ok;
    }
    for (const Migration& migration : postgresMigrations()) {
        auto seen = c.query("SELECT 1 FROM schema_migrations WHERE version = $1::integer",
                            Params().add(migration.version));
        if (!seen) {
            return seen.takeError();
        }
        if (!seen->empty()) {
            continue;
        }
        if (auto ok = applyMigration(c, migration); !ok) {
            return ok;
        }
    }
    return {};
}

Result<MigrationState> PgStore::migrate() {
    {
        auto lease = pool_.acquire();
        if (!lease) {
            return lease.takeError();
        }
        Params lock = Params().add(kMigrationLock);
        if (auto locked = (*lease)->query("SELECT pg_advisory_lock($1::bigint)", lock); !locked) {
            return locked.takeError();
        }
        auto applied = applyMigrations(**lease);
        // Ending the session would release the lock too; a broken connection is dropped.
        (void)(*lease)->query("SELECT pg_advisory_unlock($1::bigint)", lock);
        if (!applied) {
            return applied.takeError();
        }
    }
    if (auto ok = maintainPartitions(nowMicros()); !ok) {
        return ok.takeError();
    }
    int latest = latestMigration(postgresMigrations());
    return MigrationState{latest, latest};
}

Result<Organization> PgStore::ensureDefaultOrganization() {
    const std::string find =
        "SELECT id, name, created_at FROM organizations ORDER BY created_at, id LIMIT 1";
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto rows = run(find);
        if (!rows) {
            return rows.takeError();
        }
        if (!rows->empty()) {
            return Organization{rows->text(0, 0), rows->text(0, 1), rows->integer(0, 2)};
        }
        // Another instance may create it at the same moment: the unique name keeps one.
        auto inserted =
            run("INSERT INTO organizations (id, name, created_at) "
                "VALUES ($1::uuid, $2::text, $3::bigint) ON CONFLICT (name) DO NOTHING",
                Params().add(newUuid()).add("Default").add(std::int64_t{nowMicros()}));
        if (!inserted) {
            return inserted.takeError();
        }
    }
    return internalError("the default organization vanished after it was created");
}

Result<User> PgStore::createUser(const User& user) {
    auto ok =
        run("INSERT INTO users (id, email, name, password_hash, is_staff, time_zone, created_at, "
            "updated_at) VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::boolean, $6::text, "
            "$7::bigint, $7::bigint)",
            Params()
                .add(user.id)
                .add(user.email)
                .add(user.name)
                .add(user.password_hash)
                .add(user.is_staff)
                .add(user.time_zone)
                .add(std::int64_t{user.created_at}));
    if (!ok) {
        Error error = ok.takeError();
        if (error.code == "conflict") {
            error.code = "email_taken";
            error.message = "a user with this email already exists";
        }
        return error;
    }
    return user;
}

Result<std::int64_t> PgStore::countUsers() {
    auto rows = run("SELECT count(*) FROM users");
    if (!rows) {
        return rows.takeError();
    }
    return rows->integer(0, 0);
}

Result<void> PgStore::addMembership(const std::string& user_id, const std::string& organization_id,
                                    const std::string& role) {
    return done(
        run("INSERT INTO memberships (id, user_id, organization_id, role, created_at) "
            "VALUES ($1::uuid, $2::uuid, $3::uuid, $4::text, $5::bigint)",
            Params()
                .add(newUuid())
                .add(user_id)
                .add(organization_id)
                .add(role)
                .add(std::int64_t{nowMicros()})));
}

Result<void> PgStore::createDevice(const Device& d, const DeviceKey& key) {
    auto lease = pool_.acquire();
    if (!lease) {
        return lease.takeError();
    }
    auto tx = Transaction::begin(**lease);
    if (!tx) {
        return tx.takeError();
    }
    auto inserted = (*lease)->query(
        "INSERT INTO devices (id, organization_id, serial, name, model, firmware_version, "
        "firmware_channel, site_id, asset_id, tags, status, config_overrides, health, "
        "claimed_at, created_at, updated_at) VALUES ($1::uuid, $2::uuid, $3::text, $4::text, "
        "$5::text, $6::text, $7::text, $8::uuid, $9::text, $10::jsonb, $11::text, $12::jsonb, "
        "$13::jsonb, $14::bigint, $15::bigint, $16::bigint)",
        Params()
            .add(d.id)
            .addOrNull(d.organization_id)
            .add(d.serial)
            .add(d.name)
            .add(d.model)
            .add(d.firmware_version)
            .add(d.firmware_channel)
            .addOrNull(d.site_id)
            .addOrNull(d.asset_id)
            .add(d.tags_json)
            .add(d.status)
            .add(d.config_overrides_json)
            .add(d.health_json)
            .add(d.claimed_at)
            .add(std::int64_t{d.created_at})
            .add(std::int64_t{d.updated_at}));
    if (!inserted) {
        Error error = inserted.takeError();
        if (error.code == "conflict") {
            error.code = "serial_taken";
            error.message = "a device with serial " + d.serial + " already exists";
        }
        return error;
    }
    auto keyed = (*lease)->query(
        "INSERT INTO device_keys (device_id, prefix, secret_hash, created_at, expires_at) "
        "VALUES ($1::uuid, $2::text, $3::text, $4::bigint, $5::bigint)",
        Params()
            .add(d.id)
            .add(key.prefix)
            .add(key.secret_hash)
            .add(std::int64_t{key.created_at})
            .add(key.expires_at));
    if (!keyed) {
        return keyed.takeError();
    }
    return tx->commit();
}

Result<std::optional<Device>> PgStore::findDeviceWhere(const char* condition,
                                                       const std::string& value) {
    auto rows = run(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE " + condition,
                    Params().add(value));
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<Device>();
    }
    return std::optional<Device>(readDevice(*rows, 0));
}

Result<std::optional<Device>> PgStore::findDevice(const std::string& id_or_serial) {
    if (isUuid(id_or_serial)) {
        auto by_id = findDeviceWhere("id = $1::uuid", id_or_serial);
        if (!by_id || *by_id) {
            return by_id;
        }
    }
    return findDeviceWhere("serial = $1::text", id_or_serial);
}

Result<std::vector<DeviceKey>> PgStore::activeDeviceKeys(const std::string& device_id, Micros now) {
    if (!isUuid(device_id)) {
        return std::vector<DeviceKey>();
    }
    auto rows =
        run("SELECT id, device_id, prefix, secret_hash, created_at, expires_at FROM device_keys "
            "WHERE device_id = $1::uuid AND (expires_at IS NULL OR expires_at > $2::bigint) "
            "ORDER BY id DESC",
            Params().add(device_id).add(std::int64_t{now}));
    if (!rows) {
        return rows.takeError();
    }
    std::vector<DeviceKey> keys;
    for (int row = 0; row < rows->size(); ++row) {
        keys.push_back(DeviceKey{rows->integer(row, 0), rows->text(row, 1), rows->text(row, 2),
                                 rows->text(row, 3), rows->integer(row, 4),
                                 rows->optionalInteger(row, 5)});
    }
    return keys;
}

Result<void> PgStore::recordHeartbeat(const std::string& device_id, Micros at,
                                      const std::string& health_json,
                                      const std::string& firmware_version) {
    return done(
        run("UPDATE devices SET last_seen = greatest(coalesce(last_seen, 0), $1::bigint), "
            "first_seen = coalesce(first_seen, $1::bigint), health = $2::jsonb, "
            "firmware_version = CASE WHEN $3::text = '' THEN firmware_version ELSE $3::text END, "
            "updated_at = $1::bigint WHERE id = $4::uuid",
            Params().add(std::int64_t{at}).add(health_json).add(firmware_version).add(device_id)));
}

Result<std::optional<ConfigProfile>> PgStore::configProfile(const std::string& organization_id,
                                                            const std::string& model) {
    if (!isUuid(organization_id)) {
        return std::optional<ConfigProfile>();
    }
    auto rows =
        run("SELECT id, organization_id, model, settings, version, updated_at FROM config_profiles "
            "WHERE organization_id = $1::uuid AND model = $2::text",
            Params().add(organization_id).add(model));
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<ConfigProfile>();
    }
    return std::optional<ConfigProfile>(ConfigProfile{rows->text(0, 0), rows->text(0, 1),
                                                      rows->text(0, 2), rows->text(0, 3),
                                                      rows->integer(0, 4), rows->integer(0, 5)});
}

Result<void> PgStore::saveConfigProfile(const ConfigProfile& p) {
    return done(run(
        "INSERT INTO config_profiles (id, organization_id, model, settings, version, updated_at) "
        "VALUES ($1::uuid, $2::uuid, $3::text, $4::jsonb, 1, $5::bigint) "
        "ON CONFLICT (organization_id, model) DO UPDATE SET settings = excluded.settings, "
        "version = config_profiles.version + 1, updated_at = excluded.updated_at",
        Params()
            .add(p.id.empty() ? newUuid() : p.id)
            .add(p.organization_id)
            .add(p.model)
            .add(p.settings_json)
            .add(std::int64_t{nowMicros()})));
}

Result<std::optional<Packet>> PgStore::findPacket(const std::string& device_id,
                                                  const std::string& key) {
    if (!isUuid(device_id)) {
        return std::optional<Packet>();
    }
    auto rows = run(std::string("SELECT ") + kPacketColumns +
                        " FROM packets WHERE device_id = $1::uuid AND idempotency_key = $2::text",
                    Params().add(device_id).add(key));
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<Packet>();
    }
    return std::optional<Packet>(postgres::readPacket(*rows, 0, 0));
}

Result<std::vector<IngestOutcome>> PgStore::tryCommit(std::span<IngestBatch* const> batches,
                                                      const std::set<Micros>& months, bool& retry) {
    auto lease = pool_.acquire();
    if (!lease) {
        return lease.takeError();
    }
    if (auto ok = partitions_.ensure(**lease, months); !ok) {
        return ok.takeError();
    }
    auto outcomes = postgres::commitGroup(**lease, series_, batches);
    const std::string& state = (*lease)->lastSqlState();
    if (!outcomes && state == postgres::kCheckViolation) {
        // Most likely a partition that another instance dropped after this one saw it.
        partitions_.forget();
    }
    retry =
        !outcomes && (state == postgres::kCheckViolation || state == postgres::kDeadlockDetected ||
                      state == postgres::kSerializationFailure);
    return outcomes;
}

Result<std::vector<IngestOutcome>> PgStore::commitIngest(std::span<IngestBatch* const> batches) {
    std::set<Micros> months = monthsOf(batches);
    for (int attempt = 1;; ++attempt) {
        bool retry = false;
        auto outcomes = tryCommit(batches, months, retry);
        if (outcomes || !retry || attempt == kIngestAttempts) {
            return outcomes;
        }
        retries().add();
        log::warn("ingest group commit retried",
                  {{"attempt", attempt}, {"error", outcomes.error().message}});
    }
}

Result<std::int64_t> PgStore::purgePackets(Micros cutoff) {
    std::int64_t removed = 0;
    // Bounded chunks keep each transaction and its locks short during a large backlog.
    for (;;) {
        auto rows =
            run("DELETE FROM packets WHERE id IN (SELECT id FROM packets WHERE received_at < "
                "$1::bigint ORDER BY id LIMIT 5000)",
                Params().add(std::int64_t{cutoff}));
        if (!rows) {
            return rows.takeError();
        }
        removed += rows->affected();
        if (rows->affected() < 5000) {
            return removed;
        }
    }
}

Result<void> PgStore::addFirmwareBundle(const FirmwareBundle& b) {
    auto ok = run(std::string("INSERT INTO firmware_bundles (") + kBundleColumns +
                      ") VALUES ($1::uuid, $2::text, $3::text, $4::jsonb, $5::text, $6::bigint, "
                      "$7::text, $8::text, $9::text, $10::bigint)",
                  Params()
                      .add(b.id)
                      .add(b.version)
                      .add(b.channel)
                      .add(b.models_json)
                      .add(b.release_notes)
                      .add(b.size)
                      .add(b.sha256)
                      .add(b.signature)
                      .add(b.path)
                      .add(std::int64_t{b.created_at}));
    if (!ok && ok.error().code == "conflict") {
        return Error{409,
                     "version_exists",
                     "firmware " + b.version + " already exists on channel " + b.channel,
                     {}};
    }
    return done(std::move(ok));
}

Result<std::optional<FirmwareBundle>> PgStore::findFirmwareBundle(const std::string& id) {
    if (!isUuid(id)) {
        return std::optional<FirmwareBundle>();
    }
    auto rows =
        run(std::string("SELECT ") + kBundleColumns + " FROM firmware_bundles WHERE id = $1::uuid",
            Params().add(id));
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<FirmwareBundle>();
    }
    return std::optional<FirmwareBundle>(readBundle(*rows, 0));
}

Result<std::vector<FirmwareBundle>> PgStore::firmwareBundlesFor(const std::string& model,
                                                                const std::string& channel) {
    auto rows = run(std::string("SELECT ") + kBundleColumns +
                        " FROM firmware_bundles WHERE channel = $1::text "
                        "AND models @> jsonb_build_array($2::text) ORDER BY created_at, id",
                    Params().add(channel).add(model));
    if (!rows) {
        return rows.takeError();
    }
    std::vector<FirmwareBundle> bundles;
    for (int row = 0; row < rows->size(); ++row) {
        bundles.push_back(readBundle(*rows, row));
    }
    return bundles;
}

Result<std::optional<DeviceUpdate>> PgStore::latestDeviceUpdate(const std::string& device_id) {
    if (!isUuid(device_id)) {
        return std::optional<DeviceUpdate>();
    }
    auto rows =
        run("SELECT id, device_id, bundle_id, from_version, to_version, status, error, created_at, "
            "updated_at FROM device_updates WHERE device_id = $1::uuid "
            "ORDER BY updated_at DESC, seq DESC LIMIT 1",
            Params().add(device_id));
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<DeviceUpdate>();
    }
    const Rows& r = *rows;
    return std::optional<DeviceUpdate>(
        DeviceUpdate{r.text(0, 0), r.text(0, 1), r.text(0, 2), r.text(0, 3), r.text(0, 4),
                     r.text(0, 5), r.text(0, 6), r.integer(0, 7), r.integer(0, 8)});
}

Result<void> PgStore::saveDeviceUpdate(const DeviceUpdate& u) {
    return done(run(
        "INSERT INTO device_updates (id, device_id, bundle_id, from_version, to_version, status, "
        "error, created_at, updated_at) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::text, "
        "$5::text, $6::text, $7::text, $8::bigint, $9::bigint) "
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status, error = excluded.error, "
        "updated_at = excluded.updated_at",
        Params()
            .add(u.id)
            .add(u.device_id)
            .add(u.bundle_id)
            .add(u.from_version)
            .add(u.to_version)
            .add(u.status)
            .add(u.error)
            .add(std::int64_t{u.created_at})
            .add(std::int64_t{u.updated_at})));
}

Result<void> PgStore::setDeviceFirmware(const std::string& device_id, const std::string& version) {
    return done(
        run("UPDATE devices SET firmware_version = $1::text, updated_at = $2::bigint "
            "WHERE id = $3::uuid",
            Params().add(version).add(std::int64_t{nowMicros()}).add(device_id)));
}

Result<void> PgStore::insertEvent(const std::string& device_id, const std::string& organization_id,
                                  const EventRow& event) {
    IngestBatch batch;
    batch.device_id = device_id;
    batch.organization_id = organization_id;
    batch.received_at = nowMicros();
    batch.events.push_back(event);
    IngestBatch* batches[] = {&batch};
    std::vector<IngestCounts> counts(1);
    auto lease = pool_.acquire();
    if (!lease) {
        return lease.takeError();
    }
    auto tx = Transaction::begin(**lease);
    if (!tx) {
        return tx.takeError();
    }
    if (auto ok = postgres::writeEvents(**lease, batches, {true}, counts); !ok) {
        return ok;
    }
    return tx->commit();
}

Result<void> PgStore::maintainPartitions(Micros now) {
    std::set<Micros> months;
    for (int ahead = 0; ahead <= postgres::Partitions::kMonthsAhead; ++ahead) {
        months.insert(monthsLater(now, ahead));
    }
    auto lease = pool_.acquire();
    if (!lease) {
        return lease.takeError();
    }
    return partitions_.ensure(**lease, months);
}

Result<void> PgStore::dropTelemetryBefore(Micros cutoff) {
    auto lease = pool_.acquire();
    if (!lease) {
        return lease.takeError();
    }
    return partitions_.dropBefore(**lease, cutoff);
}

Result<bool> PgStore::claimJob(const std::string& name, Micros now, Micros lease) {
    // Concurrent claimers of one row queue on its lock; each then sees the winner's
    // locked_until, so exactly one of them gets a row back.
    auto rows =
        run("INSERT INTO jobs (name, locked_until, last_run_at, owner) "
            "VALUES ($1::text, $2::bigint + $3::bigint, $2::bigint, $4::text) "
            "ON CONFLICT (name) DO UPDATE SET locked_until = excluded.locked_until, "
            "last_run_at = excluded.last_run_at, owner = excluded.owner "
            "WHERE jobs.locked_until <= excluded.last_run_at RETURNING name",
            Params().add(name).add(std::int64_t{now}).add(std::int64_t{lease}).add(owner_));
    if (!rows) {
        return rows.takeError();
    }
    return !rows->empty();
}

}  // namespace

Result<std::unique_ptr<Store>> openPostgresStore(const std::string& url,
                                                 std::size_t max_connections) {
    auto store = std::make_unique<PgStore>(url, max_connections);
    // Fails start-up early with the server's own reason when it cannot be reached.
    if (auto ok = store->migrationState(); !ok) {
        return ok.takeError();
    }
    return std::unique_ptr<Store>(std::move(store));
}

}  // namespace esocore::store
