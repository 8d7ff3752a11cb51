#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/sql.h"

namespace esocore::api {

/// A series as the telemetry queries name it.
struct SeriesInfo {
    std::int64_t id = 0;
    std::string name;
    std::string unit;
};

/// Where a walk over points stands: a point's time and series. (ts, series id) is unique.
struct PointPosition {
    Micros ts = 0;
    std::int64_t series_id = 0;
};

/// Which points a walk reads, and in which order.
struct PointRange {
    Micros start = 0;  // inclusive
    Micros end = 0;    // exclusive
    bool descending = false;
    bool with_meta = false;
    /// Resume after this point of an earlier walk in the same order (a cursor).
    std::optional<PointPosition> after;
};

/// One point read by a walk.
struct WalkedPoint {
    Micros ts = 0;
    double value = 0;
    std::optional<std::string> meta;  // as stored: JSON text
    const SeriesInfo* series = nullptr;
};

/// Reads the points of several series of one device in (ts, series id) order, ascending or
/// descending, without sorting them in the database: each series is read in the order of
/// its (series_id, ts) key, a page at a time, and the pages are merged here. Memory stays at
/// one page per series whatever the range holds.
class PointWalk {
public:
    /// `page_rows` points are read per series and query.
    PointWalk(store::SqlSession& sql, std::vector<SeriesInfo> series, PointRange range,
              std::size_t page_rows);

    /// The next point, nothing after the last, or the store's failure.
    Result<std::optional<WalkedPoint>> next();

private:
    struct StoredPoint {
        Micros ts;
        double value;
        std::optional<std::string> meta;
    };
    // One series' read: what is buffered, and the bound (exclusive) the next page starts at.
    struct Lane {
        SeriesInfo series;
        Micros bound = 0;
        std::deque<StoredPoint> buffered;
        bool exhausted = false;
    };

    Result<void> start();
    Result<void> fill(Lane& lane);
    bool before(const Lane& a, const Lane& b) const;

    store::SqlSession& sql_;
    PointRange range_;
    std::size_t page_rows_;
    std::vector<Lane> lanes_;
    std::vector<std::size_t> heap_;  // lanes with buffered points, the next one on top
    bool started_ = false;
};

}  // namespace esocore::api
