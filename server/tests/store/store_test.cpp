#include "store/store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>

#include "auth/device_keys.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "store/migrations.h"
#include "store/months.h"
#include "store/postgres/pg_store.h"
#include "support/test_server.h"

namespace esocore {
namespace {

using store::Device;
using store::IngestBatch;
using store::IngestOutcome;
using store::PointRow;
using testing::TempDir;

constexpr Micros kMinute = 60'000'000;
constexpr Micros kDay = 86'400'000'000;

Micros at(const char* rfc3339) {
    return *parseRfc3339(rfc3339);
}

// One value read straight from the database, past the Store interface, with SQL that both
// schemas answer alike. Nothing for SQL NULL or no row.
std::optional<std::string> sqliteValue(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> owned(db, &sqlite3_close);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        throw std::runtime_error(sql + ": " + sqlite3_errmsg(db));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> statement(stmt, &sqlite3_finalize);
    if (sqlite3_step(stmt) != SQLITE_ROW || sqlite3_column_type(stmt, 0) == SQLITE_NULL) {
        return std::nullopt;
    }
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
}

std::optional<std::string> postgresValue(const std::string& url, const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), &PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
        throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
    }
    if (PQntuples(result.get()) == 0 || PQgetisnull(result.get(), 0, 0)) {
        return std::nullopt;
    }
    return std::string(PQgetvalue(result.get(), 0, 0));
}

std::string partitionName(Micros month_start) {
    std::time_t seconds = month_start / 1'000'000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char name[32];
    std::strftime(name, sizeof name, "points_p%Y%m", &utc);
    return name;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        static const bool ready = [] {
            initCrypto();
            const char* level = std::getenv("ESOCORE_TEST_LOG");
            log::setup(level != nullptr ? level : "off");
            return true;
        }();
        (void)ready;
        url_ = testing::freshDatabaseUrl(GetParam(), dir_.path());
        store_ = open();
        ASSERT_TRUE(store_->migrate().ok());
        auto org = store_->ensureDefaultOrganization();
        ASSERT_TRUE(org.ok()) << org.error().message;
        org_ = *org;
    }

    bool postgres() const { return GetParam() == "postgresql"; }

    /// A second handle on the same database, as another server process would have.
    std::unique_ptr<store::Store> open() {
        Config config;
        config.database_url = url_;
        return store::openStore(config);
    }

    std::optional<std::string> value(const std::string& sql) {
        return postgres() ? postgresValue(url_, sql) : sqliteValue(url_.substr(7), sql);
    }
    std::int64_t count(const std::string& sql) { return std::stoll(value(sql).value_or("0")); }
    /// SQLite spells a REAL 3 as "3.0" and PostgreSQL as "3": compare numbers.
    double number(const std::string& sql) { return std::stod(value(sql).value_or("nan")); }

    Device addDevice(std::optional<Micros> key_expires = std::nullopt) {
        Device device;
        device.id = newUuid();
        device.organization_id = org_.id;
        device.serial = "SN-" + device.id.substr(0, 8);
        device.model = "esocore-edge";
        device.asset_id = "DOOR_7";
        device.created_at = device.updated_at = nowMicros();
        auto key = auth::issueDeviceKey(device.id);
        key.stored.expires_at = key_expires;
        auto ok = store_->createDevice(device, key.stored);
        EXPECT_TRUE(ok.ok()) << ok.error().message;
        return device;
    }

    std::unique_ptr<IngestBatch> batch(const Device& device, std::vector<PointRow> points,
                                       const std::string& key = newUuid(),
                                       const std::string& body_sha256 = "body-1") {
        auto b = std::make_unique<IngestBatch>();
        b->device_id = device.id;
        b->organization_id = device.organization_id;
        b->idempotency_key = key;
        b->body_sha256 = body_sha256;
        b->received_at = nowMicros();
        b->points = std::move(points);
        return b;
    }

    std::vector<IngestOutcome> commit(std::vector<IngestBatch*> batches) {
        auto outcomes = store_->commitIngest(batches);
        EXPECT_TRUE(outcomes.ok()) << outcomes.error().message;
        return outcomes.ok() ? *outcomes : std::vector<IngestOutcome>();
    }

    /// The counts of one batch committed alone.
    store::IngestCounts commitOne(std::unique_ptr<IngestBatch> b) {
        auto outcomes = commit({b.get()});
        EXPECT_EQ(1u, outcomes.size());
        EXPECT_EQ(IngestOutcome::Kind::applied, outcomes.at(0).kind);
        return outcomes.at(0).packet.counts;
    }

    TempDir dir_;
    std::string url_;
    std::unique_ptr<store::Store> store_;
    store::Organization org_;
};

