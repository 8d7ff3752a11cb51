#include "api/telemetry_points.h"

#include <algorithm>

namespace esocore::api {

PointWalk::PointWalk(store::SqlSession& sql, std::vector<SeriesInfo> series, PointRange range,
                     std::size_t page_rows)
    : sql_(sql), range_(range), page_rows_(std::max<std::size_t>(page_rows, 1)) {
    lanes_.reserve(series.size());
    for (auto& s : series) {
        Lane lane;
        // Ascending, a lane's bound is the lowest time still to read; descending, the time
        // every point still to read lies below.
        lane.bound = range_.descending ? range_.end : range_.start;
        if (range_.after) {
            // Past the cursor's point: in the cursor's series and those ordered before it,
            // strictly past its time; in the others, from its time on.
            const PointPosition& after = *range_.after;
            if (range_.descending) {
                Micros below = s.id < after.series_id ? after.ts + 1 : after.ts;
                lane.bound = std::min(lane.bound, below);
            } else {
                Micros from = s.id > after.series_id ? after.ts : after.ts + 1;
                lane.bound = std::max(lane.bound, from);
            }
        }
        lane.series = std::move(s);
        lanes_.push_back(std::move(lane));
    }
}

bool PointWalk::before(const Lane& a, const Lane& b) const {
    Micros ta = a.buffered.front().ts;
    Micros tb = b.buffered.front().ts;
    if (ta != tb) {
        return range_.descending ? ta > tb : ta < tb;
    }
    return range_.descending ? a.series.id > b.series.id : a.series.id < b.series.id;
}

Result<void> PointWalk::fill(Lane& lane) {
    Micros from = range_.descending ? range_.start : lane.bound;
    Micros below = range_.descending ? lane.bound : range_.end;
    std::string sql = range_.with_meta ? "SELECT ts, value, meta" : "SELECT ts, value, NULL";
    sql.append(" FROM points WHERE series_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts");
    sql.append(range_.descending ? " DESC LIMIT " : " LIMIT ").append(std::to_string(page_rows_));
    store::SqlParams params;
    params.reserve(3);
    params.emplace_back(lane.series.id);
    params.emplace_back(from);
    params.emplace_back(below);
    auto rows = sql_.query(sql, params);
    if (!rows) {
        return rows.takeError();
    }
    for (const auto& row : *rows) {
        lane.buffered.push_back({row.integer(0), row.real(1), row.optionalText(2)});
    }
    lane.exhausted = rows->size() < page_rows_;
    if (!rows->empty()) {
        Micros last = rows->back().integer(0);
        lane.bound = range_.descending ? last : last + 1;
    }
    return {};
}

Result<void> PointWalk::start() {
    started_ = true;
    auto later = [this](std::size_t a, std::size_t b) { return before(lanes_[b], lanes_[a]); };
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
        bool empty_range =
            range_.descending ? lanes_[i].bound <= range_.start : lanes_[i].bound >= range_.end;
        if (empty_range) {
            continue;
        }
        if (auto filled = fill(lanes_[i]); !filled) {
            return filled;
        }
        if (!lanes_[i].buffered.empty()) {
            heap_.push_back(i);
            std::push_heap(heap_.begin(), heap_.end(), later);
        }
    }
    return {};
}

Result<std::optional<WalkedPoint>> PointWalk::next() {
    if (!started_) {
        if (auto ok = start(); !ok) {
            return ok.takeError();
        }
    }
    if (heap_.empty()) {
        return std::optional<WalkedPoint>();
    }
    auto later = [this](std::size_t a, std::size_t b) { return before(lanes_[b], lanes_[a]); };
    std::pop_heap(heap_.begin(), heap_.end(), later);
    Lane& lane = lanes_[heap_.back()];
    StoredPoint point = std::move(lane.buffered.front());
    lane.buffered.pop_front();
    if (lane.buffered.empty() && !lane.exhausted) {
        if (auto filled = fill(lane); !filled) {
            return filled.takeError();
        }
    }
    if (lane.buffered.empty()) {
        heap_.pop_back();
    } else {
        std::push_heap(heap_.begin(), heap_.end(), later);
    }
    return std::optional<WalkedPoint>(
        WalkedPoint{point.ts, point.value, std::move(point.meta), &lane.series});
}

}  // namespace esocore::api
