#include "store/postgres/pg_sql.h"

namespace esocore::store::postgres {

namespace {

// Type oids from pg_type.h, which libpq does not install.
constexpr Oid kBool = 16;
constexpr Oid kInt8 = 20;
constexpr Oid kInt2 = 21;
constexpr Oid kInt4 = 23;
constexpr Oid kFloat4 = 700;
constexpr Oid kFloat8 = 701;
constexpr Oid kNumeric = 1700;

Params toParams(const SqlParams& params) {
    Params out;
    for (const SqlValue& value : params) {
        if (const auto* i = std::get_if<std::int64_t>(&value)) {
            out.add(*i);
        } else if (const auto* d = std::get_if<double>(&value)) {
            out.add(*d);
        } else if (const auto* s = std::get_if<std::string>(&value)) {
            out.add(*s);
        } else {
            out.addNull();
        }
    }
    return out;
}

SqlValue readValue(const Rows& rows, int row, int column) {
    if (rows.isNull(row, column)) {
        return nullptr;
    }
    switch (PQftype(rows.raw(), column)) {
        case kBool:
            return std::int64_t{rows.boolean(row, column) ? 1 : 0};
        case kInt2:
        case kInt4:
        case kInt8:
            return rows.integer(row, column);
        case kFloat4:
        case kFloat8:
        case kNumeric:
            return rows.real(row, column);
        default:
            return rows.text(row, column);
    }
}

std::vector<SqlRow> toRows(const Rows& rows) {
    std::vector<SqlRow> out;
    int columns = PQnfields(rows.raw());
    out.reserve(static_cast<std::size_t>(rows.size()));
    for (int r = 0; r < rows.size(); ++r) {
        std::vector<SqlValue> values;
        values.reserve(static_cast<std::size_t>(columns));
        for (int c = 0; c < columns; ++c) {
            values.push_back(readValue(rows, r, c));
        }
        out.emplace_back(std::move(values));
    }
    return out;
}

}  // namespace

Result<std::vector<SqlRow>> ConnectionSession::query(std::string_view sql,
                                                     const SqlParams& params) {
    auto rows = connection_.query(std::string(sql), toParams(params));
    if (!rows) {
        return rows.takeError();
    }
    return toRows(*rows);
}

Result<std::int64_t> ConnectionSession::execute(std::string_view sql, const SqlParams& params) {
    auto rows = connection_.query(std::string(sql), toParams(params));
    if (!rows) {
        return rows.takeError();
    }
    return rows->affected();
}

Result<std::vector<SqlRow>> PoolSession::query(std::string_view sql, const SqlParams& params) {
    auto lease = pool_.acquire();
    if (!lease) {
        return lease.takeError();
    }
    return ConnectionSession(**lease).query(sql, params);
}

Result<std::int64_t> PoolSession::execute(std::string_view sql, const SqlParams& params) {
    auto lease = pool_.acquire();
    if (!lease) {
        return lease.takeError();
    }
    return ConnectionSession(**lease).execute(sql, params);
}

Result<void> PoolSession::transaction(const std::function<Result<void>(SqlSession&)>& work) {
    auto lease = pool_.acquire();
    if (!lease) {
        return lease.takeError();
    }
    auto tx = Transaction::begin(**lease);
    if (!tx) {
        return tx.takeError();
    }
    ConnectionSession session(**lease);
    if (auto ok = work(session); !ok) {
        return ok;
    }
    return tx->commit();
}

}  // namespace esocore::store::postgres