PointRow point(const std::string& series, Micros ts, double v, const std::string& meta = "") {
    return PointRow{series, "C", ts, v, meta};
}

store::EventRow event(const std::string& type, Micros ts) {
    store::EventRow e;
    e.type = type;
    e.category = "power";
    e.severity = "critical";
    e.ts = ts;
    return e;
}

TEST_P(StoreTest, MigrationsAreIdempotent) {
    auto again = store_->migrate();
    ASSERT_TRUE(again.ok());
    auto state = store_->migrationState();
    ASSERT_TRUE(state.ok());
    EXPECT_GE(state->latest, 2);
    EXPECT_EQ(state->latest, state->current);
    // Every embedded migration applied once; version numbers may leave gaps.
    auto embedded = postgres() ? store::postgresMigrations() : store::sqliteMigrations();
    EXPECT_EQ(static_cast<std::int64_t>(embedded.size()),
              count("SELECT count(*) FROM schema_migrations"));
    EXPECT_EQ(GetParam(), store_->dialect());
    EXPECT_TRUE(store_->ping());
}

TEST_P(StoreTest, DefaultOrganizationIsCreatedOnce) {
    auto again = open()->ensureDefaultOrganization();
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(org_.id, again->id);
    EXPECT_EQ(1, count("SELECT count(*) FROM organizations"));
}

TEST_P(StoreTest, CreatesUsersAndRefusesATakenEmail) {
    store::User user{newUuid(), "Ada@example.com", "Ada", "hash", true, "UTC", nowMicros()};
    ASSERT_TRUE(store_->createUser(user).ok());
    EXPECT_EQ(1, *store_->countUsers());
    ASSERT_TRUE(store_->addMembership(user.id, org_.id, "owner").ok());
    EXPECT_FALSE(store_->addMembership(user.id, org_.id, "emperor").ok());

    store::User twin{newUuid(), "ada@EXAMPLE.com", "Ada", "hash", false, "UTC", nowMicros()};
    auto taken = store_->createUser(twin);
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ("email_taken", taken.error().code);
    EXPECT_EQ(1, *store_->countUsers());
}

TEST_P(StoreTest, FindsADeviceByIdAndBySerial) {
    Device device = addDevice();
    auto by_id = store_->findDevice(device.id);
    auto by_serial = store_->findDevice(device.serial);
    ASSERT_TRUE(by_id.ok() && by_id->has_value());
    ASSERT_TRUE(by_serial.ok() && by_serial->has_value());
    EXPECT_EQ(device.id, (*by_serial)->id);
    EXPECT_EQ(device.serial, (*by_id)->serial);
    EXPECT_EQ(org_.id, (*by_id)->organization_id);
    EXPECT_EQ("DOOR_7", (*by_id)->asset_id);
    EXPECT_EQ("", (*by_id)->site_id);
    EXPECT_EQ("active", (*by_id)->status);
    EXPECT_EQ("[]", (*by_id)->tags_json);
    EXPECT_FALSE((*by_id)->last_seen.has_value());
    EXPECT_FALSE(store_->findDevice("SN-missing")->has_value());
    EXPECT_FALSE(store_->findDevice(newUuid())->has_value());
}

TEST_P(StoreTest, RefusesATakenSerial) {
    Device device = addDevice();
    Device twin = device;
    twin.id = newUuid();
    auto taken = store_->createDevice(twin, auth::issueDeviceKey(twin.id).stored);
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ("serial_taken", taken.error().code);
    EXPECT_FALSE(store_->findDevice(twin.id)->has_value());
}

TEST_P(StoreTest, ListsOnlyKeysNotYetExpired) {
    Micros now = nowMicros();
    Device live = addDevice();
    Device expired = addDevice(now - 1);
    auto keys = store_->activeDeviceKeys(live.id, now);
    ASSERT_TRUE(keys.ok());
    ASSERT_EQ(1u, keys->size());
    EXPECT_EQ(live.id, keys->front().device_id);
    EXPECT_FALSE(keys->front().secret_hash.empty());
    EXPECT_TRUE(store_->activeDeviceKeys(expired.id, now)->empty());
}

