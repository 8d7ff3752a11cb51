#include "cli/commands.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "app/app.h"
#include "auth/device_keys.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/version.h"
#include "ota/firmware.h"
#include "store/migrations.h"

namespace esocore::cli {

namespace {

std::unique_ptr<App> openApp(const std::string& config_file) {
    Config config = loadConfig(config_file);
    log::setup(config.log_level);
    return std::make_unique<App>(std::move(config));
}

std::string baseUrl(const Config& config, unsigned short port) {
    if (!config.public_url.empty()) {
        return config.public_url;
    }
    std::string host = config.listen.substr(0, config.listen.rfind(':'));
    if (host.empty() || host == "0.0.0.0" || host == "[::]") {
        host = "127.0.0.1";
    }
    return "http://" + host + ":" + std::to_string(port);
}

void printBanner(const App& app, unsigned short port,
                 const std::optional<FirstRunCredentials>& first) {
    std::string url = baseUrl(app.config(), port);
    std::cout << "\nEsoCore Cloud " << kVersion << " is serving on " << url << "\n"
              << "  store:     " << app.config().database_url << "\n"
              << "  portal:    " << url << "/\n"
              << "  API docs:  " << url << "/api/docs/   (ReDoc: " << url << "/api/redoc/)\n"
              << "  device API: " << url << "/api/iot/v1/\n"
              << "  health:    " << url << "/healthz   metrics: " << url << "/metrics\n";
    if (first) {
        std::cout << "\nFirst run: sign in as " << first->email << " with password "
                  << first->password << "\n  (also saved in " << first->file
                  << "; change it after signing in)\n";
    }
    std::cout << "\nStart a simulated fleet of 50 devices in another terminal:\n"
              << "  make sim        (or: build/esocore-sim --devices 50 --server " << url << ")\n\n"
              << std::flush;
}

}  // namespace

int serve(const std::string& config_file, const std::string& port_file) {
    auto app = openApp(config_file);
    app->migrate();
    auto first = app->ensureFirstUser();
    unsigned short port = app->bind();
    if (!port_file.empty()) {
        std::ofstream(port_file) << port << "\n";
    }
    log::info("listening", {{"port", port}, {"store", app->store().dialect()}});
    printBanner(*app, port, first);
    app->run(true);
    return 0;
}

int migrate(const std::string& config_file) {
    auto app = openApp(config_file);
    app->migrate();
    auto state = app->store().migrationState();
    std::cout << "schema at version " << (state ? state->current : 0) << "\n";
    return 0;
}

int check(const std::string& config_file) {
    auto app = openApp(config_file);
    auto state = app->store().migrationState();
    if (!app->store().ping() || !state) {
        std::cerr << "store unreachable\n";
        return 1;
    }
    if (state->current != state->latest) {
        std::cerr << "schema at " << state->current << ", latest is " << state->latest
                  << ": run esocore migrate\n";
        return 1;
    }
    std::cout << "ok: store reachable, schema current (" << state->current << ")\n";
    return 0;
}

int createSuperuser(const std::string& config_file, const std::string& email,
                    const std::string& password, const std::string& name) {
    auto app = openApp(config_file);
    app->migrate();
    std::string secret = password.empty() ? randomToken(12) : password;
    store::User user{newUuid(), email, name, hashPassword(secret), true, "UTC", nowMicros()};
    auto created = app->store().createUser(user);
    if (!created) {
        std::cerr << "error: " << created.error().message << "\n";
        return 1;
    }
    auto org = app->store().ensureDefaultOrganization();
    if (!org || !app->store().addMembership(user.id, org->id, "owner")) {
        std::cerr << "error: cannot add the user to the default organization\n";
        return 1;
    }
    std::cout << "superuser " << email << " created";
    if (password.empty()) {
        std::cout << " with password " << secret;
    }
    std::cout << "\n";
    return 0;
}

int createDevices(const std::string& config_file, const DeviceCreateOptions& options) {
    auto app = openApp(config_file);
    app->migrate();
    auto org = app->store().ensureDefaultOrganization();
    if (!org) {
        std::cerr << "error: " << org.error().message << "\n";
        return 1;
    }
    boost::json::array created;
    for (int i = 0; i < options.count; ++i) {
        store::Device device;
        device.id = newUuid();
        device.serial = !options.serial.empty() && options.count == 1
                            ? options.serial
                            : options.serial_prefix + sha256Hex(device.id).substr(0, 8);
        device.name = options.name.empty() ? device.serial : options.name;
        device.model = options.model;
        device.status = options.status;
        device.firmware_channel = options.channel;
        device.asset_id = options.asset;
        device.organization_id = options.status == "unclaimed" ? "" : org->id;
        device.created_at = device.updated_at = nowMicros();
        if (device.status != "unclaimed") {
            device.claimed_at = device.created_at;
        }
        auto key = auth::issueDeviceKey(device.id);
        if (auto ok = app->store().createDevice(device, key.stored); !ok) {
            std::cerr << "error: " << ok.error().message << "\n";
            return 1;
        }
        created.push_back(boost::json::object{{"id", device.id},
                                              {"serial", device.serial},
                                              {"key", key.secret},
                                              {"model", device.model}});
        if (!options.json) {
            std::cout << "device " << device.id << "  serial " << device.serial << "\n"
                      << "  key: " << key.secret << "\n";
        }
    }
    if (options.json) {
        std::cout << boost::json::serialize(created) << "\n";
    } else {
        std::cout << "Keys are shown once; store them on the devices.\n";
    }
    return 0;
}

int addFirmware(const std::string& config_file, const FirmwareAddOptions& options) {
    auto app = openApp(config_file);
    app->migrate();
    ota::NewBundle request{options.file, options.version, options.channel, options.models,
                           options.notes};
    auto bundle = app->firmware().addBundle(request);
    if (!bundle) {
        std::cerr << "error: " << bundle.error().message << "\n";
        return 1;
    }
    std::cout << "firmware " << bundle->version << " (" << bundle->channel << ") added as "
              << bundle->id << "\n  size " << bundle->size << " bytes, sha256 " << bundle->sha256
              << "\n  signature " << bundle->signature << "\n";
    return 0;
}

// ---------------------------------------------------------------------------------------
// Backup and restore of the SQLite store.

namespace {

namespace fs = std::filesystem;

struct SqliteCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Database = std::unique_ptr<sqlite3, SqliteCloser>;

// Row counts by table name: what a copy must reproduce.
using RowCounts = std::map<std::string, std::int64_t>;

constexpr int kBusyTimeoutMs = 5000;
constexpr int kBackupAttempts = 50;

Result<Database> openDatabase(const fs::path& path, int flags) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Database db(raw);
    if (rc != SQLITE_OK) {
        return internalError(path.string() + ": " +
                             (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_extended_result_codes(raw, 1);
    return db;
}

Result<void> execute(sqlite3* db, const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message != nullptr ? message : sqlite3_errmsg(db);
        sqlite3_free(message);
        return internalError(text);
    }
    return {};
}

// The first column of every row of `sql`, as text.
Result<std::vector<std::string>> column(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        return internalError(sqlite3_errmsg(db));
    }
    std::vector<std::string> values;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const unsigned char* text = sqlite3_column_text(stmt, 0);
        values.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        return internalError(sqlite3_errmsg(db));
    }
    return values;
}

std::string quoted(const std::string& identifier) {
    std::string out = "\"";
    for (char c : identifier) {
        out.append(c == '"' ? "\"\"" : std::string(1, c));
    }
    return out.append("\"");
}

Result<RowCounts> countRows(sqlite3* db) {
    auto tables = column(db,
                         "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                         "'sqlite_%' ORDER BY name");
    if (!tables) {
        return tables.takeError();
    }
    RowCounts counts;
    for (const auto& table : *tables) {
        auto count = column(db, "SELECT count(*) FROM " + quoted(table));
        if (!count) {
            return count.takeError();
        }
        counts[table] = std::stoll(count->front());
    }
    return counts;
}

// "ok", or what PRAGMA integrity_check found wrong.
Result<void> checkIntegrity(sqlite3* db, const std::string& what) {
    auto result = column(db, "PRAGMA integrity_check");
    if (!result) {
        return result.takeError();
    }
    if (result->size() != 1 || result->front() != "ok") {
        std::string problems;
        for (std::size_t i = 0; i < result->size() && i < 5; ++i) {
            problems.append("\n  ").append((*result)[i]);
        }
        return internalError(what + " failed the integrity check:" + problems);
    }
    return {};
}

Result<void> checkSameRows(const RowCounts& expected, const RowCounts& copied) {
    for (const auto& [table, count] : expected) {
        auto found = copied.find(table);
        if (found == copied.end()) {
            return internalError("table " + table + " is missing from the copy");
        }
        if (found->second != count) {
            return internalError("table " + table + " has " + std::to_string(found->second) +
                                 " rows in the copy, " + std::to_string(count) +
                                 " in the original");
        }
    }
    if (copied.size() != expected.size()) {
        return internalError("the copy has tables the original does not");
    }
    return {};
}

std::int64_t totalRows(const RowCounts& counts) {
    std::int64_t total = 0;
    for (const auto& [table, count] : counts) {
        total += count;
    }
    return total;
}

// Copies every page of `source` into `target` in one step, so that the copy is one snapshot
// of the source: the snapshot of the read transaction open on `source`, if any. A writer
// holding the source only delays a step (busy), never splits it.
Result<void> copyPages(sqlite3* source, sqlite3* target) {
    sqlite3_backup* backup = sqlite3_backup_init(target, "main", source, "main");
    if (backup == nullptr) {
        return internalError(sqlite3_errmsg(target));
    }
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < kBackupAttempts; ++attempt) {
        rc = sqlite3_backup_step(backup, -1);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) {
        return internalError(std::string("copy failed: ") + sqlite3_errstr(rc));
    }
    return {};
}

// Makes the file and its directory entry durable before it counts as written.
Result<void> syncFile(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        return internalError("cannot sync " + path.string());
    }
    ::close(fd);
    return {};
}

