#include "postgres_database.h"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <chrono>
#include <stdexcept>

namespace esocore::bench {

namespace {

struct ResultClearer {
    void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultClearer>;

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

PgResult execute(PGconn* conn, const std::string& sql, ExecStatusType expected) {
    PgResult result{PQexec(conn, sql.c_str())};
    if (!result || PQresultStatus(result.get()) != expected) {
        throw std::runtime_error(
            fmt::format("PostgreSQL: `{}`: {}", sql, trimmed(PQerrorMessage(conn))));
    }
    return result;
}

std::string uniqueDatabaseName() {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    return fmt::format("esocore_bench_{}_{}", getpid(), seconds);
}

}  // namespace

PgConnection connectPostgres(const std::string& url) {
    PgConnection conn{PQconnectdb(url.c_str())};
    if (!conn) {
        throw std::runtime_error("PostgreSQL: cannot allocate a connection");
    }
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        throw std::runtime_error(
            fmt::format("PostgreSQL: cannot connect: {}", trimmed(PQerrorMessage(conn.get()))));
    }
    return conn;
}

void executeSql(PGconn* conn, const std::string& sql) {
    execute(conn, sql, PGRES_COMMAND_OK);
}

std::string querySingleValue(PGconn* conn, const std::string& sql) {
    const PgResult result = execute(conn, sql, PGRES_TUPLES_OK);
    if (PQntuples(result.get()) < 1 || PQnfields(result.get()) < 1) {
        throw std::runtime_error(fmt::format("PostgreSQL: `{}` returned no row", sql));
    }
    return PQgetvalue(result.get(), 0, 0);
}

std::string withDatabase(std::string_view url, std::string_view database) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        throw std::runtime_error(fmt::format("not a postgresql:// URL: {}", url));
    }
    boost::urls::url rewritten{*parsed};
    rewritten.set_path(fmt::format("/{}", database));
    return std::string(rewritten.buffer());
}

BenchDatabase::BenchDatabase(const std::string& maintenance_url, bool keep)
    : maintenance_url_(maintenance_url), name_(uniqueDatabaseName()), keep_(keep) {
    url_ = withDatabase(maintenance_url_, name_);
    const PgConnection conn = connectPostgres(maintenance_url_);
    executeSql(conn.get(), "CREATE DATABASE " + name_);
}

BenchDatabase::~BenchDatabase() {
    if (keep_) {
        fmt::print(stderr, "bench-ingest: kept database {}\n", name_);
        return;
    }
    // Best effort, like the work directory: a failed drop is reported, not fatal.
    try {
        const PgConnection conn = connectPostgres(maintenance_url_);
        executeSql(conn.get(), fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_));
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench-ingest: could not drop database {}: {}\n", name_, e.what());
    }
}

}  // namespace esocore::bench
