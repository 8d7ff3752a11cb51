#include "store/postgres/pg_connection.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "core/log.h"

namespace esocore::store::postgres {

namespace {

// Maps a failure to the error the store reports. An empty SQLSTATE means the server never
// answered (connection lost or refused): the store is unavailable, not broken.
Error storeError(std::string_view sqlstate, std::string message) {
    auto klass = sqlstate.substr(0, std::min<std::size_t>(2, sqlstate.size()));
    if (klass == "23") {
        return Error{409, "conflict", std::move(message), {}};
    }
    if (sqlstate.empty() || klass == "08" || klass == "53" || klass == "57" ||
        sqlstate == kDeadlockDetected || sqlstate == kSerializationFailure) {
        return Error{503, "store_unavailable", std::move(message), {}};
    }
    if (klass == "22") {
        return Error{400, "invalid_value", std::move(message), {}};
    }
    return Error{500, "store_error", std::move(message), {}};
}

std::string trimmed(const char* message) {
    std::string text = message == nullptr ? "" : message;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

// libpq prints notices (e.g. "relation already exists, skipping") on stderr by default; the
// server writes only through its logger.
void logNotice(void*, const char* message) {
    log::debug("postgresql notice", {{"message", trimmed(message)}});
}

}  // namespace

Params& Params::add(std::string_view text) {
    values_.emplace_back(std::string(text));
    return *this;
}

Params& Params::add(std::int64_t value) {
    values_.emplace_back(std::to_string(value));
    return *this;
}

Params& Params::add(double value) {
    // The shortest text that reads back as the same double.
    values_.emplace_back(fmt::format("{}", value));
    return *this;
}

Params& Params::add(bool value) {
    values_.emplace_back(value ? "true" : "false");
    return *this;
}

Params& Params::add(std::optional<std::int64_t> value) {
    return value ? add(*value) : addNull();
}

Params& Params::addNull() {
    values_.emplace_back(std::nullopt);
    return *this;
}

Params& Params::addOrNull(std::string_view text) {
    return text.empty() ? addNull() : add(text);
}

std::vector<const char*> Params::pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const auto& value : values_) {
        out.push_back(value ? value->c_str() : nullptr);
    }
    return out;
}

void ArrayLiteral::separate() {
    if (text_.size() > 1) {
        text_ += ',';
    }
}

ArrayLiteral& ArrayLiteral::add(std::string_view text) {
    separate();
    text_ += '"';
    for (char c : text) {
        if (c == '"' || c == '\\') {
            text_ += '\\';
        }
        text_ += c;
    }
    text_ += '"';
    return *this;
}

ArrayLiteral& ArrayLiteral::add(std::int64_t value) {
    separate();
    text_ += std::to_string(value);
    return *this;
}

ArrayLiteral& ArrayLiteral::addNull() {
    separate();
    text_ += "NULL";
    return *this;
}

ArrayLiteral& ArrayLiteral::addOrNull(std::string_view text) {
    return text.empty() ? addNull() : add(text);
}

ArrayLiteral& ArrayLiteral::add(std::optional<std::int64_t> value) {
    return value ? add(*value) : addNull();
}

bool Rows::isNull(int row, int column) const {
    return PQgetisnull(result_.get(), row, column) != 0;
}