fs::path temporaryBeside(const fs::path& path) {
    return path.parent_path() / (path.filename().string() + ".partial-" + randomToken(6));
}

void removeQuietly(const fs::path& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
        fs::remove(path.string() + suffix, ec);
    }
}

// Reopens a finished copy and checks it against the original's counts. The copy is left in
// rollback-journal mode so that it is one self-contained file.
Result<RowCounts> verifyCopy(const fs::path& path, const RowCounts& expected) {
    auto copy = openDatabase(path, SQLITE_OPEN_READWRITE);
    if (!copy) {
        return copy.takeError();
    }
    if (auto mode = execute(copy->get(), "PRAGMA journal_mode=DELETE"); !mode) {
        return mode.takeError();
    }
    if (auto intact = checkIntegrity(copy->get(), "the copy"); !intact) {
        return intact.takeError();
    }
    auto counts = countRows(copy->get());
    if (!counts) {
        return counts.takeError();
    }
    if (auto same = checkSameRows(expected, *counts); !same) {
        return same.takeError();
    }
    return counts;
}

// Copies the store into `temp` from one read snapshot and returns that snapshot's counts.
Result<RowCounts> snapshotInto(const fs::path& store, const fs::path& temp) {
    auto source = openDatabase(store, SQLITE_OPEN_READWRITE);
    if (!source) {
        return source.takeError();
    }
    sqlite3_busy_timeout(source->get(), kBusyTimeoutMs);
    // The read transaction pins one snapshot for both the counts and the copy; a serving
    // server keeps writing to the WAL meanwhile.
    if (auto begun = execute(source->get(), "BEGIN; SELECT count(*) FROM sqlite_master;"); !begun) {
        return begun.takeError();
    }
    auto counts = countRows(source->get());
    auto target = openDatabase(temp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    Result<void> copied = !counts   ? Result<void>(counts.error())
                          : !target ? Result<void>(target.error())
                                    : copyPages(source->get(), target->get());
    (void)execute(source->get(), "COMMIT");
    if (!copied) {
        return copied.takeError();
    }
    return counts;
}

// PostgreSQL has its own tools for this; `example` shows the one to use.
Error postgresStore(const std::string& example) {
    return Error{500, "postgresql_store", "the store is PostgreSQL: use " + example, {}};
}

Result<std::string> writeBackup(const Config& config, const BackupOptions& options) {
    if (config.usesPostgres()) {
        return postgresStore("pg_dump --format=custom --file=FILE \"$ESOCORE_DATABASE_URL\"");
    }
    fs::path store = config.sqlitePath();
    fs::path file = options.file;
    if (!fs::exists(store)) {
        return internalError("no database at " + store.string());
    }
    if (fs::exists(file) && !options.force) {
        return internalError(file.string() + " exists; pass --force to overwrite it");
    }
    fs::path temp = temporaryBeside(fs::absolute(file));
    auto counts = snapshotInto(store, temp);
    auto verified = counts ? verifyCopy(temp, *counts) : Result<RowCounts>(counts.error());
    if (!verified) {
        removeQuietly(temp);
        return verified.takeError();
    }
    std::error_code ec;
    fs::rename(temp, file, ec);
    if (ec || !syncFile(file) || !syncFile(fs::absolute(file).parent_path())) {
        removeQuietly(temp);
        return internalError("cannot write " + file.string() + ": " + ec.message());
    }
    return std::to_string(verified->size()) + " tables, " + std::to_string(totalRows(*verified)) +
           " rows, integrity ok";
}

// The backup must be an intact database of this server's schema, not newer than it.
Result<RowCounts> checkBackup(const fs::path& file) {
    if (!fs::is_regular_file(file)) {
        return internalError(file.string() + " is not a file");
    }
    auto backup = openDatabase(file, SQLITE_OPEN_READONLY);
    if (!backup) {
        return backup.takeError();
    }
    if (auto intact = checkIntegrity(backup->get(), file.string()); !intact) {
        return intact.takeError();
    }
    auto version = column(backup->get(), "SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!version) {
        return internalError(file.string() + " is not an EsoCore database (" +
                             version.error().message + ")");
    }
    int latest = store::latestMigration(store::sqliteMigrations());
    if (std::stoi(version->front()) > latest) {
        return internalError(file.string() + " has schema " + version->front() +
                             ", newer than this server's " + std::to_string(latest) +
                             "; restore it with a newer esocore");
    }
    return countRows(backup->get());
}

// Takes the existing store for the restore: fails while another connection (a serving
// server) has it open, because SQLite leaves WAL mode only for the last connection. The
// returned handle holds an exclusive lock until it is closed.
Result<Database> takeStore(const fs::path& store) {
    auto db = openDatabase(store, SQLITE_OPEN_READWRITE);
    if (!db) {
        return db.takeError();
    }
    auto mode = column(db->get(), "PRAGMA journal_mode=DELETE");
    if (!mode || mode->empty() || mode->front() != "delete" ||
        !execute(db->get(), "BEGIN EXCLUSIVE")) {
        return internalError(store.string() +
                             " is in use (is the server running?); stop it, then restore");
    }
    return db;
}

Result<std::string> replaceStore(const Config& config, const BackupOptions& options) {
    if (config.usesPostgres()) {
        return postgresStore("pg_restore --clean --dbname=\"$ESOCORE_DATABASE_URL\" FILE");
    }
    fs::path store = fs::absolute(config.sqlitePath());
    auto expected = checkBackup(options.file);
    if (!expected) {
        return expected.takeError();
    }
    std::optional<Database> held;
    if (fs::exists(store)) {
        if (!options.force) {
            return internalError("a database exists at " + store.string() +
                                 "; pass --force to replace it");
        }
        auto taken = takeStore(store);
        if (!taken) {
            return taken.takeError();
        }
        held = std::move(*taken);
    }
    fs::create_directories(store.parent_path());
    fs::path temp = temporaryBeside(store);
    auto copied = snapshotInto(options.file, temp);
    auto verified = copied ? verifyCopy(temp, *expected) : Result<RowCounts>(copied.error());
    if (!verified) {
        removeQuietly(temp);
        return verified.takeError();
    }
    std::error_code ec;
    for (const char* suffix : {"-wal", "-shm", "-journal"}) {
        fs::remove(store.string() + suffix, ec);  // left by the old database; would corrupt
    }
    fs::rename(temp, store, ec);
    held.reset();
    if (ec || !syncFile(store) || !syncFile(store.parent_path())) {
        removeQuietly(temp);
        return internalError("cannot replace " + store.string() + ": " + ec.message());
    }
    auto restored = verifyCopy(store, *expected);
    if (!restored) {
        return restored.takeError();
    }
    return std::to_string(restored->size()) + " tables, " + std::to_string(totalRows(*restored)) +
           " rows, integrity ok";
}

int report(const Result<std::string>& done, const std::string& action, std::ostream& out,
           std::ostream& err) {
    if (!done) {
        err << "esocore " << action << ": " << done.error().message << "\n";
        return done.error().code == "postgresql_store" ? 2 : 1;
    }
    out << *done << "\n";
    return 0;
}

}  // namespace

int backupDatabase(const Config& config, const BackupOptions& options, std::ostream& out,
                   std::ostream& err) {
    auto done = writeBackup(config, options);
    if (done) {
        *done = "backup written to " + options.file + ": " + *done;
    }
    return report(done, "backup", out, err);
}

int restoreDatabase(const Config& config, const BackupOptions& options, std::ostream& out,
                    std::ostream& err) {
    auto done = replaceStore(config, options);
    if (done) {
        *done = "restored " + options.file + " into " + config.sqlitePath() + ": " + *done;
    }
    return report(done, "restore", out, err);
}

int backup(const std::string& config_file, const BackupOptions& options) {
    return backupDatabase(loadConfig(config_file), options, std::cout, std::cerr);
}

int restore(const std::string& config_file, const BackupOptions& options) {
    return restoreDatabase(loadConfig(config_file), options, std::cout, std::cerr);
}

}  // namespace esocore::cli
