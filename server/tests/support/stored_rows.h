#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

struct sqlite3;
struct pg_conn;

namespace esocore::testing {

class TestServer;

struct StoredPoint {
    std::string series;
    std::string unit;
    Micros ts = 0;
    double value = 0;
};

struct StoredEvent {
    std::string type;
    std::string category;
    std::string severity;
    std::string description;
    std::string asset_ref;
    Micros ts = 0;
};

struct StoredCycle {
    std::string asset_ref;
    std::int64_t cycle_id = 0;
    std::optional<Micros> started_at;
    std::optional<Micros> ended_at;
    std::optional<std::int64_t> duration_ms;
};

/// What a test server has committed, read through a second, read-only connection of its own
/// (SQLite or PostgreSQL): a row seen here is durable, not merely answered.
class StoredRows {
public:
    explicit StoredRows(TestServer& server);
    ~StoredRows();
    StoredRows(const StoredRows&) = delete;
    StoredRows& operator=(const StoredRows&) = delete;

    std::int64_t pointCount(const std::string& device_id);
    std::int64_t seriesCount(const std::string& device_id);
    std::int64_t eventCount(const std::string& device_id);
    std::int64_t packetCount(const std::string& device_id);

    /// In the order the series were created, then by time.
    std::vector<StoredPoint> points(const std::string& device_id);
    /// Ordered by time, then type.
    std::vector<StoredEvent> events(const std::string& device_id);
    /// Ordered by cycle id.
    std::vector<StoredCycle> cycles(const std::string& device_id);

private:
    // One row of text cells; nothing for NULL.
    using Row = std::vector<std::optional<std::string>>;

    /// Runs `sql` with the device id as its one parameter, `$1`.
    std::vector<Row> query(const char* sql, const std::string& device_id);
    std::vector<Row> querySqlite(const char* sql, const std::string& device_id);
    std::vector<Row> queryPostgres(const char* sql, const std::string& device_id);
    std::int64_t count(const char* sql, const std::string& device_id);

    std::string dialect_;
    std::string location_;  // the SQLite file or the PostgreSQL URL
    sqlite3* sqlite_ = nullptr;
    pg_conn* postgres_ = nullptr;
};

}  // namespace esocore::testing
