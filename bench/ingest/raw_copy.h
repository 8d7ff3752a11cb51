#pragma once

#include <string>

#include "point_plan.h"
#include "raw_append.h"

namespace esocore::bench {

/// Copies every point of `plan` into `CREATE TABLE raw(series_id bigint, ts bigint, value
/// double precision)` in the database at `database_url`: no index, no key, binary COPY FROM
/// STDIN, 100,000 rows per COPY, each COPY its own transaction. Only the COPYs are timed; the
/// table is dropped afterwards. Throws on any PostgreSQL error.
RawAppendResult measureRawCopy(const PointPlan& plan, const std::string& database_url);

}  // namespace esocore::bench