TEST_P(StoreTest, RecordsAHeartbeat) {
    Device device = addDevice();
    Micros first = at("2026-11-02T10:00:00Z");
    ASSERT_TRUE(store_->recordHeartbeat(device.id, first, R"({"battery":91})", "1.2.0").ok());
    ASSERT_TRUE(store_->recordHeartbeat(device.id, first - kMinute, R"({"battery":90})", "").ok());
    auto stored = store_->findDevice(device.id);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ(first, (*stored)->last_seen);
    EXPECT_EQ(first, (*stored)->first_seen);
    EXPECT_EQ("1.2.0", (*stored)->firmware_version);
    EXPECT_EQ(90, boost::json::parse((*stored)->health_json).at("battery").as_int64());
}

TEST_P(StoreTest, SavesConfigProfilesWithARisingVersion) {
    EXPECT_FALSE(store_->configProfile(org_.id, "esocore-edge")->has_value());
    store::ConfigProfile profile{"", org_.id, "esocore-edge", R"({"rate_hz":10})", 1, 0};
    ASSERT_TRUE(store_->saveConfigProfile(profile).ok());
    profile.settings_json = R"({"rate_hz":20})";
    ASSERT_TRUE(store_->saveConfigProfile(profile).ok());
    auto stored = store_->configProfile(org_.id, "esocore-edge");
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ(2, (*stored)->version);
    EXPECT_EQ(20, boost::json::parse((*stored)->settings_json).at("rate_hz").as_int64());
}

TEST_P(StoreTest, CountsNewDuplicateAndReplacedPoints) {
    Device device = addDevice();
    Micros t = at("2026-11-02T10:00:00Z");
    auto first = commitOne(batch(device, {point("temp", t, 1.0), point("temp", t + 1, 2.0)}));
    EXPECT_EQ(2, first.accepted);
    EXPECT_EQ(0, first.duplicates);
    EXPECT_EQ(2, first.points);

    auto second = commitOne(
        batch(device, {point("temp", t, 1.0), point("temp", t + 1, 3.0), point("hum", t, 5.0)}));
    EXPECT_EQ(2, second.accepted);
    EXPECT_EQ(1, second.duplicates);
    EXPECT_EQ(2, second.points);

    EXPECT_EQ(3, count("SELECT count(*) FROM points"));
    EXPECT_EQ(3, number("SELECT value FROM points WHERE ts = " + std::to_string(t + 1)));
    EXPECT_EQ(2, count("SELECT count(*) FROM series"));
}

TEST_P(StoreTest, ReplacesAPointWhoseMetaChanged) {
    Device device = addDevice();
    Micros t = at("2026-11-02T10:00:00Z");
    commitOne(batch(device, {point("temp", t, 1.0)}));
    auto with_meta = commitOne(batch(device, {point("temp", t, 1.0, R"({"q":"good"})")}));
    EXPECT_EQ(1, with_meta.accepted);
    auto same_meta = commitOne(batch(device, {point("temp", t, 1.0, R"({"q":"good"})")}));
    EXPECT_EQ(1, same_meta.duplicates);
    auto other_meta = commitOne(batch(device, {point("temp", t, 1.0, R"({"q":"bad"})")}));
    EXPECT_EQ(1, other_meta.accepted);
    EXPECT_EQ(1, count("SELECT count(*) FROM points"));
}

TEST_P(StoreTest, LastWriteWinsWithinAGroup) {
    Device device = addDevice();
    Micros t = at("2026-11-02T10:00:00Z");
    auto b1 = batch(device, {point("temp", t, 1.0), point("temp", t, 1.0)});
    auto b2 = batch(device, {point("temp", t, 2.0)});
    auto b3 = batch(device, {point("temp", t, 2.0), point("temp", t + 1, 7.0)});
    auto outcomes = commit({b1.get(), b2.get(), b3.get()});
    ASSERT_EQ(3u, outcomes.size());
    EXPECT_EQ(1, outcomes[0].packet.counts.accepted);
    EXPECT_EQ(1, outcomes[0].packet.counts.duplicates);
    EXPECT_EQ(1, outcomes[1].packet.counts.accepted);
    EXPECT_EQ(0, outcomes[1].packet.counts.duplicates);
    EXPECT_EQ(1, outcomes[2].packet.counts.accepted);
    EXPECT_EQ(1, outcomes[2].packet.counts.duplicates);
    EXPECT_EQ(2, number("SELECT value FROM points WHERE ts = " + std::to_string(t)));

    auto again = commitOne(batch(device, {point("temp", t, 2.0)}));
    EXPECT_EQ(1, again.duplicates);
}

