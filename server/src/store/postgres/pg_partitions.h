#pragma once

#include <mutex>
#include <set>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/postgres/pg_connection.h"

namespace esocore::store::postgres {

/// The monthly partitions of the telemetry tables, and which of them this process knows to
/// exist, so that ingest asks the database only about months it has not seen.
class Partitions {
public:
    /// Months created ahead of the current one by maintainPartitions.
    static constexpr int kMonthsAhead = 3;

    /// Creates, when missing, the partitions of every telemetry table for each month that
    /// starts at one of `months` (UTC month starts).
    Result<void> ensure(Connection& c, const std::set<Micros>& months);
    /// Detaches and drops the partitions of months that ended at or before `cutoff`.
    Result<void> dropBefore(Connection& c, Micros cutoff);
    /// Forgets what exists, after another instance may have dropped a partition.
    void forget();

private:
    Result<void> dropPartition(Connection& c, const std::string& table, const std::string& name,
                               bool detach_pending);

    std::mutex mutex_;
    std::set<Micros> known_;  // month starts whose partitions exist in every table
};

}  // namespace esocore::store::postgres
