#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "store/store.h"

namespace esocore::store {

/// Opens the PostgreSQL store at `url` (postgresql://user:pass@host:port/db, or with
/// ?host=/socket/dir) with a pool of at most `max_connections`. Fails with store_unavailable
/// when the server cannot be reached.
Result<std::unique_ptr<Store>> openPostgresStore(const std::string& url,
                                                 std::size_t max_connections = 16);

}  // namespace esocore::store