TEST_P(StoreTest, ReplaysTheSameKeyAndRefusesADifferentBody) {
    Device device = addDevice();
    Micros t = at("2026-11-02T10:00:00Z");
    std::string key = newUuid();
    auto original = batch(device, {point("temp", t, 1.0)}, key, "body-1");
    original->rejected = 1;
    original->errors.push_back({3, "invalid_timestamp"});
    auto applied = commit({original.get()});
    ASSERT_EQ(IngestOutcome::Kind::applied, applied.at(0).kind);

    auto same = batch(device, {point("temp", t, 9.0)}, key, "body-1");
    auto replayed = commit({same.get()});
    EXPECT_EQ(IngestOutcome::Kind::replayed, replayed.at(0).kind);
    EXPECT_EQ(applied.at(0).packet.id, replayed.at(0).packet.id);
    EXPECT_EQ(1, replayed.at(0).packet.counts.accepted);
    EXPECT_EQ(1, replayed.at(0).packet.counts.rejected);
    auto errors = boost::json::parse(replayed.at(0).packet.errors_json);
    EXPECT_EQ("invalid_timestamp", errors.at(0).at("code").as_string());

    auto other = batch(device, {point("temp", t, 9.0)}, key, "body-2");
    EXPECT_EQ(IngestOutcome::Kind::conflict, commit({other.get()}).at(0).kind);
    EXPECT_EQ(1, number("SELECT value FROM points"));

    auto found = store_->findPacket(device.id, key);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ(1, (*found)->counts.points);
    EXPECT_FALSE(store_->findPacket(device.id, newUuid())->has_value());
}

TEST_P(StoreTest, AppliesAKeyOnceWhenOneGroupCarriesItTwice) {
    Device device = addDevice();
    Micros t = at("2026-11-02T10:00:00Z");
    std::string key = newUuid();
    auto b1 = batch(device, {point("temp", t, 1.0)}, key, "body-1");
    auto b2 = batch(device, {point("temp", t + 1, 2.0)}, key, "body-1");
    auto b3 = batch(device, {point("temp", t + 2, 3.0)}, key, "body-2");
    auto outcomes = commit({b1.get(), b2.get(), b3.get()});
    ASSERT_EQ(3u, outcomes.size());
    EXPECT_EQ(IngestOutcome::Kind::applied, outcomes[0].kind);
    EXPECT_EQ(IngestOutcome::Kind::replayed, outcomes[1].kind);
    EXPECT_EQ(IngestOutcome::Kind::conflict, outcomes[2].kind);
    EXPECT_EQ(outcomes[0].packet.id, outcomes[1].packet.id);
    EXPECT_EQ(1, count("SELECT count(*) FROM points"));
    EXPECT_EQ(1, count("SELECT count(*) FROM packets"));
}

TEST_P(StoreTest, ConcurrentCommitsOfOneKeyApplyOnce) {
    Device device = addDevice();
    Micros t = at("2026-11-02T10:00:00Z");
    std::string key = newUuid();
    std::atomic<int> applied = 0;
    std::atomic<int> replayed = 0;
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            auto other = open();
            auto b = batch(device, {point("temp", t + i, 1.0)}, key, "body-1");
            IngestBatch* group[] = {b.get()};
            auto outcomes = other->commitIngest(group);
            ASSERT_TRUE(outcomes.ok()) << outcomes.error().message;
            bool first = outcomes->at(0).kind == IngestOutcome::Kind::applied;
            ++(first ? applied : replayed);
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(1, applied.load());
    EXPECT_EQ(3, replayed.load());
    EXPECT_EQ(1, count("SELECT count(*) FROM points"));
}

