#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.h"
#include "store/postgres/pg_connection.h"
#include "store/types.h"

namespace esocore::store::postgres {

/// Series ids by device and name, shared by every connection of one store. Only ids whose
/// rows are committed go in, so a rolled-back group leaves nothing stale behind.
class SeriesCache {
public:
    static std::string key(const std::string& device_id, const std::string& name);
    std::optional<std::int64_t> find(const std::string& key) const;
    void insert(const std::vector<std::pair<std::string, std::int64_t>>& entries);

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::int64_t> ids_;
};

/// A ledger entry from the 11 columns id, device_id, idempotency_key, body_sha256,
/// received_at, accepted, duplicates, rejected, points, events, errors starting at `first`.
Packet readPacket(const Rows& rows, int row, int first);

/// Store::commitIngest on one connection: every batch of the group in one transaction. The
/// caller retries on a deadlock or a missing partition; nothing here outlives a rollback.
Result<std::vector<IngestOutcome>> commitGroup(Connection& c, SeriesCache& series,
                                               std::span<IngestBatch* const> batches);

/// Inserts the events of the batches marked in `apply`, skipping those already stored (same
/// device, type and ts), and feeds asset cycles from the new ones. Counts go to `counts`.
Result<void> writeEvents(Connection& c, std::span<IngestBatch* const> batches,
                         const std::vector<bool>& apply, std::vector<IngestCounts>& counts);

}  // namespace esocore::store::postgres
