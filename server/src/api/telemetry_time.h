#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace date {
class time_zone;
}

namespace esocore::api {

/// A time zone of the IANA database, for answers that show local time.
class Zone {
public:
    /// The zone named `name`, or nothing when the database does not know it.
    static std::optional<Zone> find(const std::string& name);

    const std::string& name() const { return name_; }
    /// The zone's offset from UTC at `at`, in microseconds.
    Micros offsetAt(Micros at) const;
    /// The instant at which the local wall clock shows `local` (microseconds counted as if
    /// local time were UTC): the earlier one where it shows it twice, and the instant of the
    /// change where a DST change skips it.
    Micros toUtc(Micros local) const;
    /// Until when (exclusive) the offset in force at `at` holds; INT64_MAX when forever.
    Micros offsetEndsAt(Micros at) const;

    /// RFC 3339 in local time with its offset, `Z` in UTC itself, with `digits` (0, 3 or 6)
    /// fractional digits, e.g. 2026-03-29T00:00:00+01:00.
    std::string format(Micros at, int digits) const;

private:
    Zone(const date::time_zone* zone, std::string name, bool utc)
        : zone_(zone), name_(std::move(name)), utc_(utc) {}

    const date::time_zone* zone_;
    std::string name_;
    bool utc_;
};

/// Fractional digits that show a time exactly: 3, or 6 when it has microseconds.
int fractionDigits(Micros at);

/// A width of the telemetry buckets query.
struct BucketInterval {
    std::string_view name;  // as the query writes it: 1m 5m 15m 30m 1h 6h 12h 1d
    Micros width = 0;
    /// 6h, 12h and 1d follow the local calendar; shorter widths are uniform in UTC.
    bool calendar = false;
};

/// The interval of that name, or nothing.
std::optional<BucketInterval> findInterval(std::string_view name);

/// The names of every interval, for error messages.
std::string intervalNames();

/// One bucket: [start, end) in UTC, and the key the SQL bucket expression gives its points.
struct Bucket {
    Micros start = 0;
    Micros end = 0;
    std::int64_t key = 0;
};

/// From the end of the previous segment up to `until` (exclusive), a point's bucket key is
/// (ts + offset) / width: the local wall-clock time in whole widths.
struct OffsetSegment {
    Micros until = 0;
    Micros offset = 0;
};

/// The buckets of a query and how points map onto them.
///
/// Rule: widths up to 1h are fixed lengths, uniform in UTC, with boundaries on multiples of
/// the width in the local time at `start` (boundary = k * width - offset(start)); where the
/// zone's offsets are whole hours, as in nearly every zone, that is the local clock's marks
/// on both sides of a DST change, and a DST day has 23 or 25 hourly buckets. Widths of 6h,
/// 12h and 1d follow the local wall clock: they begin at local midnight (and 06:00, 12:00,
/// 18:00 for 6h, noon for 12h), so a bucket that holds a DST change is an hour shorter or
/// longer (a 1d bucket is 23 h or 25 h). A local start that a DST change skips begins at the
/// change; a local hour that occurs twice belongs to the bucket of its wall-clock time.
struct BucketPlan {
    Micros width = 0;
    std::vector<OffsetSegment> segments;  // the last one runs to INT64_MAX
    std::vector<Bucket> buckets;          // every bucket from the one holding start to end
};

/// The buckets that cover [start, end) (start < end), or 400 too_many_buckets when there
/// would be more than `max_buckets`.
Result<BucketPlan> planBuckets(const Zone& zone, const BucketInterval& interval, Micros start,
                               Micros end, std::size_t max_buckets);

}  // namespace esocore::api
