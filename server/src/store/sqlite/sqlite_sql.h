#pragma once

#include <string_view>

#include "store/sql.h"
#include "store/sqlite/sqlite_db.h"

namespace esocore::store::sqlite {

/// Rows and changes of one portable statement run on one connection.
struct StatementOutcome {
    std::vector<SqlRow> rows;
    std::int64_t changes = 0;
};

/// Prepares `sql` (with `$N` placeholders) on `connection`, binds `params` and steps it to
/// the end. The caller holds whatever lock the connection needs.
Result<StatementOutcome> runStatement(Connection& connection, std::string_view sql,
                                      const SqlParams& params);

/// Whether `sql` only reads, judged by SQLite itself on `connection`.
Result<bool> isReadOnly(Connection& connection, std::string_view sql);

/// Every statement on one connection that is already inside a transaction (the writer,
/// locked by the caller for as long as this session lives).
class ConnectionSession final : public SqlSession {
public:
    explicit ConnectionSession(Connection& connection) : connection_(connection) {}

    std::string dialect() const override { return "sqlite"; }
    Result<std::vector<SqlRow>> query(std::string_view sql, const SqlParams& params) override;
    Result<std::int64_t> execute(std::string_view sql, const SqlParams& params) override;
    Result<void> transaction(const std::function<Result<void>(SqlSession&)>& work) override {
        return work(*this);
    }

private:
    Connection& connection_;
};

}  // namespace esocore::store::sqlite