TEST_P(StoreTest, DeduplicatesEvents) {
    Device device = addDevice();
    Micros t = at("2026-11-02T10:00:00Z");
    auto b = batch(device, {});
    b->events = {event("power_outage", t), event("power_outage", t), event("sd_error", t)};
    auto counts = commitOne(std::move(b));
    EXPECT_EQ(2, counts.events);
    EXPECT_EQ(2, counts.accepted);
    EXPECT_EQ(1, counts.duplicates);

    auto again = batch(device, {});
    again->events = {event("power_outage", t)};
    EXPECT_EQ(1, commitOne(std::move(again)).duplicates);
    ASSERT_TRUE(store_->insertEvent(device.id, org_.id, event("sd_error", t)).ok());
    ASSERT_TRUE(store_->insertEvent(device.id, org_.id, event("ota_failed", t)).ok());
    EXPECT_EQ(3, count("SELECT count(*) FROM events"));
    EXPECT_EQ("active", value("SELECT status FROM events WHERE type = 'ota_failed'"));
}

TEST_P(StoreTest, OpensAndClosesAssetCycles) {
    Device device = addDevice();
    Micros t = at("2026-11-02T10:00:00Z");
    auto open_event = event("cycle_open", t);
    open_event.cycle = store::CycleMark{"DOOR_7", 41, true, std::nullopt};
    auto close_event = event("cycle_close", t + 2'500'000);
    close_event.cycle = store::CycleMark{"DOOR_7", 41, false, std::nullopt};
    auto timed_close = event("cycle_close", t + kMinute);
    timed_close.cycle = store::CycleMark{"DOOR_7", 42, false, 900};
    auto b = batch(device, {});
    b->events = {open_event, close_event, timed_close};
    EXPECT_EQ(3, commitOne(std::move(b)).events);
    EXPECT_EQ("2500", value("SELECT duration_ms FROM asset_cycles WHERE cycle_id = 41"));
    EXPECT_EQ(std::to_string(t), value("SELECT started_at FROM asset_cycles WHERE cycle_id = 41"));
    EXPECT_EQ("900", value("SELECT duration_ms FROM asset_cycles WHERE cycle_id = 42"));
    EXPECT_EQ(std::nullopt, value("SELECT started_at FROM asset_cycles WHERE cycle_id = 42"));
}

TEST_P(StoreTest, TouchesTheDeviceOnIngest) {
    Device device = addDevice();
    auto b = batch(device, {point("temp", at("2026-11-02T10:00:00Z"), 1.0)});
    Micros received = b->received_at;
    commitOne(std::move(b));
    auto stored = store_->findDevice(device.id);
    EXPECT_EQ(received, (*stored)->last_seen);
    EXPECT_EQ(received, (*stored)->first_seen);
}

TEST_P(StoreTest, PurgesOldLedgerEntries) {
    Device device = addDevice();
    auto old_batch = batch(device, {});
    old_batch->received_at = nowMicros() - 40 * kDay;
    std::string old_key = old_batch->idempotency_key;
    auto new_batch = batch(device, {});
    std::string new_key = new_batch->idempotency_key;
    commit({old_batch.get(), new_batch.get()});
    auto removed = store_->purgePackets(nowMicros() - 30 * kDay);
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(1, *removed);
    EXPECT_FALSE(store_->findPacket(device.id, old_key)->has_value());
    EXPECT_TRUE(store_->findPacket(device.id, new_key)->has_value());
}

TEST_P(StoreTest, KeepsFirmwareBundlesPerVersionAndChannel) {
    store::FirmwareBundle bundle{newUuid(), "1.4.0", "stable", R"(["esocore-edge"])", "notes",
                                 1024,      "abc",   "sig",    "firmware/1.4.0.bin",  nowMicros()};
    ASSERT_TRUE(store_->addFirmwareBundle(bundle).ok());
    store::FirmwareBundle twin = bundle;
    twin.id = newUuid();
    auto taken = store_->addFirmwareBundle(twin);
    ASSERT_FALSE(taken.ok());
    EXPECT_EQ("version_exists", taken.error().code);

    auto found = store_->findFirmwareBundle(bundle.id);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ("1.4.0", (*found)->version);
    EXPECT_EQ(1024, (*found)->size);
    EXPECT_FALSE(store_->findFirmwareBundle("not-a-bundle")->has_value());
    EXPECT_EQ(1u, store_->firmwareBundlesFor("esocore-edge", "stable")->size());
    EXPECT_TRUE(store_->firmwareBundlesFor("esocore-edge", "beta")->empty());
    EXPECT_TRUE(store_->firmwareBundlesFor("other-model", "stable")->empty());
}

