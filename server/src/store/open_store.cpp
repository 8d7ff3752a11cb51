#include <stdexcept>

#include "core/config.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace esocore::store {

std::unique_ptr<Store> openStore(const Config& config) {
    if (config.usesPostgres()) {
        auto opened = openPostgresStore(config.database_url);
        if (!opened) {
            // libpq's reason names the host and database but never the password.
            throw std::runtime_error("cannot open the PostgreSQL store: " + opened.error().message);
        }
        return std::move(opened).value();
    }
    auto opened = openSqliteStore(config.sqlitePath());
    if (!opened) {
        throw std::runtime_error("cannot open " + config.sqlitePath() + ": " +
                                 opened.error().message);
    }
    return std::move(opened).value();
}

}  // namespace esocore::store
