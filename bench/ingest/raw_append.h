#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "point_plan.h"

namespace esocore::bench {

/// How fast a bare table took the run's rows: the ceiling the ingest path is compared to.
struct RawAppendResult {
    std::uint64_t rows = 0;
    double seconds = 0.0;
    std::string method;  // how the rows were written, for the report

    double rowsPerSecond() const { return seconds > 0.0 ? rows / seconds : 0.0; }
};

/// Appends every point of `plan` to `CREATE TABLE raw(series_id, ts, value)` in a new database
/// at `db_path`: no index, WAL, synchronous=NORMAL, one prepared INSERT, 10,000 rows per
/// transaction. Only the transactions are timed. Throws on any SQLite error.
RawAppendResult measureRawAppend(const PointPlan& plan, const std::filesystem::path& db_path);

}  // namespace esocore::bench
