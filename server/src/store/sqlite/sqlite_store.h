#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace esocore::store {

/// Opens the SQLite store at `path` (created when missing). `synchronous` is the PRAGMA value
/// for the writer: FULL makes every acknowledged commit survive a power cut.
Result<std::unique_ptr<Store>> openSqliteStore(const std::string& path,
                                               const std::string& synchronous = "FULL");

}  // namespace esocore::store
