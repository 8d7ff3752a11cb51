#include <stdexcept>

#include "core/config.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace esocore::store {

std::unique_ptr<Store> openStore(const Config& config) {
    if (config.usesPostgres()) {
        throw std::runtime_error(
            "this build has no PostgreSQL store; use ESOCORE_DATABASE_URL=sqlite:PATH");
    }
    auto opened = openSqliteStore(config.sqlitePath());
    if (!opened) {
        throw std::runtime_error("cannot open " + config.sqlitePath() + ": " +
                                 opened.error().message);
    }
    return std::move(opened).value();
}

}  // namespace esocore::store
