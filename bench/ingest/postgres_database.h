#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>

namespace esocore::bench {

struct PgConnectionCloser {
    void operator()(PGconn* conn) const { PQfinish(conn); }
};

/// An open libpq connection, closed on destruction.
using PgConnection = std::unique_ptr<PGconn, PgConnectionCloser>;

/// Connects to `url` (a postgresql:// URL or key=value string). Throws with libpq's reason.
PgConnection connectPostgres(const std::string& url);

/// Runs one statement that returns no rows. Throws with the server's message.
void executeSql(PGconn* conn, const std::string& sql);

/// The first column of the first row of `sql`. Throws when the query fails or returns no row.
std::string querySingleValue(PGconn* conn, const std::string& sql);

/// A database created for one run on the server of a maintenance URL, dropped on destruction
/// so that a run leaves nothing behind on a shared server.
class BenchDatabase {
public:
    /// Creates `esocore_bench_<pid>_<time>` through `maintenance_url`. Throws on failure.
    BenchDatabase(const std::string& maintenance_url, bool keep);
    ~BenchDatabase();

    BenchDatabase(const BenchDatabase&) = delete;
    BenchDatabase& operator=(const BenchDatabase&) = delete;

    const std::string& name() const { return name_; }

    /// The maintenance URL with its database replaced by this one.
    const std::string& url() const { return url_; }

private:
    std::string maintenance_url_;
    std::string name_;
    std::string url_;
    bool keep_;
};

/// `url` with its path (the database name) replaced by `database`. Throws on an unparsable URL.
std::string withDatabase(std::string_view url, std::string_view database);

}  // namespace esocore::bench