std::string Rows::text(int row, int column) const {
    return std::string(PQgetvalue(result_.get(), row, column),
                       static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t Rows::integer(int row, int column) const {
    const char* begin = PQgetvalue(result_.get(), row, column);
    std::int64_t value = 0;
    std::from_chars(begin, begin + PQgetlength(result_.get(), row, column), value);
    return value;
}

std::optional<std::int64_t> Rows::optionalInteger(int row, int column) const {
    if (isNull(row, column)) {
        return std::nullopt;
    }
    return integer(row, column);
}

double Rows::real(int row, int column) const {
    return std::strtod(PQgetvalue(result_.get(), row, column), nullptr);
}

bool Rows::boolean(int row, int column) const {
    return PQgetvalue(result_.get(), row, column)[0] == 't';
}

std::int64_t Rows::affected() const {
    const char* tuples = PQcmdTuples(result_.get());
    return tuples[0] == '\0' ? 0 : std::strtoll(tuples, nullptr, 10);
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& url) {
    // Keywords before dbname are defaults: whatever the URL says wins.
    const char* keywords[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                              nullptr};
    const char* values[] = {"5", "esocore", "UTF8", url.c_str(), nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, 1);
    if (conn == nullptr) {
        return Error{503, "store_unavailable", "cannot allocate a PostgreSQL connection", {}};
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        Error error{503,
                    "store_unavailable",
                    "cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(conn)),
                    {}};
        PQfinish(conn);
        return error;
    }
    PQsetNoticeProcessor(conn, &logNotice, nullptr);
    return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() {
    PQfinish(conn_);
}

Error Connection::fail(const PGresult* result, std::string_view what) {
    const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
    last_sqlstate_ = state == nullptr ? "" : state;
    std::string message =
        result == nullptr ? trimmed(PQerrorMessage(conn_)) : trimmed(PQresultErrorMessage(result));
    return storeError(last_sqlstate_, fmt::format("{}: {}", what, message));
}

Result<void> Connection::exec(std::string_view sql) {
    Rows rows(PQexec(conn_, std::string(sql).c_str()));
    auto status = PQresultStatus(rows.raw());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        return fail(rows.raw(), "exec");
    }
    return {};
}

Result<std::string> Connection::prepared(const std::string& sql) {
    if (auto found = statements_.find(sql); found != statements_.end()) {
        return found->second;
    }
    std::string name = "esocore_" + std::to_string(statements_.size() + 1);
    Rows rows(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    if (PQresultStatus(rows.raw()) != PGRES_COMMAND_OK) {
        return fail(rows.raw(), "prepare");
    }
    statements_.emplace(sql, name);
    return name;
}

Result<Rows> Connection::query(const std::string& sql, const Params& params) {
    last_sqlstate_.clear();
    auto name = prepared(sql);
    if (!name) {
        return name.takeError();
    }
    auto values = params.pointers();
    Rows rows(
        PQexecPrepared(conn_, name->c_str(), params.size(), values.data(), nullptr, nullptr, 0));
    auto status = PQresultStatus(rows.raw());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        return fail(rows.raw(), "query");
    }
    return rows;
}

Result<void> Connection::copyIn(const std::string& sql, std::string_view data) {
    last_sqlstate_.clear();
    {
        Rows start(PQexec(conn_, sql.c_str()));
        if (PQresultStatus(start.raw()) != PGRES_COPY_IN) {
            return fail(start.raw(), "copy");
        }
    }
    bool sent = PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) == 1;
    sent = PQputCopyEnd(conn_, sent ? nullptr : "client failed to send the rows") == 1 && sent;
    Result<void> outcome;
    while (PGresult* raw = PQgetResult(conn_)) {
        Rows result(raw);
        if (PQresultStatus(raw) != PGRES_COMMAND_OK && outcome) {
            outcome = fail(raw, "copy");
        }
    }
    if (!sent && outcome) {
        return fail(nullptr, "copy");
    }
    return outcome;
}

std::string Connection::identifier(std::string_view name) const {
    char* quoted = PQescapeIdentifier(conn_, name.data(), name.size());
    std::string out = quoted == nullptr ? std::string(name) : std::string(quoted);
    PQfreemem(quoted);
    return out;
}

bool Connection::usable() const {
    return PQstatus(conn_) == CONNECTION_OK;
}

bool Connection::inTransaction() const {
    return PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

bool Connection::hasSetUp(std::string_view what) const {
    return std::find(set_up_.begin(), set_up_.end(), what) != set_up_.end();
}

void Connection::markSetUp(std::string_view what) {
    set_up_.emplace_back(what);
}

Result<Transaction> Transaction::begin(Connection& connection) {
    if (auto ok = connection.exec("BEGIN"); !ok) {
        return ok.takeError();
    }
    return Transaction(connection);
}

Transaction::~Transaction() {
    if (connection_ != nullptr && connection_->usable()) {
        (void)connection_->exec("ROLLBACK");
    }
}

Result<void> Transaction::commit() {
    Connection* connection = connection_;
    connection_ = nullptr;
    // COMMIT of a transaction that already failed answers ROLLBACK without an error; the
    // callers return on the first failure, so reaching here means every statement succeeded.
    if (auto ok = connection->exec("COMMIT"); !ok) {
        (void)connection->exec("ROLLBACK");
        return ok;
    }
    return {};
}

}  // namespace esocore::store::postgres
