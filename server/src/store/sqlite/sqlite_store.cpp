#include "store/sqlite/sqlite_store.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <mutex>
#include <unordered_map>

#include "core/crypto.h"
#include "store/migrations.h"
#include "store/months.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_sql.h"

namespace esocore::store {

namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

constexpr const char* kDeviceColumns =
    "id, coalesce(organization_id, ''), serial, name, model, firmware_version, "
    "firmware_channel, coalesce(site_id, ''), coalesce(asset_id, ''), tags, status, "
    "config_overrides, health, last_seen, first_seen, claimed_at, created_at, updated_at";

Device readDevice(const Statement& s) {
    Device d;
    d.id = s.text(0);
    d.organization_id = s.text(1);
    d.serial = s.text(2);
    d.name = s.text(3);
    d.model = s.text(4);
    d.firmware_version = s.text(5);
    d.firmware_channel = s.text(6);
    d.site_id = s.text(7);
    d.asset_id = s.text(8);
    d.tags_json = s.text(9);
    d.status = s.text(10);
    d.config_overrides_json = s.text(11);
    d.health_json = s.text(12);
    d.last_seen = s.optionalInteger(13);
    d.first_seen = s.optionalInteger(14);
    d.claimed_at = s.optionalInteger(15);
    d.created_at = s.integer(16);
    d.updated_at = s.integer(17);
    return d;
}

constexpr const char* kPacketColumns =
    "id, device_id, idempotency_key, body_sha256, received_at, accepted, duplicates, rejected, "
    "points, events, errors";

Packet readPacket(const Statement& s) {
    Packet p;
    p.id = s.integer(0);
    p.device_id = s.text(1);
    p.idempotency_key = s.text(2);
    p.body_sha256 = s.text(3);
    p.received_at = s.integer(4);
    p.counts = {s.integer(5), s.integer(6), s.integer(7), s.integer(8), s.integer(9)};
    p.errors_json = s.text(10);
    return p;
}

constexpr const char* kBundleColumns =
    "id, version, channel, models, release_notes, size, sha256, signature, path, created_at";

FirmwareBundle readBundle(const Statement& s) {
    return FirmwareBundle{s.text(0),    s.text(1), s.text(2), s.text(3), s.text(4),
                          s.integer(5), s.text(6), s.text(7), s.text(8), s.integer(9)};
}

std::string errorsJson(const std::vector<RecordError>& errors) {
    boost::json::array out;
    out.reserve(errors.size());
    for (const auto& e : errors) {
        out.push_back(boost::json::object{{"index", e.index}, {"code", e.code}});
    }
    return boost::json::serialize(out);
}

// Who holds a claimed job, for people reading the jobs table: host, process and store.
std::string jobOwner() {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(getpid()) + ":" + newUuid().substr(0, 8);
}

// Where one point of a group came from, so that its outcome is counted for its batch.
struct PointRef {
    std::int64_t series_id;
    Micros ts;
    std::uint32_t batch;
    std::uint32_t point;
};

class SqliteStore final : public Store {
public:
    SqliteStore(std::string path, std::unique_ptr<Connection> writer)
        : path_(std::move(path)), writer_(std::move(writer)) {}

    std::string dialect() const override { return "sqlite"; }

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
    // Portable statements: read-only ones on a reader, the rest on the writer.
    class Sql final : public SqlSession {
    public:
        explicit Sql(SqliteStore& store) : store_(store) {}
        std::string dialect() const override { return "sqlite"; }
        Result<std::vector<SqlRow>> query(std::string_view sql, const SqlParams& params) override;
        Result<std::int64_t> execute(std::string_view sql, const SqlParams& params) override;
        Result<void> transaction(const std::function<Result<void>(SqlSession&)>& work) override;

    private:
        SqliteStore& store_;
    };

    // A reader connection, returned to the pool when the lease ends.
    class Lease {
    public:
        Lease(SqliteStore& store, std::unique_ptr<Connection> c)
            : store_(store), connection_(std::move(c)) {}
        ~Lease() { store_.release(std::move(connection_)); }
        Connection* operator->() { return connection_.get(); }
        Connection& operator*() { return *connection_; }

    private:
        SqliteStore& store_;
        std::unique_ptr<Connection> connection_;
    };

    Result<std::unique_ptr<Lease>> reader();
    void release(std::unique_ptr<Connection> connection);

    Result<std::vector<IngestOutcome>> commitIngestLocked(std::span<IngestBatch* const> batches);
    Result<std::optional<Packet>> findPacketWith(Connection& c, const std::string& device_id,
                                                 const std::string& key);
    Result<std::int64_t> seriesId(const std::string& device_id, const PointRow& point);
    Result<void> writePoints(std::span<IngestBatch* const> batches, const std::vector<bool>& apply,
                             std::vector<IngestCounts>& counts);
    Result<void> writeEvents(const IngestBatch& batch, IngestCounts& counts);
    Result<void> writeWindows(const IngestBatch& batch);
    Result<void> writeCycle(const std::string& device_id, const EventRow& event);
    Result<void> touchDevice(const IngestBatch& batch);
    Result<Packet> writePacket(const IngestBatch& batch, const IngestCounts& counts);
    Result<std::vector<std::int64_t>> seriesIds();
    Result<int> deleteOldPoints(std::int64_t series_id, Micros before);

