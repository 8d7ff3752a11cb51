#include "support/stored_rows.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "support/test_server.h"

namespace esocore::testing {

namespace {

// Both stores name their tables and columns alike; `$1` is a parameter to both.
constexpr const char* kPointCount =
    "SELECT count(*) FROM points JOIN series ON series.id = points.series_id "
    "WHERE series.device_id = $1";
constexpr const char* kSeriesCount = "SELECT count(*) FROM series WHERE device_id = $1";
constexpr const char* kEventCount = "SELECT count(*) FROM events WHERE device_id = $1";
constexpr const char* kPacketCount = "SELECT count(*) FROM packets WHERE device_id = $1";
constexpr const char* kPoints =
    "SELECT series.name, series.unit, points.ts, points.value FROM points "
    "JOIN series ON series.id = points.series_id WHERE series.device_id = $1 "
    "ORDER BY series.id, points.ts";
constexpr const char* kEvents =
    "SELECT type, category, severity, description, asset_ref, ts FROM events "
    "WHERE device_id = $1 ORDER BY ts, type";
constexpr const char* kCycles =
    "SELECT asset_ref, cycle_id, started_at, ended_at, duration_ms FROM asset_cycles "
    "WHERE device_id = $1 ORDER BY cycle_id";

std::string text(const std::optional<std::string>& cell) {
    return cell.value_or("");
}

std::int64_t integer(const std::optional<std::string>& cell) {
    return cell ? std::stoll(*cell) : 0;
}

std::optional<std::int64_t> optionalInteger(const std::optional<std::string>& cell) {
    return cell ? std::optional(std::stoll(*cell)) : std::nullopt;
}

double real(const std::optional<std::string>& cell) {
    return cell ? std::stod(*cell) : 0;
}

}  // namespace

StoredRows::StoredRows(TestServer& server) : dialect_(server.store().dialect()) {
    if (dialect_ == "sqlite") {
        location_ = (server.dataDir() / "esocore.db").string();
    } else if (dialect_ == "postgresql") {
        location_ = server.app().config().database_url;
    } else {
        throw std::runtime_error("stored rows: cannot read a " + dialect_ + " store");
    }
}

StoredRows::~StoredRows() {
    sqlite3_close(sqlite_);
    if (postgres_ != nullptr) {
        PQfinish(postgres_);
    }
}

std::vector<StoredRows::Row> StoredRows::query(const char* sql, const std::string& device_id) {
    return dialect_ == "sqlite" ? querySqlite(sql, device_id) : queryPostgres(sql, device_id);
}

std::vector<StoredRows::Row> StoredRows::querySqlite(const char* sql,
                                                     const std::string& device_id) {
    if (sqlite_ == nullptr) {
        if (sqlite3_open_v2(location_.c_str(), &sqlite_, SQLITE_OPEN_READONLY, nullptr) !=
            SQLITE_OK) {
            throw std::runtime_error("stored rows: cannot open " + location_);
        }
        sqlite3_busy_timeout(sqlite_, 5000);
    }
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(sqlite_, sql, -1, &raw, nullptr) != SQLITE_OK) {
        throw std::runtime_error(std::string("stored rows: ") + sqlite3_errmsg(sqlite_));
    }
    // Finalized at once: a statement left open would keep its snapshot of the database.
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, sqlite3_finalize);
    sqlite3_bind_text(raw, 1, device_id.c_str(), -1, SQLITE_TRANSIENT);
    std::vector<Row> rows;
    while (sqlite3_step(raw) == SQLITE_ROW) {
        Row& row = rows.emplace_back();
        for (int i = 0; i < sqlite3_column_count(raw); ++i) {
            int type = sqlite3_column_type(raw, i);
            if (type == SQLITE_NULL) {
                row.emplace_back();
            } else if (type == SQLITE_FLOAT) {
                char digits[32];
                std::snprintf(digits, sizeof digits, "%.17g", sqlite3_column_double(raw, i));
                row.emplace_back(digits);
            } else {
                row.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(raw, i)));
            }
        }
    }
    return rows;
}

std::vector<StoredRows::Row> StoredRows::queryPostgres(const char* sql,
                                                       const std::string& device_id) {
    if (postgres_ == nullptr) {
        postgres_ = PQconnectdb(location_.c_str());
        if (PQstatus(postgres_) != CONNECTION_OK) {
            throw std::runtime_error(std::string("stored rows: ") + PQerrorMessage(postgres_));
        }
        PQclear(PQexec(postgres_, "SET default_transaction_read_only = on"));
    }
    const char* params[] = {device_id.c_str()};
    std::unique_ptr<PGresult, decltype(&PQclear)> result(
        PQexecParams(postgres_, sql, 1, nullptr, params, nullptr, nullptr, 0), PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
        throw std::runtime_error(std::string("stored rows: ") + PQresultErrorMessage(result.get()));
    }
    std::vector<Row> rows;
    for (int r = 0; r < PQntuples(result.get()); ++r) {
        Row& row = rows.emplace_back();
        for (int c = 0; c < PQnfields(result.get()); ++c) {
            if (PQgetisnull(result.get(), r, c)) {
                row.emplace_back();
            } else {
                row.emplace_back(PQgetvalue(result.get(), r, c));
            }
        }
    }
    return rows;
}

std::int64_t StoredRows::count(const char* sql, const std::string& device_id) {
    auto rows = query(sql, device_id);
    return rows.empty() ? 0 : integer(rows[0][0]);
}

std::int64_t StoredRows::pointCount(const std::string& device_id) {
    return count(kPointCount, device_id);
}

std::int64_t StoredRows::seriesCount(const std::string& device_id) {
    return count(kSeriesCount, device_id);
}

std::int64_t StoredRows::eventCount(const std::string& device_id) {
    return count(kEventCount, device_id);
}

std::int64_t StoredRows::packetCount(const std::string& device_id) {
    return count(kPacketCount, device_id);
}

std::vector<StoredPoint> StoredRows::points(const std::string& device_id) {
    std::vector<StoredPoint> out;
    for (const auto& row : query(kPoints, device_id)) {
        out.push_back({text(row[0]), text(row[1]), integer(row[2]), real(row[3])});
    }
    return out;
}

std::vector<StoredEvent> StoredRows::events(const std::string& device_id) {
    std::vector<StoredEvent> out;
    for (const auto& row : query(kEvents, device_id)) {
        out.push_back({text(row[0]), text(row[1]), text(row[2]), text(row[3]), text(row[4]),
                       integer(row[5])});
    }
    return out;
}

std::vector<StoredCycle> StoredRows::cycles(const std::string& device_id) {
    std::vector<StoredCycle> out;
    for (const auto& row : query(kCycles, device_id)) {
        out.push_back({text(row[0]), integer(row[1]), optionalInteger(row[2]),
                       optionalInteger(row[3]), optionalInteger(row[4])});
    }
    return out;
}

}  // namespace esocore::testing