TEST_P(StoreTest, TracksTheLatestDeviceUpdate) {
    Device device = addDevice();
    store::FirmwareBundle bundle{newUuid(), "1.4.0",    "stable", R"(["esocore-edge"])",
                                 "",        1,          "abc",    "sig",
                                 "fw.bin",  nowMicros()};
    ASSERT_TRUE(store_->addFirmwareBundle(bundle).ok());
    EXPECT_FALSE(store_->latestDeviceUpdate(device.id)->has_value());
    Micros t = nowMicros();
    store::DeviceUpdate update{newUuid(), device.id, bundle.id, "1.3.0", "1.4.0",
                               "offered", "",        t,         t};
    ASSERT_TRUE(store_->saveDeviceUpdate(update).ok());
    update.status = "failed";
    update.error = "checksum";
    update.updated_at = t + 1;
    ASSERT_TRUE(store_->saveDeviceUpdate(update).ok());
    auto latest = store_->latestDeviceUpdate(device.id);
    ASSERT_TRUE(latest.ok() && latest->has_value());
    EXPECT_EQ("failed", (*latest)->status);
    EXPECT_EQ("checksum", (*latest)->error);

    ASSERT_TRUE(store_->setDeviceFirmware(device.id, "1.4.0").ok());
    EXPECT_EQ("1.4.0", (*store_->findDevice(device.id))->firmware_version);
}

