// `esocore backup` and `esocore restore` on SQLite stores: a backup taken while the server
// writes is one intact snapshot; a restore checks what it is given, refuses a store in use
// and swaps the file in whole.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "core/crypto.h"
#include "support/test_server.h"

namespace esocore {
namespace {

namespace fs = std::filesystem;

// One number from a SQLite file, read without the server.
std::int64_t scalar(const fs::path& path, const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(SQLITE_OK, sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr));
    sqlite3_stmt* stmt = nullptr;
    std::int64_t value = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

void runSql(const fs::path& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(SQLITE_OK, sqlite3_open(path.c_str(), &db));
    EXPECT_EQ(SQLITE_OK, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr))
        << sqlite3_errmsg(db);
    sqlite3_close(db);
}

class BackupTest : public ::testing::Test {
protected:
    fs::path storePath() const { return dir_.path() / "store.db"; }
    fs::path backupPath() const { return dir_.path() / "backup.db"; }

    Config config() const {
        Config config;
        config.database_url = "sqlite:" + storePath().string();
        return config;
    }

    // A server serving the store at storePath(), which outlives it.
    std::unique_ptr<testing::TestServer> serve() {
        return std::make_unique<testing::TestServer>("sqlite", [this](Config& config) {
            config.database_url = "sqlite:" + storePath().string();
        });
    }

    void addSites(testing::TestServer& server, int count, const std::string& prefix) {
        auto org = server.store().ensureDefaultOrganization();
        ASSERT_TRUE(org.ok());
        for (int i = 0; i < count; ++i) {
            Micros now = nowMicros();
            ASSERT_TRUE(server.store()
                            .sql()
                            .execute("INSERT INTO sites (id, organization_id, name, created_at, "
                                     "updated_at) VALUES ($1, $2, $3, $4, $5)",
                                     {newUuid(), org->id, prefix + newUuid(), now, now})
                            .ok());
        }
    }

    int backup(bool force = false) {
        return cli::backupDatabase(config(), {backupPath().string(), force}, out_, err_);
    }

    int restore(const fs::path& file, bool force = false) {
        return cli::restoreDatabase(config(), {file.string(), force}, out_, err_);
    }

    testing::TempDir dir_;
    std::ostringstream out_;
    std::ostringstream err_;
};

TEST_F(BackupTest, BackupWhileServingIsOneIntactSnapshot) {
    auto server = serve();
    addSites(*server, 200, "before ");
    std::atomic<bool> writing{true};
    std::thread writer([&] {
        while (writing) {
            addSites(*server, 1, "during ");
        }
    });

    int code = backup();
    writing = false;
    writer.join();

    ASSERT_EQ(0, code) << err_.str();
    EXPECT_NE(std::string::npos, out_.str().find("integrity ok"));
    EXPECT_EQ(0, scalar(backupPath(),
                        "SELECT count(*) FROM pragma_integrity_check "
                        "WHERE integrity_check <> 'ok'"));
    EXPECT_GE(scalar(backupPath(), "SELECT count(*) FROM sites"), 200);
    EXPECT_GT(scalar(backupPath(), "SELECT max(version) FROM schema_migrations"), 0);
    EXPECT_FALSE(fs::exists(backupPath().string() + "-wal"));
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
        EXPECT_EQ(std::string::npos, entry.path().string().find(".partial-"));
    }
}

TEST_F(BackupTest, BackupOverwritesAFileOnlyWithForce) {
    auto server = serve();
    std::ofstream(backupPath()) << "precious";

    EXPECT_EQ(1, backup());
    EXPECT_NE(std::string::npos, err_.str().find("--force"));
    EXPECT_EQ(0, backup(true)) << err_.str();
    EXPECT_GT(scalar(backupPath(), "SELECT count(*) FROM schema_migrations"), 0);
}

TEST_F(BackupTest, APostgresStoreIsLeftToPgDump) {
    Config postgres;
    postgres.database_url = "postgresql://localhost/esocore";

    EXPECT_EQ(2, cli::backupDatabase(postgres, {backupPath().string(), false}, out_, err_));
    EXPECT_NE(std::string::npos, err_.str().find("pg_dump"));
    EXPECT_EQ(2, cli::restoreDatabase(postgres, {backupPath().string(), true}, out_, err_));
    EXPECT_NE(std::string::npos, err_.str().find("pg_restore"));
}

TEST_F(BackupTest, RestoreRefusesAStoreInUseAndNeedsForce) {
    auto server = serve();
    addSites(*server, 3, "kept ");
    ASSERT_EQ(0, backup()) << err_.str();

    EXPECT_EQ(1, restore(backupPath()));
    EXPECT_NE(std::string::npos, err_.str().find("--force"));
    EXPECT_EQ(1, restore(backupPath(), true));
    EXPECT_NE(std::string::npos, err_.str().find("in use"));
    addSites(*server, 1, "still serving ");  // the store was left alone
}

TEST_F(BackupTest, RestoreBringsBackTheBackedUpRows) {
    auto server = serve();
    addSites(*server, 5, "before ");
    ASSERT_EQ(0, backup()) << err_.str();
    addSites(*server, 7, "after ");
    server.reset();

    ASSERT_EQ(0, restore(backupPath(), true)) << err_.str();

    EXPECT_EQ(5, scalar(storePath(), "SELECT count(*) FROM sites"));
    EXPECT_FALSE(fs::exists(storePath().string() + "-wal"));
    server = serve();
    auto rows = server->store().sql().query("SELECT count(*) FROM sites WHERE name LIKE 'after %'");
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(0, rows->front().integer(0));
}

TEST_F(BackupTest, RestoreCreatesAMissingStore) {
    serve().reset();
    fs::rename(storePath(), backupPath());

    EXPECT_EQ(0, restore(backupPath())) << err_.str();
    EXPECT_GT(scalar(storePath(), "SELECT count(*) FROM schema_migrations"), 0);
}

TEST_F(BackupTest, RestoreRefusesWhatIsNotABackupOfThisSchema) {
    serve().reset();
    fs::path garbage = dir_.path() / "garbage.db";
    std::ofstream(garbage) << std::string(8192, 'x');
    fs::path foreign = dir_.path() / "foreign.db";
    runSql(foreign, "CREATE TABLE notes (body TEXT)");
    fs::path newer = dir_.path() / "newer.db";
    fs::copy_file(storePath(), newer);
    runSql(newer,
           "INSERT INTO schema_migrations (version, name, applied_at) "
           "VALUES (999999, 'future', 0)");

    for (const fs::path& file : {garbage, foreign, newer, dir_.path() / "absent.db"}) {
        err_.str("");
        EXPECT_EQ(1, restore(file, true)) << file;
        EXPECT_FALSE(err_.str().empty()) << file;
    }
    EXPECT_NE(std::string::npos, err_.str().find("not a file"));
    EXPECT_GT(scalar(storePath(), "SELECT count(*) FROM schema_migrations"), 0);
}

}  // namespace
}  // namespace esocore
