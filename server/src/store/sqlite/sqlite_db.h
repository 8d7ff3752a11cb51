#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace esocore::store::sqlite {

/// A prepared statement, reset and cleared on each use.
class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& reset();
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bind(int index, const std::string& text) {
        return bind(index, std::string_view(text));
    }
    Statement& bind(int index, std::optional<std::int64_t> value);
    Statement& bindNull(int index);
    /// Binds an empty string as SQL NULL.
    Statement& bindOrNull(int index, std::string_view text);

    /// SQLITE_ROW, SQLITE_DONE or an error code.
    int step();
    /// Steps to completion; returns the error when it fails.
    Result<void> run();

    std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    double real(int column) const { return sqlite3_column_double(stmt_, column); }
    std::string text(int column) const;
    bool isNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
    std::optional<std::int64_t> optionalInteger(int column) const;

    int columnCount() const { return sqlite3_column_count(stmt_); }
    /// SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB or SQLITE_NULL.
    int columnType(int column) const { return sqlite3_column_type(stmt_, column); }
    /// True when the statement cannot change the database, so a reader may run it.
    bool readOnly() const { return sqlite3_stmt_readonly(stmt_) != 0; }

    int changes() const { return sqlite3_changes(db_); }
    std::string errorMessage() const { return sqlite3_errmsg(db_); }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

/// A cached statement in use. Resetting it when the use ends matters: a statement left
/// stepped holds a read transaction, and with it a stale snapshot of the database.
class StatementRef {
public:
    explicit StatementRef(Statement* statement) : statement_(statement) {}
    StatementRef(StatementRef&& other) noexcept : statement_(other.statement_) {
        other.statement_ = nullptr;
    }
    StatementRef(const StatementRef&) = delete;
    StatementRef& operator=(const StatementRef&) = delete;
    ~StatementRef() {
        if (statement_ != nullptr) {
            statement_->reset();
        }
    }
    Statement* operator->() const { return statement_; }
    Statement& operator*() const { return *statement_; }

private:
    Statement* statement_;
};

/// One SQLite connection with its statement cache. Not thread-safe: callers lock.
class Connection {
public:
    /// Opens (creating when needed) and sets WAL, busy timeout and foreign keys.
    static Result<std::unique_ptr<Connection>> open(const std::string& path,
                                                    std::string_view synchronous = "FULL");
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    Result<void> exec(std::string_view sql);
    /// A cached prepared statement for `sql`, reset and ready to bind; reset again when the
    /// returned reference goes away.
    Result<StatementRef> prepare(std::string_view sql);
    sqlite3* handle() const { return db_; }

private:
    explicit Connection(sqlite3* db) : db_(db) {}
    sqlite3* db_;
    std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

/// A transaction that rolls back unless committed.
class Transaction {
public:
    static Result<Transaction> begin(Connection& connection);
    Transaction(Transaction&& other) noexcept : connection_(other.connection_) {
        other.connection_ = nullptr;
    }
    ~Transaction();
    Result<void> commit();

private:
    explicit Transaction(Connection& connection) : connection_(&connection) {}
    Connection* connection_;
};

/// Errors from SQLite as the store reports them.
Error sqliteError(sqlite3* db, std::string_view what);

}  // namespace esocore::store::sqlite
