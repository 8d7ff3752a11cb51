#include "store/postgres/pg_partitions.h"

#include <array>
#include <charconv>
#include <chrono>
#include <optional>
#include <string_view>

#include "store/months.h"

namespace esocore::store::postgres {

namespace {

// Tables partitioned by month of ts; the rollup tables join this list when they are added.
constexpr std::array<const char*, 1> kTables{"points"};

// Serializes partition creation across instances: two concurrent CREATE TABLE of one name
// fail instead of waiting for each other.
constexpr std::int64_t kPartitionLock = 0x65736f636f7201;

// The month start of a partition named <table>_pYYYYMM, or nothing for any other name.
std::optional<Micros> partitionMonth(std::string_view table, std::string_view name) {
    std::string prefix = std::string(table) + "_p";
    if (name.size() != prefix.size() + 6 || name.substr(0, prefix.size()) != prefix) {
        return std::nullopt;
    }
    int stamp = 0;
    auto digits = name.substr(prefix.size());
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), stamp);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
        return std::nullopt;
    }
    using namespace std::chrono;
    year_month_day first{year(stamp / 100), month(static_cast<unsigned>(stamp % 100)), day(1)};
    if (!first.ok()) {
        return std::nullopt;
    }
    return duration_cast<microseconds>(sys_days(first).time_since_epoch()).count();
}

}  // namespace

Result<void> Partitions::ensure(Connection& c, const std::set<Micros>& months) {
    std::vector<Micros> missing;
    {
        std::lock_guard lock(mutex_);
        for (Micros month : months) {
            if (!known_.contains(month)) {
                missing.push_back(month);
            }
        }
    }
    if (missing.empty()) {
        return {};
    }
    auto tx = Transaction::begin(c);
    if (!tx) {
        return tx.takeError();
    }
    if (auto locked =
            c.query("SELECT pg_advisory_xact_lock($1::bigint)", Params().add(kPartitionLock));
        !locked) {
        return locked.takeError();
    }
    for (Micros month : missing) {
        for (const char* table : kTables) {
            auto created = c.query("SELECT esocore_ensure_month_partition($1::text, $2::bigint)",
                                   Params().add(table).add(month));
            if (!created) {
                return created.takeError();
            }
        }
    }
    if (auto ok = tx->commit(); !ok) {
        return ok;
    }
    std::lock_guard lock(mutex_);
    known_.insert(missing.begin(), missing.end());
    return {};
}

Result<void> Partitions::dropPartition(Connection& c, const std::string& table,
                                       const std::string& name, bool detach_pending) {
    // CONCURRENTLY detaches without blocking ingest into the other partitions; a detach that
    // was interrupted half way is finished with FINALIZE.
    std::string detach = "ALTER TABLE " + c.identifier(table) + " DETACH PARTITION " +
                         c.identifier(name) + (detach_pending ? " FINALIZE" : " CONCURRENTLY");
    if (auto ok = c.exec(detach); !ok) {
        return ok;
    }
    return c.exec("DROP TABLE " + c.identifier(name));
}

Result<void> Partitions::dropBefore(Connection& c, Micros cutoff) {
    for (const char* table : kTables) {
        auto partitions = c.query(
            "SELECT child.relname, i.inhdetachpending FROM pg_inherits i "
            "JOIN pg_class child ON child.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass($1::text) ORDER BY child.relname",
            Params().add(table));
        if (!partitions) {
            return partitions.takeError();
        }
        for (int row = 0; row < partitions->size(); ++row) {
            std::string name = partitions->text(row, 0);
            auto month = partitionMonth(table, name);
            if (!month || monthsLater(*month, 1) > cutoff) {
                continue;
            }
            if (auto ok = dropPartition(c, table, name, partitions->boolean(row, 1)); !ok) {
                return ok;
            }
            std::lock_guard lock(mutex_);
            known_.erase(*month);
        }
    }
    return {};
}

void Partitions::forget() {
    std::lock_guard lock(mutex_);
    known_.clear();
}

}  // namespace esocore::store::postgres