    std::string path_;
    std::string owner_ = jobOwner();
    std::mutex writer_mutex_;
    std::unique_ptr<Connection> writer_;
    std::unordered_map<std::string, std::int64_t> series_ids_;  // guarded by writer_mutex_
    std::mutex readers_mutex_;
    std::vector<std::unique_ptr<Connection>> readers_;
    Sql sql_{*this};

    Result<sqlite::StatementOutcome> runPortable(std::string_view sql, const SqlParams& params);
};

Result<sqlite::StatementOutcome> SqliteStore::runPortable(std::string_view sql,
                                                          const SqlParams& params) {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    auto read_only = sqlite::isReadOnly(*(**lease), sql);
    if (!read_only) {
        return read_only.takeError();
    }
    if (*read_only) {
        return sqlite::runStatement(*(**lease), sql, params);
    }
    std::lock_guard lock(writer_mutex_);
    return sqlite::runStatement(*writer_, sql, params);
}

Result<std::vector<SqlRow>> SqliteStore::Sql::query(std::string_view sql, const SqlParams& params) {
    auto outcome = store_.runPortable(sql, params);
    if (!outcome) {
        return outcome.takeError();
    }
    return std::move(outcome->rows);
}

Result<std::int64_t> SqliteStore::Sql::execute(std::string_view sql, const SqlParams& params) {
    auto outcome = store_.runPortable(sql, params);
    if (!outcome) {
        return outcome.takeError();
    }
    return outcome->changes;
}

Result<void> SqliteStore::Sql::transaction(const std::function<Result<void>(SqlSession&)>& work) {
    std::lock_guard lock(store_.writer_mutex_);
    auto tx = Transaction::begin(*store_.writer_);
    if (!tx) {
        return tx.takeError();
    }
    sqlite::ConnectionSession session(*store_.writer_);
    if (auto ok = work(session); !ok) {
        return ok;
    }
    return tx->commit();
}

Result<std::unique_ptr<SqliteStore::Lease>> SqliteStore::reader() {
    {
        std::lock_guard lock(readers_mutex_);
        if (!readers_.empty()) {
            auto c = std::move(readers_.back());
            readers_.pop_back();
            return std::make_unique<Lease>(*this, std::move(c));
        }
    }
    auto opened = Connection::open(path_, "NORMAL");
    if (!opened) {
        return opened.takeError();
    }
    return std::make_unique<Lease>(*this, std::move(opened).value());
}

void SqliteStore::release(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(readers_mutex_);
    if (readers_.size() < 16) {
        readers_.push_back(std::move(connection));
    }
}

bool SqliteStore::ping() {
    auto lease = reader();
    if (!lease) {
        return false;
    }
    auto stmt = (**lease)->prepare("SELECT 1");
    return stmt && (*stmt)->step() == SQLITE_ROW;
}

Result<MigrationState> SqliteStore::migrationState() {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    MigrationState state{0, latestMigration(sqliteMigrations())};
    auto exists = (**lease)->prepare(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'");
    if (!exists) {
        return exists.takeError();
    }
    if ((*exists)->step() != SQLITE_ROW || (*exists)->integer(0) == 0) {
        return state;
    }
    auto stmt = (**lease)->prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!stmt) {
        return stmt.takeError();
    }
    if ((*stmt)->step() == SQLITE_ROW) {
        state.current = static_cast<int>((*stmt)->integer(0));
    }
    return state;
}

Result<MigrationState> SqliteStore::migrate() {
    std::lock_guard lock(writer_mutex_);
    if (auto ok = writer_->exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
                                "PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
        !ok) {
        return ok.takeError();
    }
    for (const auto& migration : sqliteMigrations()) {
        auto tx = Transaction::begin(*writer_);
        if (!tx) {
            return tx.takeError();
        }
        auto seen = writer_->prepare("SELECT 1 FROM schema_migrations WHERE version = ?");
        if (!seen) {
            return seen.takeError();
        }
        if ((*seen)->bind(1, migration.version).step() == SQLITE_ROW) {
            continue;
        }
        if (auto ok = writer_->exec(migration.sql); !ok) {
            Error error = ok.takeError();
            error.message = "migration " + std::string(migration.name) + ": " + error.message;
            return error;
        }
        auto mark = writer_->prepare(
            "INSERT INTO schema_migrations(version, name, applied_at) VALUES(?, ?, ?)");
        if (!mark) {
            return mark.takeError();
        }
        if (auto ok = (*mark)
                          ->bind(1, migration.version)
                          .bind(2, migration.name)
                          .bind(3, nowMicros())
                          .run();
            !ok) {
            return ok.takeError();
        }
        if (auto ok = tx->commit(); !ok) {
            return ok.takeError();
        }
    }
    int latest = latestMigration(sqliteMigrations());
    return MigrationState{latest, latest};
}

Result<Organization> SqliteStore::ensureDefaultOrganization() {
    std::lock_guard lock(writer_mutex_);
    auto find = writer_->prepare(
        "SELECT id, name, created_at FROM organizations "
        "ORDER BY created_at, id LIMIT 1");
    if (!find) {
        return find.takeError();
    }
    if ((*find)->step() == SQLITE_ROW) {
        return Organization{(*find)->text(0), (*find)->text(1), (*find)->integer(2)};
    }
    Organization org{newUuid(), "Default", nowMicros()};
    auto insert =
        writer_->prepare("INSERT INTO organizations(id, name, created_at) VALUES(?, ?, ?)");
    if (!insert) {
        return insert.takeError();
    }
    if (auto ok = (*insert)->bind(1, org.id).bind(2, org.name).bind(3, org.created_at).run(); !ok) {
        return ok.takeError();
    }
    return org;
}

Result<User> SqliteStore::createUser(const User& user) {
    std::lock_guard lock(writer_mutex_);
    auto stmt = writer_->prepare(
        "INSERT INTO users(id, email, name, password_hash, is_staff, time_zone, created_at, "
        "updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt) {
        return stmt.takeError();
    }
    auto ok = (*stmt)
                  ->bind(1, user.id)
                  .bind(2, user.email)
                  .bind(3, user.name)
                  .bind(4, user.password_hash)
                  .bind(5, user.is_staff ? 1 : 0)
                  .bind(6, user.time_zone)
                  .bind(7, user.created_at)
                  .bind(8, user.created_at)
                  .run();
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

Result<std::int64_t> SqliteStore::countUsers() {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    auto stmt = (**lease)->prepare("SELECT count(*) FROM users");
    if (!stmt) {
        return stmt.takeError();
    }
    (*stmt)->step();
    return (*stmt)->integer(0);
}

Result<void> SqliteStore::addMembership(const std::string& user_id,
                                        const std::string& organization_id,
                                        const std::string& role) {
    std::lock_guard lock(writer_mutex_);
    auto stmt = writer_->prepare(
        "INSERT INTO memberships(id, user_id, organization_id, role, created_at) "
        "VALUES(?, ?, ?, ?, ?)");
    if (!stmt) {
        return stmt.takeError();
    }
    return (*stmt)
        ->bind(1, newUuid())
        .bind(2, user_id)
        .bind(3, organization_id)
        .bind(4, role)
        .bind(5, nowMicros())
        .run();
}

Result<void> SqliteStore::createDevice(const Device& d, const DeviceKey& key) {
    std::lock_guard lock(writer_mutex_);
    auto tx = Transaction::begin(*writer_);
    if (!tx) {
        return tx.takeError();
    }
    auto insert = writer_->prepare(
        "INSERT INTO devices(id, organization_id, serial, name, model, firmware_version, "
        "firmware_channel, site_id, asset_id, tags, status, config_overrides, health, "
        "claimed_at, created_at, updated_at) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) {
        return insert.takeError();
    }
    auto ok = (*insert)
                  ->bind(1, d.id)
                  .bindOrNull(2, d.organization_id)
                  .bind(3, d.serial)
                  .bind(4, d.name)
                  .bind(5, d.model)
                  .bind(6, d.firmware_version)
                  .bind(7, d.firmware_channel)
                  .bindOrNull(8, d.site_id)
                  .bindOrNull(9, d.asset_id)
                  .bind(10, d.tags_json)
                  .bind(11, d.status)
                  .bind(12, d.config_overrides_json)
                  .bind(13, d.health_json)
                  .bind(14, d.claimed_at)
                  .bind(15, d.created_at)
                  .bind(16, d.updated_at)
                  .run();
    if (!ok) {
        Error error = ok.takeError();
        if (error.code == "conflict") {
            error.code = "serial_taken";
            error.message = "a device with serial " + d.serial + " already exists";
        }
        return error;
    }
    auto add_key = writer_->prepare(
        "INSERT INTO device_keys(device_id, prefix, secret_hash, created_at, expires_at) "
        "VALUES(?, ?, ?, ?, ?)");
    if (!add_key) {
        return add_key.takeError();
    }
    if (auto ok2 = (*add_key)
                       ->bind(1, d.id)
                       .bind(2, key.prefix)
                       .bind(3, key.secret_hash)
                       .bind(4, key.created_at)
                       .bind(5, key.expires_at)
                       .run();
        !ok2) {
        return ok2;
    }
    return tx->commit();
}

Result<std::optional<Device>> SqliteStore::findDevice(const std::string& id_or_serial) {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    for (const char* column : {"id", "serial"}) {
        if (std::string_view(column) == "id" && !isUuid(id_or_serial)) {
            continue;
        }
        auto stmt = (**lease)->prepare(std::string("SELECT ") + kDeviceColumns +
                                       " FROM devices WHERE " + column + " = ?");
        if (!stmt) {
            return stmt.takeError();
        }
        if ((*stmt)->bind(1, id_or_serial).step() == SQLITE_ROW) {
            return std::optional<Device>(readDevice(**stmt));
        }
    }
    return std::optional<Device>();
}

Result<std::vector<DeviceKey>> SqliteStore::activeDeviceKeys(const std::string& device_id,
                                                             Micros now) {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    auto stmt = (**lease)->prepare(
        "SELECT id, device_id, prefix, secret_hash, created_at, expires_at FROM device_keys "
        "WHERE device_id = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id DESC");
    if (!stmt) {
        return stmt.takeError();
    }
    (*stmt)->bind(1, device_id).bind(2, now);
    std::vector<DeviceKey> keys;
    while ((*stmt)->step() == SQLITE_ROW) {
        auto& s = **stmt;
        keys.push_back(DeviceKey{s.integer(0), s.text(1), s.text(2), s.text(3), s.integer(4),
                                 s.optionalInteger(5)});
    }
    return keys;
}

Result<void> SqliteStore::recordHeartbeat(const std::string& device_id, Micros at,
                                          const std::string& health_json,
                                          const std::string& firmware_version) {
    std::lock_guard lock(writer_mutex_);
    auto stmt = writer_->prepare(
        "UPDATE devices SET last_seen = max(coalesce(last_seen, 0), ?1), "
        "first_seen = coalesce(first_seen, ?1), health = ?2, "
        "firmware_version = CASE WHEN ?3 = '' THEN firmware_version ELSE ?3 END, "
        "updated_at = ?1 WHERE id = ?4");
    if (!stmt) {
        return stmt.takeError();
    }
    return (*stmt)
        ->bind(1, at)
        .bind(2, health_json)
        .bind(3, firmware_version)
        .bind(4, device_id)
        .run();
}

Result<std::optional<ConfigProfile>> SqliteStore::configProfile(const std::string& organization_id,
                                                                const std::string& model) {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    auto stmt = (**lease)->prepare(
        "SELECT id, organization_id, model, settings, version, updated_at FROM config_profiles "
        "WHERE organization_id = ? AND model = ?");
    if (!stmt) {
        return stmt.takeError();
    }
    if ((*stmt)->bind(1, organization_id).bind(2, model).step() != SQLITE_ROW) {
        return std::optional<ConfigProfile>();
    }
    auto& s = **stmt;
    return std::optional<ConfigProfile>(
        ConfigProfile{s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4), s.integer(5)});
}

Result<void> SqliteStore::saveConfigProfile(const ConfigProfile& p) {
    std::lock_guard lock(writer_mutex_);
    auto stmt = writer_->prepare(
        "INSERT INTO config_profiles(id, organization_id, model, settings, version, updated_at) "
        "VALUES(?, ?, ?, ?, 1, ?) ON CONFLICT(organization_id, model) DO UPDATE SET "
        "settings = excluded.settings, version = config_profiles.version + 1, "
        "updated_at = excluded.updated_at");
    if (!stmt) {
        return stmt.takeError();
    }
    return (*stmt)
        ->bind(1, p.id.empty() ? newUuid() : p.id)
        .bind(2, p.organization_id)
        .bind(3, p.model)
        .bind(4, p.settings_json)
        .bind(5, nowMicros())
        .run();
}

Result<std::optional<Packet>> SqliteStore::findPacketWith(Connection& c,
                                                          const std::string& device_id,
                                                          const std::string& key) {
    auto stmt = c.prepare(std::string("SELECT ") + kPacketColumns +
                          " FROM packets WHERE device_id = ? AND idempotency_key = ?");
    if (!stmt) {
        return stmt.takeError();
    }
    if ((*stmt)->bind(1, device_id).bind(2, key).step() != SQLITE_ROW) {
        return std::optional<Packet>();
    }
    return std::optional<Packet>(readPacket(**stmt));
}

Result<std::optional<Packet>> SqliteStore::findPacket(const std::string& device_id,
                                                      const std::string& key) {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    return findPacketWith(***lease, device_id, key);
}

Result<std::int64_t> SqliteStore::seriesId(const std::string& device_id, const PointRow& point) {
    std::string cache_key = device_id;
    cache_key += '\x1f';
    cache_key += point.series;
    if (auto found = series_ids_.find(cache_key); found != series_ids_.end()) {
        return found->second;
    }
    auto stmt = writer_->prepare(
        "INSERT INTO series(device_id, name, unit, created_at) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(device_id, name) DO UPDATE SET unit = excluded.unit RETURNING id");
    if (!stmt) {
        return stmt.takeError();
    }
    (*stmt)->bind(1, device_id).bind(2, point.series).bind(3, point.unit).bind(4, nowMicros());
    if ((*stmt)->step() != SQLITE_ROW) {
        return sqlite::sqliteError(writer_->handle(), "series");
    }
    std::int64_t id = (*stmt)->integer(0);
    (*stmt)->reset();
    series_ids_.emplace(std::move(cache_key), id);
    return id;
}

Result<void> SqliteStore::writePoints(std::span<IngestBatch* const> batches,
                                      const std::vector<bool>& apply,
                                      std::vector<IngestCounts>& counts) {
    std::vector<PointRef> refs;
    for (std::uint32_t b = 0; b < batches.size(); ++b) {
        if (!apply[b]) {
            continue;
        }
        const auto& points = batches[b]->points;
        for (std::uint32_t p = 0; p < points.size(); ++p) {
            auto id = seriesId(batches[b]->device_id, points[p]);
            if (!id) {
                return id.takeError();
            }
            refs.push_back(PointRef{*id, points[p].ts, b, p});
        }
    }
    // B-tree order makes the inserts sequential; a stable sort keeps arrival order for equal
    // keys so that the last write wins.
    std::stable_sort(refs.begin(), refs.end(), [](const PointRef& a, const PointRef& b) {
        return a.series_id != b.series_id ? a.series_id < b.series_id : a.ts < b.ts;
    });
    auto stmt = writer_->prepare(
        "INSERT INTO points(series_id, ts, value, meta) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(series_id, ts) DO UPDATE SET value = excluded.value, meta = excluded.meta "
        "WHERE points.value IS NOT excluded.value OR points.meta IS NOT excluded.meta");
    if (!stmt) {
        return stmt.takeError();
    }
    for (const auto& ref : refs) {
        const PointRow& point = batches[ref.batch]->points[ref.point];
        (*stmt)
            ->reset()
            .bind(1, ref.series_id)
            .bind(2, point.ts)
            .bind(3, point.value)
            .bindOrNull(4, point.meta_json);
        if ((*stmt)->step() != SQLITE_DONE) {
            return sqlite::sqliteError(writer_->handle(), "point");
        }
        IngestCounts& c = counts[ref.batch];
        if ((*stmt)->changes() > 0) {
            ++c.points;
            ++c.accepted;
        } else {
            ++c.duplicates;
        }
    }
    return {};
}

Result<void> SqliteStore::writeCycle(const std::string& device_id, const EventRow& event) {
    const CycleMark& cycle = *event.cycle;
    auto stmt = writer_->prepare(
        cycle.opens
            ? "INSERT INTO asset_cycles(device_id, asset_ref, cycle_id, started_at, metadata) "
              "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(device_id, asset_ref, cycle_id) "
              "DO UPDATE SET started_at = excluded.started_at"
            : "INSERT INTO asset_cycles(device_id, asset_ref, cycle_id, ended_at, duration_ms, "
              "metadata) VALUES(?1, ?2, ?3, ?4, ?6, ?5) "
              "ON CONFLICT(device_id, asset_ref, cycle_id) DO UPDATE SET "
              "ended_at = excluded.ended_at, duration_ms = coalesce(excluded.duration_ms, "
              "(excluded.ended_at - asset_cycles.started_at) / 1000)");
    if (!stmt) {
        return stmt.takeError();
    }
    (*stmt)
        ->bind(1, device_id)
        .bind(2, cycle.asset_ref)
        .bind(3, cycle.cycle_id)
        .bind(4, event.ts)
        .bind(5, event.meta_json);
    if (!cycle.opens) {
        (*stmt)->bind(6, cycle.duration_ms);
    }
    return (*stmt)->run();
}

Result<void> SqliteStore::writeEvents(const IngestBatch& batch, IngestCounts& counts) {
    auto stmt = writer_->prepare(
        "INSERT INTO events(id, organization_id, device_id, asset_ref, site_ref, ts, "
        "received_at, type, category, severity, description, duration_ms, metadata, status) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(device_id, type, ts) DO NOTHING");
    if (!stmt) {
        return stmt.takeError();
    }
    for (const auto& event : batch.events) {
        (*stmt)
            ->reset()
            .bind(1, newUuid())
            .bindOrNull(2, batch.organization_id)
            .bind(3, batch.device_id)
            .bind(4, event.asset_ref)
            .bind(5, event.site_ref)
            .bind(6, event.ts)
            .bind(7, batch.received_at)
            .bind(8, event.type)
            .bind(9, event.category)
            .bind(10, event.severity)
            .bind(11, event.description)
            .bind(12, event.duration_ms)
            .bind(13, event.meta_json)
            .bind(14, event.severity == "info" ? "resolved" : "active");
        if ((*stmt)->step() != SQLITE_DONE) {
            return sqlite::sqliteError(writer_->handle(), "event");
        }
        if ((*stmt)->changes() == 0) {
            ++counts.duplicates;
            continue;
        }
        ++counts.events;
        ++counts.accepted;
        if (event.cycle) {
            if (auto ok = writeCycle(batch.device_id, event); !ok) {
                return ok;
            }
        }
    }
    return {};
}

// A window sent again for the same series and start replaces the stored one.
Result<void> SqliteStore::writeWindows(const IngestBatch& batch) {
    auto stmt = writer_->prepare(
        "INSERT INTO telemetry_windows(device_id, name, start_ts, end_ts, stats, received_at) "
        "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(device_id, name, start_ts) DO UPDATE SET "
        "end_ts = excluded.end_ts, stats = excluded.stats, received_at = excluded.received_at");
    if (!stmt) {
        return stmt.takeError();
    }
    for (const auto& window : batch.windows) {
        (*stmt)
            ->reset()
            .bind(1, batch.device_id)
            .bind(2, window.name)
            .bind(3, window.start)
            .bind(4, window.end)
            .bind(5, window.stats_json)
            .bind(6, batch.received_at);
        if ((*stmt)->step() != SQLITE_DONE) {
            return sqlite::sqliteError(writer_->handle(), "window");
        }
    }
    return {};
}

Result<void> SqliteStore::touchDevice(const IngestBatch& batch) {
    auto stmt = writer_->prepare(
        "UPDATE devices SET last_seen = max(coalesce(last_seen, 0), ?1), "
        "first_seen = coalesce(first_seen, ?1) WHERE id = ?2");
    if (!stmt) {
        return stmt.takeError();
    }
    return (*stmt)->bind(1, batch.received_at).bind(2, batch.device_id).run();
}

Result<Packet> SqliteStore::writePacket(const IngestBatch& batch, const IngestCounts& counts) {
    Packet packet{0,
                  batch.device_id,
                  batch.idempotency_key,
                  batch.body_sha256,
                  batch.received_at,
                  counts,
                  errorsJson(batch.errors)};
    auto stmt = writer_->prepare(
        "INSERT INTO packets(device_id, idempotency_key, body_sha256, received_at, accepted, "
        "duplicates, rejected, points, events, errors) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id");
    if (!stmt) {
        return stmt.takeError();
    }
    (*stmt)
        ->bind(1, packet.device_id)
        .bind(2, packet.idempotency_key)
        .bind(3, packet.body_sha256)
        .bind(4, packet.received_at)
        .bind(5, counts.accepted)
        .bind(6, counts.duplicates)
        .bind(7, counts.rejected)
        .bind(8, counts.points)
        .bind(9, counts.events)
        .bind(10, packet.errors_json);
    if ((*stmt)->step() != SQLITE_ROW) {
        return sqlite::sqliteError(writer_->handle(), "packet");
    }
    packet.id = (*stmt)->integer(0);
    (*stmt)->reset();
    return packet;
}

Result<std::vector<IngestOutcome>> SqliteStore::commitIngest(
    std::span<IngestBatch* const> batches) {
    std::lock_guard lock(writer_mutex_);
    auto outcomes = commitIngestLocked(batches);
    if (!outcomes) {
        // Series created by the rolled-back transaction are gone: forget their ids too.
        series_ids_.clear();
    }
    return outcomes;
}

Result<std::vector<IngestOutcome>> SqliteStore::commitIngestLocked(
    std::span<IngestBatch* const> batches) {
    auto tx = Transaction::begin(*writer_);
    if (!tx) {
        return tx.takeError();
    }
    std::vector<IngestOutcome> outcomes(batches.size());
    std::vector<bool> apply(batches.size(), true);
    std::vector<IngestCounts> counts(batches.size());
    for (std::size_t i = 0; i < batches.size(); ++i) {
        const IngestBatch& batch = *batches[i];
        for (std::size_t j = 0; j < i && apply[i]; ++j) {
            apply[i] = !(apply[j] && batches[j]->device_id == batch.device_id &&
                         batches[j]->idempotency_key == batch.idempotency_key);
        }
        auto existing = findPacketWith(*writer_, batch.device_id, batch.idempotency_key);
        if (!existing) {
            return existing.takeError();
        }
        if (*existing) {
            apply[i] = false;
            outcomes[i].packet = **existing;
        }
        counts[i].rejected = batch.rejected;
    }
    if (auto ok = writePoints(batches, apply, counts); !ok) {
        return ok.takeError();
    }
    for (std::size_t i = 0; i < batches.size(); ++i) {
        if (!apply[i]) {
            continue;
        }
        if (auto ok = writeEvents(*batches[i], counts[i]); !ok) {
            return ok.takeError();
        }
        if (!batches[i]->windows.empty()) {
            if (auto ok = writeWindows(*batches[i]); !ok) {
                return ok.takeError();
            }
        }
        if (auto ok = touchDevice(*batches[i]); !ok) {
            return ok.takeError();
        }
        auto packet = writePacket(*batches[i], counts[i]);
        if (!packet) {
            return packet.takeError();
        }
        outcomes[i] = IngestOutcome{IngestOutcome::Kind::applied, std::move(*packet)};
    }
    if (auto ok = tx->commit(); !ok) {
        return ok.takeError();
    }
    for (std::size_t i = 0; i < batches.size(); ++i) {
        if (apply[i]) {
            continue;
        }
        if (outcomes[i].packet.id == 0) {
            // Same key twice in one group: the earlier batch of the group is the original.
            for (std::size_t j = 0; j < i; ++j) {
                if (apply[j] && batches[j]->device_id == batches[i]->device_id &&
                    batches[j]->idempotency_key == batches[i]->idempotency_key) {
                    outcomes[i].packet = outcomes[j].packet;
                }
            }
        }
        outcomes[i].kind = outcomes[i].packet.body_sha256 == batches[i]->body_sha256
                               ? IngestOutcome::Kind::replayed
                               : IngestOutcome::Kind::conflict;
    }
    return outcomes;
}

Result<std::int64_t> SqliteStore::purgePackets(Micros cutoff) {
    std::int64_t removed = 0;
    // Bounded chunks keep the writer lock short while a large backlog is removed.
    for (;;) {
        std::lock_guard lock(writer_mutex_);
        auto stmt = writer_->prepare(
            "DELETE FROM packets WHERE id IN (SELECT id FROM packets WHERE received_at < ? "
            "LIMIT 5000)");
        if (!stmt) {
            return stmt.takeError();
        }
        if (auto ok = (*stmt)->bind(1, cutoff).run(); !ok) {
            return ok.takeError();
        }
        int changed = (*stmt)->changes();
        removed += changed;
        if (changed < 5000) {
            return removed;
        }
    }
}

Result<void> SqliteStore::addFirmwareBundle(const FirmwareBundle& b) {
    std::lock_guard lock(writer_mutex_);
    auto stmt = writer_->prepare(std::string("INSERT INTO firmware_bundles(") + kBundleColumns +
                                 ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!stmt) {
        return stmt.takeError();
    }
    auto ok = (*stmt)
                  ->bind(1, b.id)
                  .bind(2, b.version)
                  .bind(3, b.channel)
                  .bind(4, b.models_json)
                  .bind(5, b.release_notes)
                  .bind(6, b.size)
                  .bind(7, b.sha256)
                  .bind(8, b.signature)
                  .bind(9, b.path)
                  .bind(10, b.created_at)
                  .run();
    if (!ok && ok.error().code == "conflict") {
        return Error{409,
                     "version_exists",
                     "firmware " + b.version + " already exists on channel " + b.channel,
                     {}};
    }
    return ok;
}

Result<std::optional<FirmwareBundle>> SqliteStore::findFirmwareBundle(const std::string& id) {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    auto stmt = (**lease)->prepare(std::string("SELECT ") + kBundleColumns +
                                   " FROM firmware_bundles WHERE id = ?");
    if (!stmt) {
        return stmt.takeError();
    }
    if ((*stmt)->bind(1, id).step() != SQLITE_ROW) {
        return std::optional<FirmwareBundle>();
    }
    return std::optional<FirmwareBundle>(readBundle(**stmt));
}

Result<std::vector<FirmwareBundle>> SqliteStore::firmwareBundlesFor(const std::string& model,
                                                                    const std::string& channel) {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    auto stmt = (**lease)->prepare(
        std::string("SELECT ") + kBundleColumns +
        " FROM firmware_bundles WHERE channel = ? AND EXISTS (SELECT 1 FROM json_each(models) "
        "WHERE json_each.value = ?)");
    if (!stmt) {
        return stmt.takeError();
    }
    (*stmt)->bind(1, channel).bind(2, model);
    std::vector<FirmwareBundle> bundles;
    while ((*stmt)->step() == SQLITE_ROW) {
        bundles.push_back(readBundle(**stmt));
    }
    return bundles;
}

Result<std::optional<DeviceUpdate>> SqliteStore::latestDeviceUpdate(const std::string& device_id) {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    auto stmt = (**lease)->prepare(
        "SELECT id, device_id, bundle_id, from_version, to_version, status, error, created_at, "
        "updated_at FROM device_updates WHERE device_id = ? ORDER BY updated_at DESC, rowid DESC "
        "LIMIT 1");
    if (!stmt) {
        return stmt.takeError();
    }
    if ((*stmt)->bind(1, device_id).step() != SQLITE_ROW) {
        return std::optional<DeviceUpdate>();
    }
    auto& s = **stmt;
    return std::optional<DeviceUpdate>(DeviceUpdate{s.text(0), s.text(1), s.text(2), s.text(3),
                                                    s.text(4), s.text(5), s.text(6), s.integer(7),
                                                    s.integer(8)});
}

Result<void> SqliteStore::saveDeviceUpdate(const DeviceUpdate& u) {
    std::lock_guard lock(writer_mutex_);
    auto stmt = writer_->prepare(
        "INSERT INTO device_updates(id, device_id, bundle_id, from_version, to_version, status, "
        "error, created_at, updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET status = excluded.status, error = excluded.error, "
        "updated_at = excluded.updated_at");
    if (!stmt) {
        return stmt.takeError();
    }
    return (*stmt)
        ->bind(1, u.id)
        .bind(2, u.device_id)
        .bind(3, u.bundle_id)
        .bind(4, u.from_version)
        .bind(5, u.to_version)
        .bind(6, u.status)
        .bind(7, u.error)
        .bind(8, u.created_at)
        .bind(9, u.updated_at)
        .run();
}

Result<void> SqliteStore::setDeviceFirmware(const std::string& device_id,
                                            const std::string& version) {
    std::lock_guard lock(writer_mutex_);
    auto stmt =
        writer_->prepare("UPDATE devices SET firmware_version = ?, updated_at = ? WHERE id = ?");
    if (!stmt) {
        return stmt.takeError();
    }
    return (*stmt)->bind(1, version).bind(2, nowMicros()).bind(3, device_id).run();
}

Result<void> SqliteStore::insertEvent(const std::string& device_id,
                                      const std::string& organization_id, const EventRow& event) {
    IngestBatch batch;
    batch.device_id = device_id;
    batch.organization_id = organization_id;
    batch.received_at = nowMicros();
    batch.events.push_back(event);
    IngestCounts counts;
    std::lock_guard lock(writer_mutex_);
    return writeEvents(batch, counts);
}

Result<void> SqliteStore::maintainPartitions(Micros) {
    // One B-tree holds every month; there is nothing to create ahead.
    return {};
}

Result<std::vector<std::int64_t>> SqliteStore::seriesIds() {
    auto lease = reader();
    if (!lease) {
        return lease.takeError();
    }
    auto stmt = (**lease)->prepare("SELECT id FROM series ORDER BY id");
    if (!stmt) {
        return stmt.takeError();
    }
    std::vector<std::int64_t> ids;
    while ((*stmt)->step() == SQLITE_ROW) {
        ids.push_back((*stmt)->integer(0));
    }
    return ids;
}

Result<int> SqliteStore::deleteOldPoints(std::int64_t series_id, Micros before) {
    std::lock_guard lock(writer_mutex_);
    auto stmt = writer_->prepare(
        "DELETE FROM points WHERE series_id = ?1 AND ts IN (SELECT ts FROM points "
        "WHERE series_id = ?1 AND ts < ?2 ORDER BY ts LIMIT 5000)");
    if (!stmt) {
        return stmt.takeError();
    }
    if (auto ok = (*stmt)->bind(1, series_id).bind(2, before).run(); !ok) {
        return ok.takeError();
    }
    return (*stmt)->changes();
}

Result<void> SqliteStore::dropTelemetryBefore(Micros cutoff) {
    Micros before = monthStart(cutoff);
    auto ids = seriesIds();
    if (!ids) {
        return ids.takeError();
    }
    // Per series the primary key finds the old rows directly; chunks of 5,000 keep each hold
    // of the writer short so that ingest goes on while a large backlog is removed.
    for (std::int64_t id : *ids) {
        for (;;) {
            auto removed = deleteOldPoints(id, before);
            if (!removed) {
                return removed.takeError();
            }
            if (*removed < 5000) {
                break;
            }
        }
    }
    return {};
}

Result<bool> SqliteStore::claimJob(const std::string& name, Micros now, Micros lease) {
    std::lock_guard lock(writer_mutex_);
    auto stmt = writer_->prepare(
        "INSERT INTO jobs(name, locked_until, last_run_at, owner) VALUES(?1, ?2 + ?3, ?2, ?4) "
        "ON CONFLICT(name) DO UPDATE SET locked_until = excluded.locked_until, "
        "last_run_at = excluded.last_run_at, owner = excluded.owner "
        "WHERE jobs.locked_until <= ?2");
    if (!stmt) {
        return stmt.takeError();
    }
    if (auto ok = (*stmt)->bind(1, name).bind(2, now).bind(3, lease).bind(4, owner_).run(); !ok) {
        return ok.takeError();
    }
    return (*stmt)->changes() > 0;
}

}  // namespace

Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                               const std::string& synchronous) {
    auto parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) {
        std::filesystem::create_directories(parent, ec);
    }
    auto writer = Connection::open(path, synchronous);
    if (!writer) {
        return writer.takeError();
    }
    return std::unique_ptr<Store>(new SqliteStore(path, std::move(writer).value()));
}

}  // namespace esocore::store
