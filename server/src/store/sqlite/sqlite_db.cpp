#include "store/sqlite/sqlite_db.h"

#include <fmt/format.h>

namespace esocore::store::sqlite {

Error sqliteError(sqlite3* db, std::string_view what) {
    int code = sqlite3_extended_errcode(db);
    std::string message = fmt::format("{}: {}", what, sqlite3_errmsg(db));
    if ((code & 0xff) == SQLITE_CONSTRAINT) {
        return Error{409, "conflict", message, {}};
    }
    if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED ||
        (code & 0xff) == SQLITE_FULL || (code & 0xff) == SQLITE_IOERR) {
        return Error{503, "store_unavailable", message, {}};
    }
    return Error{500, "store_error", message, {}};
}

Statement& Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind(int index, std::optional<std::int64_t> value) {
    return value ? bind(index, *value) : bindNull(index);
}

Statement& Statement::bindNull(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
}

Statement& Statement::bindOrNull(int index, std::string_view text) {
    return text.empty() ? bindNull(index) : bind(index, text);
}

int Statement::step() {
    return sqlite3_step(stmt_);
}

Result<void> Statement::run() {
    int rc = step();
    while (rc == SQLITE_ROW) {
        rc = step();
    }
    if (rc != SQLITE_DONE) {
        Error error = sqliteError(db_, "statement");
        sqlite3_reset(stmt_);
        return error;
    }
    return {};
}

std::string Statement::text(int column) const {
    auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (data == nullptr) {
        return {};
    }
    return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::int64_t> Statement::optionalInteger(int column) const {
    if (isNull(column)) {
        return std::nullopt;
    }
    return integer(column);
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path,
                                                     std::string_view synchronous) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        Error error = sqliteError(db, "open " + path);
        sqlite3_close(db);
        return error;
    }
    std::unique_ptr<Connection> connection(new Connection(db));
    sqlite3_busy_timeout(db, 10'000);
    std::string pragmas = fmt::format(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA foreign_keys=ON; "
        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
        synchronous);
    if (auto ok = connection->exec(pragmas); !ok) {
        return ok.takeError();
    }
    return connection;
}

Connection::~Connection() {
    cache_.clear();
    sqlite3_close(db_);
}

Result<void> Connection::exec(std::string_view sql) {
    std::string copy(sql);
    char* message = nullptr;
    if (sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        Error error = sqliteError(db_, "exec");
        sqlite3_free(message);
        return error;
    }
    return {};
}

Result<StatementRef> Connection::prepare(std::string_view sql) {
    auto found = cache_.find(std::string(sql));
    if (found != cache_.end()) {
        return StatementRef(&found->second->reset());
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt, nullptr) != SQLITE_OK) {
        return sqliteError(db_, "prepare");
    }
    auto [it, inserted] = cache_.emplace(std::string(sql), std::make_unique<Statement>(db_, stmt));
    return StatementRef(it->second.get());
}

Result<Transaction> Transaction::begin(Connection& connection) {
    if (auto ok = connection.exec("BEGIN IMMEDIATE"); !ok) {
        return ok.takeError();
    }
    return Transaction(connection);
}

Transaction::~Transaction() {
    if (connection_ != nullptr) {
        (void)connection_->exec("ROLLBACK");
    }
}

Result<void> Transaction::commit() {
    Connection* connection = connection_;
    connection_ = nullptr;
    if (auto ok = connection->exec("COMMIT"); !ok) {
        (void)connection->exec("ROLLBACK");
        return ok;
    }
    return {};
}

}  // namespace esocore::store::sqlite
