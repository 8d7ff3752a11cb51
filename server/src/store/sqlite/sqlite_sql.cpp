#include "store/sqlite/sqlite_sql.h"

namespace esocore::store::sqlite {

namespace {

void bindValue(Statement& statement, int index, const SqlValue& value) {
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
        statement.bind(index, *i);
    } else if (const auto* d = std::get_if<double>(&value)) {
        statement.bind(index, *d);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
        statement.bind(index, *s);
    } else {
        statement.bindNull(index);
    }
}

SqlRow readRow(const Statement& statement) {
    std::vector<SqlValue> values;
    int columns = statement.columnCount();
    values.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
        switch (statement.columnType(c)) {
            case SQLITE_INTEGER:
                values.emplace_back(statement.integer(c));
                break;
            case SQLITE_FLOAT:
                values.emplace_back(statement.real(c));
                break;
            case SQLITE_NULL:
                values.emplace_back(nullptr);
                break;
            default:
                values.emplace_back(statement.text(c));
        }
    }
    return SqlRow(std::move(values));
}

}  // namespace

Result<StatementOutcome> runStatement(Connection& connection, std::string_view sql,
                                      const SqlParams& params) {
    auto statement = connection.prepare(sqlitePlaceholders(sql));
    if (!statement) {
        return statement.takeError();
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
        bindValue(**statement, static_cast<int>(i + 1), params[i]);
    }
    StatementOutcome outcome;
    int rc = (*statement)->step();
    while (rc == SQLITE_ROW) {
        outcome.rows.push_back(readRow(**statement));
        rc = (*statement)->step();
    }
    if (rc != SQLITE_DONE) {
        return sqliteError(connection.handle(), "statement");
    }
    outcome.changes = (*statement)->readOnly() ? 0 : (*statement)->changes();
    return outcome;
}

Result<bool> isReadOnly(Connection& connection, std::string_view sql) {
    auto statement = connection.prepare(sqlitePlaceholders(sql));
    if (!statement) {
        return statement.takeError();
    }
    return (*statement)->readOnly();
}

Result<std::vector<SqlRow>> ConnectionSession::query(std::string_view sql,
                                                     const SqlParams& params) {
    auto outcome = runStatement(connection_, sql, params);
    if (!outcome) {
        return outcome.takeError();
    }
    return std::move(outcome->rows);
}

Result<std::int64_t> ConnectionSession::execute(std::string_view sql, const SqlParams& params) {
    auto outcome = runStatement(connection_, sql, params);
    if (!outcome) {
        return outcome.takeError();
    }
    return outcome->changes;
}

}  // namespace esocore::store::sqlite