TEST_P(StoreTest, ClaimsAJobOnceAcrossInstances) {
    auto other = open();
    Micros now = nowMicros();
    Micros lease = kMinute;
    std::atomic<int> claimed = 0;
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        store::Store& instance = i % 2 == 0 ? *store_ : *other;
        threads.emplace_back([&instance, &claimed, now, lease] {
            auto won = instance.claimJob("rollups", now, lease);
            ASSERT_TRUE(won.ok()) << won.error().message;
            claimed += *won ? 1 : 0;
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(1, claimed.load());
    EXPECT_FALSE(*other->claimJob("rollups", now + lease - 1, lease));
    EXPECT_TRUE(*other->claimJob("rollups", now + lease, lease));
    EXPECT_TRUE(*store_->claimJob("retention", now, lease));
}

TEST_P(StoreTest, MaintainsPartitionsRepeatedly) {
    Micros now = nowMicros();
    ASSERT_TRUE(store_->maintainPartitions(now).ok());
    ASSERT_TRUE(open()->maintainPartitions(now).ok());
    Device device = addDevice();
    auto ahead = commitOne(batch(device, {point("temp", store::monthsLater(now, 2), 1.0)}));
    EXPECT_EQ(1, ahead.accepted);
}

TEST_P(StoreTest, DropsTelemetryOfWholeExpiredMonths) {
    Device device = addDevice();
    Micros old_point = at("2026-07-15T00:00:00Z");
    Micros boundary_point = at("2026-08-31T23:59:59Z");
    Micros kept_point = at("2026-09-01T00:00:00Z");
    Micros newer_point = at("2026-11-02T10:00:00Z");
    commitOne(batch(device, {point("temp", old_point, 1.0), point("temp", boundary_point, 2.0),
                             point("temp", kept_point, 3.0), point("temp", newer_point, 4.0)}));

    ASSERT_TRUE(store_->dropTelemetryBefore(at("2026-09-20T00:00:00Z")).ok());
    EXPECT_EQ(2, count("SELECT count(*) FROM points"));
    EXPECT_EQ(3, number("SELECT value FROM points WHERE ts = " + std::to_string(kept_point)));

    // Telemetry of a dropped month can arrive again; it is then new.
    auto again =
        commitOne(batch(device, {point("temp", old_point, 1.0), point("temp", kept_point, 3.0)}));
    EXPECT_EQ(1, again.accepted);
    EXPECT_EQ(1, again.duplicates);
}

TEST_P(StoreTest, IngestsIntoAMonthThatAnotherInstanceDropped) {
    Device device = addDevice();
    Micros t = at("2026-05-10T00:00:00Z");
    commitOne(batch(device, {point("temp", t, 1.0)}));
    ASSERT_TRUE(open()->dropTelemetryBefore(at("2026-06-15T00:00:00Z")).ok());

    // This instance still believes May's partition exists.
    auto again = commitOne(batch(device, {point("temp", t + 1, 2.0)}));
    EXPECT_EQ(1, again.accepted);
    EXPECT_EQ(1, count("SELECT count(*) FROM points"));
}

TEST_P(StoreTest, PointLandsInItsMonthPartition) {
    if (!postgres()) {
        GTEST_SKIP() << "SQLite keeps every month in one table";
    }
    Device device = addDevice();
    Micros t = at("2027-03-10T12:00:00Z");
    commitOne(batch(device, {point("temp", t, 1.0)}));
    EXPECT_EQ("points_p202703",
              value("SELECT tableoid::regclass::text FROM points WHERE ts = " + std::to_string(t)));
    EXPECT_EQ("points", value("SELECT inhparent::regclass::text FROM pg_inherits "
                              "WHERE inhrelid = 'points_p202703'::regclass"));
}

TEST_P(StoreTest, PartitionsExistAheadForTheNextMonths) {
    if (!postgres()) {
        GTEST_SKIP() << "SQLite keeps every month in one table";
    }
    Micros now = nowMicros();
    for (int ahead = 0; ahead <= 3; ++ahead) {
        std::string name = partitionName(store::monthsLater(now, ahead));
        EXPECT_EQ("1", value("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                             "'points'::regclass AND inhrelid = to_regclass('" +
                             name + "')"))
            << name;
    }
}

TEST_P(StoreTest, RetentionDropsAnExpiredPartitionOnly) {
    if (!postgres()) {
        GTEST_SKIP() << "SQLite keeps every month in one table";
    }
    Device device = addDevice();
    Micros now = nowMicros();
    Micros expired = store::monthsLater(now, -6) + kDay;
    Micros recent = store::monthsLater(now, -1) + kDay;
    commitOne(batch(device, {point("temp", expired, 1.0), point("temp", recent, 2.0),
                             point("temp", now, 3.0)}));
    std::string expired_name = partitionName(store::monthStart(expired));
    EXPECT_TRUE(value("SELECT to_regclass('" + expired_name + "')::text").has_value());

    ASSERT_TRUE(store_->dropTelemetryBefore(store::monthsLater(now, -3)).ok());
    EXPECT_FALSE(value("SELECT to_regclass('" + expired_name + "')::text").has_value());
    std::string recent_name = partitionName(store::monthStart(recent));
    EXPECT_EQ(1, count("SELECT count(*) FROM " + recent_name));
    EXPECT_EQ(2, count("SELECT count(*) FROM points"));
}

TEST_P(StoreTest, ReportsAnUnreachableServerAsUnavailable) {
    if (!postgres()) {
        GTEST_SKIP() << "only a PostgreSQL server can be unreachable";
    }
    auto opened = store::openPostgresStore("postgresql://nobody@127.0.0.1:1/esocore");
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(503, opened.error().status);
    EXPECT_EQ("store_unavailable", opened.error().code);
}

TEST_P(StoreTest, PortableSqlBindsAndReadsEveryKindOfValue) {
    store::SqlSession& sql = store_->sql();
    auto inserted = sql.execute(
        "INSERT INTO jobs(name, locked_until, last_run_at, owner) VALUES($1, $2, $3, $4)",
        {std::string("it's $1"), std::int64_t{1} << 40, std::int64_t{-7}, std::string()});
    ASSERT_TRUE(inserted.ok()) << inserted.error().message;
    EXPECT_EQ(1, *inserted);
    auto rows = sql.query(
        "SELECT name, locked_until, last_run_at, 2.5, 'literal $2', "
        "NULLIF(owner, ''), coalesce($2, 'was null') FROM jobs WHERE name = $1",
        {std::string("it's $1"), nullptr});
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    ASSERT_EQ(1u, rows->size());
    const store::SqlRow& row = rows->at(0);
    EXPECT_EQ("it's $1", row.text(0));
    EXPECT_EQ(std::int64_t{1} << 40, row.integer(1));
    EXPECT_EQ(-7, row.integer(2));
    EXPECT_DOUBLE_EQ(2.5, row.real(3));
    EXPECT_EQ("literal $2", row.text(4));
    EXPECT_TRUE(row.isNull(5));
    EXPECT_EQ(std::nullopt, row.optionalInteger(5));
    EXPECT_EQ("was null", row.text(6));
}

TEST_P(StoreTest, PortableSqlReadsBooleansAsIntegers) {
    store::User user{newUuid(), "flags@example.com", "Flags", "x", true, "UTC", nowMicros()};
    ASSERT_TRUE(store_->createUser(user).ok());
    auto rows =
        store_->sql().query("SELECT is_staff, is_active FROM users WHERE id = $1", {user.id});
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    ASSERT_EQ(1u, rows->size());
    EXPECT_EQ(1, rows->at(0).integer(0));
    EXPECT_EQ(1, rows->at(0).integer(1));
}

TEST_P(StoreTest, PortableSqlCountsAffectedRowsAndReturnsInsertedOnes) {
    store::SqlSession& sql = store_->sql();
    for (const char* name : {"a", "b", "c"}) {
        auto ok = sql.query(
            "INSERT INTO jobs(name, locked_until, last_run_at) VALUES($1, 0, 0) "
            "ON CONFLICT(name) DO NOTHING RETURNING name",
            {std::string(name)});
        ASSERT_TRUE(ok.ok()) << ok.error().message;
        ASSERT_EQ(1u, ok->size());
        EXPECT_EQ(name, ok->at(0).text(0));
    }
    auto again = sql.query(
        "INSERT INTO jobs(name, locked_until, last_run_at) VALUES('a', 0, 0) "
        "ON CONFLICT(name) DO NOTHING RETURNING name");
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->empty());
    auto updated = sql.execute("UPDATE jobs SET owner = $1 WHERE name <> $2", {"me", "b"});
    ASSERT_TRUE(updated.ok());
    EXPECT_EQ(2, *updated);
    auto page = sql.query("SELECT name FROM jobs ORDER BY name LIMIT $1 OFFSET $2",
                          {std::int64_t{1}, std::int64_t{1}});
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(1u, page->size());
    EXPECT_EQ("b", page->at(0).text(0));
}

TEST_P(StoreTest, PortableSqlReportsAConflict) {
    store::SqlSession& sql = store_->sql();
    const std::string insert = "INSERT INTO jobs(name, locked_until, last_run_at) VALUES($1, 0, 0)";
    ASSERT_TRUE(sql.execute(insert, {"once"}).ok());
    auto twice = sql.execute(insert, {"once"});
    ASSERT_FALSE(twice.ok());
    EXPECT_EQ("conflict", twice.error().code);
}

TEST_P(StoreTest, PortableTransactionCommitsOrRollsBackAsAWhole) {
    store::SqlSession& sql = store_->sql();
    const std::string insert = "INSERT INTO jobs(name, locked_until, last_run_at) VALUES($1, 0, 0)";
    auto failed = sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto ok = tx.execute(insert, {"first"}); !ok) {
            return ok.takeError();
        }
        auto seen = tx.query("SELECT count(*) FROM jobs WHERE name = $1", {"first"});
        EXPECT_EQ(1, seen.ok() ? seen->at(0).integer(0) : -1);
        return Error{409, "stop_here", "roll it back", {}};
    });
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ("stop_here", failed.error().code);
    EXPECT_EQ(0, count("SELECT count(*) FROM jobs WHERE name = 'first'"));

    auto done = sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        for (const char* name : {"second", "third"}) {
            if (auto ok = tx.execute(insert, {std::string(name)}); !ok) {
                return ok.takeError();
            }
        }
        return {};
    });
    ASSERT_TRUE(done.ok()) << done.error().message;
    EXPECT_EQ(2, count("SELECT count(*) FROM jobs"));
}

TEST_P(StoreTest, PortableReadsSeeCommittedWrites) {
    store::SqlSession& sql = store_->sql();
    for (int i = 0; i < 20; ++i) {
        std::string name = "job-" + std::to_string(i);
        ASSERT_TRUE(
            sql.execute("INSERT INTO jobs(name, locked_until, last_run_at) VALUES($1, $2, 0)",
                        {name, std::int64_t{i}})
                .ok());
        auto rows = sql.query("SELECT count(*), max(locked_until) FROM jobs");
        ASSERT_TRUE(rows.ok());
        EXPECT_EQ(i + 1, rows->at(0).integer(0));
        EXPECT_EQ(i, rows->at(0).integer(1));
    }
}

TEST(SqlTest, RewritesPlaceholdersOutsideQuotesForSqlite) {
    EXPECT_EQ("SELECT ?1, '$2', \"a$3\", ?10 || 'it''s $4' FROM t WHERE x = ?2 AND y = '$'",
              store::sqlitePlaceholders(
                  "SELECT $1, '$2', \"a$3\", $10 || 'it''s $4' FROM t WHERE x = $2 AND y = '$'"));
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::ValuesIn(testing::storeKinds()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace esocore
