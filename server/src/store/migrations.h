#pragma once

#include <span>

namespace esocore::store {

/// One numbered schema change, embedded from server/migrations/<dialect>/NNNN_name.sql.
struct Migration {
    int version;
    const char* name;
    const char* sql;
};

std::span<const Migration> sqliteMigrations();
std::span<const Migration> postgresMigrations();

inline int latestMigration(std::span<const Migration> migrations) {
    return migrations.empty() ? 0 : migrations.back().version;
}

}  // namespace esocore::store
