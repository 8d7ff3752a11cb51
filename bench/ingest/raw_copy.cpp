#include "raw_copy.h"

#include <fmt/format.h>

#include <bit>
#include <chrono>
#include <stdexcept>
#include <type_traits>

#include "postgres_database.h"

namespace esocore::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kRowsPerCopy = 100'000;
constexpr const char* kCopySql = "COPY raw (series_id, ts, value) FROM STDIN (FORMAT binary)";

// The binary COPY stream: a fixed signature, flags and header-extension length, then tuples,
// then a field count of -1. Every integer is big-endian.
constexpr char kCopySignature[] = "PGCOPY\n\377\r\n";
constexpr std::size_t kBytesPerRow = 2 + 3 * (4 + 8);

template <typename Integer>
void appendBigEndian(std::string& out, Integer value) {
    const auto bits = static_cast<std::make_unsigned_t<Integer>>(value);
    for (int shift = 8 * (sizeof(bits) - 1); shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((bits >> shift) & 0xff));
    }
}

void appendInt64Field(std::string& out, std::int64_t value) {
    appendBigEndian(out, std::int32_t{8});
    appendBigEndian(out, value);
}

class CopyChunk {
public:
    CopyChunk() {
        payload_.reserve(kRowsPerCopy * kBytesPerRow + 64);
        start();
    }

    void add(const RawRow& row) {
        appendBigEndian(payload_, std::int16_t{3});
        appendInt64Field(payload_, row.series_id);
        appendInt64Field(payload_, row.ts_us);
        appendInt64Field(payload_, std::bit_cast<std::int64_t>(row.value));
        ++rows_;
    }

    std::size_t rows() const { return rows_; }

    /// The complete stream, trailer included.
    const std::string& finish() {
        appendBigEndian(payload_, std::int16_t{-1});
        return payload_;
    }

    void clear() {
        payload_.clear();
        rows_ = 0;
        start();
    }

private:
    void start() {
        payload_.append(kCopySignature, sizeof(kCopySignature));  // with its trailing \0
        appendBigEndian(payload_, std::int32_t{0});               // flags
        appendBigEndian(payload_, std::int32_t{0});               // header extension length
    }

    std::string payload_;
    std::size_t rows_ = 0;
};

[[noreturn]] void throwCopy(PGconn* conn, std::string_view step) {
    throw std::runtime_error(fmt::format("raw COPY: {}: {}", step, PQerrorMessage(conn)));
}

void expectResult(PGconn* conn, ExecStatusType expected, std::string_view step) {
    PGresult* result = PQgetResult(conn);
    const bool ok = result != nullptr && PQresultStatus(result) == expected;
    PQclear(result);
    if (!ok) {
        throwCopy(conn, step);
    }
}

// One timed COPY statement; outside a transaction block it commits on its own.
Clock::duration copyChunk(PGconn* conn, const std::string& stream) {
    const auto started = Clock::now();
    if (PQsendQuery(conn, kCopySql) == 0) {
        throwCopy(conn, "start");
    }
    expectResult(conn, PGRES_COPY_IN, "start");
    if (PQputCopyData(conn, stream.data(), static_cast<int>(stream.size())) != 1 ||
        PQputCopyEnd(conn, nullptr) != 1) {
        throwCopy(conn, "send");
    }
    expectResult(conn, PGRES_COMMAND_OK, "finish");
    while (PGresult* extra = PQgetResult(conn)) {
        PQclear(extra);
    }
    return Clock::now() - started;
}

std::string describeMethod(PGconn* conn) {
    return fmt::format(
        "binary COPY FROM STDIN into an unindexed table, {} rows per COPY, each COPY its own "
        "transaction (server: fsync={}, synchronous_commit={})",
        kRowsPerCopy, querySingleValue(conn, "SHOW fsync"),
        querySingleValue(conn, "SHOW synchronous_commit"));
}

}  // namespace

RawAppendResult measureRawCopy(const PointPlan& plan, const std::string& database_url) {
    const PgConnection conn = connectPostgres(database_url);
    executeSql(conn.get(), "CREATE TABLE raw(series_id bigint, ts bigint, value double precision)");

    CopyChunk chunk;
    Clock::duration spent{};
    auto flush = [&] {
        spent += copyChunk(conn.get(), chunk.finish());
        chunk.clear();
    };
    forEachRawRow(plan, [&](const RawRow& row) {
        chunk.add(row);
        if (chunk.rows() == kRowsPerCopy) {
            flush();
        }
    });
    if (chunk.rows() > 0) {
        flush();
    }

    RawAppendResult result{.rows = plan.totalPoints(),
                           .seconds = std::chrono::duration<double>(spent).count(),
                           .method = describeMethod(conn.get())};
    // The server under test gets the database to itself.
    executeSql(conn.get(), "DROP TABLE raw");
    return result;
}

}  // namespace esocore::bench
