#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace esocore::store::postgres {

/// Statement parameters in PostgreSQL's text format; the server casts each to the type the
/// statement needs. A missing value is SQL NULL.
class Params {
public:
    Params& add(std::string_view text);
    Params& add(const std::string& text) { return add(std::string_view(text)); }
    Params& add(const char* text) { return add(std::string_view(text)); }
    Params& add(std::int64_t value);
    Params& add(int value) { return add(std::int64_t{value}); }
    Params& add(double value);
    Params& add(bool value);
    Params& add(std::optional<std::int64_t> value);
    Params& addNull();
    /// Adds an empty string as SQL NULL.
    Params& addOrNull(std::string_view text);

    int size() const { return static_cast<int>(values_.size()); }
    /// libpq's view of the values; valid while this object is unchanged.
    std::vector<const char*> pointers() const;

private:
    std::vector<std::optional<std::string>> values_;
};

/// A PostgreSQL array literal built element by element, e.g. {"a","b",NULL}, for statements
/// that take a whole column of rows as one `$n::type[]` parameter.
class ArrayLiteral {
public:
    ArrayLiteral& add(std::string_view text);
    ArrayLiteral& add(std::int64_t value);
    ArrayLiteral& addNull();
    ArrayLiteral& addOrNull(std::string_view text);
    ArrayLiteral& add(std::optional<std::int64_t> value);
    std::string str() const { return text_ + "}"; }

private:
    void separate();
    std::string text_ = "{";
};

/// The rows of one statement's answer, in text format.
class Rows {
public:
    explicit Rows(PGresult* result) : result_(result, &PQclear) {}

    int size() const { return PQntuples(result_.get()); }
    bool empty() const { return size() == 0; }
    bool isNull(int row, int column) const;
    std::string text(int row, int column) const;
    std::int64_t integer(int row, int column) const;
    std::optional<std::int64_t> optionalInteger(int row, int column) const;
    double real(int row, int column) const;
    bool boolean(int row, int column) const;
    /// Rows inserted, updated or deleted, from the command tag.
    std::int64_t affected() const;
    PGresult* raw() const { return result_.get(); }

private:
    std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

/// One libpq connection with its prepared statements. Not thread-safe: the pool hands it to
/// one thread at a time.
class Connection {
public:
    /// Connects to `url` (postgresql://user:pass@host:port/db, optionally ?host=/socket/dir).
    static Result<std::unique_ptr<Connection>> open(const std::string& url);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs SQL text as it is, several statements allowed and no parameters: for DDL and
    /// migrations.
    Result<void> exec(std::string_view sql);
    /// Runs `sql` as a prepared statement, preparing it on this connection on first use.
    Result<Rows> query(const std::string& sql, const Params& params = {});
    /// Runs `COPY ... FROM STDIN` and sends `data` in COPY's text format.
    Result<void> copyIn(const std::string& sql, std::string_view data);

    /// Quotes a name for use in SQL text.
    std::string identifier(std::string_view name) const;

    /// The SQLSTATE of the last failed query or copy, empty when it did not come from the
    /// server. A ROLLBACK after the failure leaves it as it is.
    const std::string& lastSqlState() const { return last_sqlstate_; }
    /// False once the link to the server is lost; the pool then discards the connection.
    bool usable() const;
    bool inTransaction() const;

    /// Per-connection setup that outlives a transaction (temporary tables): true once done.
    bool hasSetUp(std::string_view what) const;
    void markSetUp(std::string_view what);

private:
    explicit Connection(PGconn* conn) : conn_(conn) {}
    Error fail(const PGresult* result, std::string_view what);
    Result<std::string> prepared(const std::string& sql);

    PGconn* conn_;
    std::unordered_map<std::string, std::string> statements_;  // SQL text to statement name
    std::vector<std::string> set_up_;
    std::string last_sqlstate_;
};

/// A transaction that rolls back unless committed.
class Transaction {
public:
    static Result<Transaction> begin(Connection& connection);
    Transaction(Transaction&& other) noexcept : connection_(other.connection_) {
        other.connection_ = nullptr;
    }
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    Result<void> commit();

private:
    explicit Transaction(Connection& connection) : connection_(&connection) {}
    Connection* connection_;
};

/// SQLSTATEs that the store reacts to.
inline constexpr std::string_view kDeadlockDetected = "40P01";
inline constexpr std::string_view kSerializationFailure = "40001";
inline constexpr std::string_view kCheckViolation = "23514";  // also: no partition for a row

}  // namespace esocore::store::postgres
