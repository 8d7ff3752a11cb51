#include "raw_append.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <vector>

namespace esocore::bench {

namespace {

constexpr std::size_t kRowsPerTransaction = 10'000;

struct DatabaseCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Database = std::unique_ptr<sqlite3, DatabaseCloser>;
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

[[noreturn]] void throwSqlite(sqlite3* db, std::string_view step) {
    throw std::runtime_error(fmt::format("raw append: {}: {}", step, sqlite3_errmsg(db)));
}

void execute(sqlite3* db, const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
        throwSqlite(db, sql);
    }
}

Database openRawDatabase(const std::filesystem::path& db_path) {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    Database db{raw};
    if (rc != SQLITE_OK) {
        throwSqlite(db.get(), "open");
    }
    execute(db.get(), "PRAGMA journal_mode=WAL");
    execute(db.get(), "PRAGMA synchronous=NORMAL");
    execute(db.get(), "CREATE TABLE raw(series_id INTEGER, ts INTEGER, value REAL)");
    return db;
}

Statement prepareInsert(sqlite3* db) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db, "INSERT INTO raw VALUES(?,?,?)", -1, SQLITE_PREPARE_PERSISTENT,
                           &statement, nullptr) != SQLITE_OK) {
        throwSqlite(db, "prepare");
    }
    return Statement{statement};
}

// One timed transaction; the rows were generated beforehand so only SQLite work is measured.
std::chrono::steady_clock::duration appendTransaction(sqlite3* db, sqlite3_stmt* insert,
                                                      const std::vector<RawRow>& rows) {
    const auto started = std::chrono::steady_clock::now();
    execute(db, "BEGIN");
    for (const RawRow& row : rows) {
        sqlite3_bind_int64(insert, 1, row.series_id);
        sqlite3_bind_int64(insert, 2, row.ts_us);
        sqlite3_bind_double(insert, 3, row.value);
        if (sqlite3_step(insert) != SQLITE_DONE) {
            throwSqlite(db, "insert");
        }
        sqlite3_reset(insert);
    }
    execute(db, "COMMIT");
    return std::chrono::steady_clock::now() - started;
}

}  // namespace

RawAppendResult measureRawAppend(const PointPlan& plan, const std::filesystem::path& db_path) {
    Database db = openRawDatabase(db_path);
    Statement insert = prepareInsert(db.get());

    std::vector<RawRow> rows;
    rows.reserve(kRowsPerTransaction);
    std::chrono::steady_clock::duration spent{};
    auto flush = [&] {
        spent += appendTransaction(db.get(), insert.get(), rows);
        rows.clear();
    };

    forEachRawRow(plan, [&](const RawRow& row) {
        rows.push_back(row);
        if (rows.size() == kRowsPerTransaction) {
            flush();
        }
    });
    if (!rows.empty()) {
        flush();
    }
    return RawAppendResult{
        .rows = plan.totalPoints(),
        .seconds = std::chrono::duration<double>(spent).count(),
        .method = fmt::format("bare SQLite table, no index, WAL, synchronous=NORMAL, {} rows per "
                              "transaction",
                              kRowsPerTransaction)};
}

}  // namespace esocore::bench
