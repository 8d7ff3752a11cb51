#pragma once

#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_pool.h"
#include "store/sql.h"

namespace esocore::store::postgres {

/// Every statement on one connection that is already inside a transaction.
class ConnectionSession final : public SqlSession {
public:
    explicit ConnectionSession(Connection& connection) : connection_(connection) {}

    std::string dialect() const override { return "postgresql"; }
    Result<std::vector<SqlRow>> query(std::string_view sql, const SqlParams& params) override;
    Result<std::int64_t> execute(std::string_view sql, const SqlParams& params) override;
    Result<void> transaction(const std::function<Result<void>(SqlSession&)>& work) override {
        return work(*this);
    }

private:
    Connection& connection_;
};

/// Each statement on a connection of the pool; a transaction keeps one connection throughout.
class PoolSession final : public SqlSession {
public:
    explicit PoolSession(Pool& pool) : pool_(pool) {}

    std::string dialect() const override { return "postgresql"; }
    Result<std::vector<SqlRow>> query(std::string_view sql, const SqlParams& params) override;
    Result<std::int64_t> execute(std::string_view sql, const SqlParams& params) override;
    Result<void> transaction(const std::function<Result<void>(SqlSession&)>& work) override;

private:
    Pool& pool_;
};

}  // namespace esocore::store::postgres
