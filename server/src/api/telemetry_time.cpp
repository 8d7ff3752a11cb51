#include "api/telemetry_time.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <array>
#include <limits>

namespace esocore::api {

namespace {

using Microseconds = std::chrono::microseconds;

constexpr Micros kSecond = 1'000'000;
constexpr Micros kMinute = 60 * kSecond;
constexpr Micros kHour = 60 * kMinute;
constexpr Micros kDay = 24 * kHour;
constexpr Micros kForever = std::numeric_limits<Micros>::max();

constexpr std::array<BucketInterval, 8> kIntervals{{
    {"1m", kMinute, false},
    {"5m", 5 * kMinute, false},
    {"15m", 15 * kMinute, false},
    {"30m", 30 * kMinute, false},
    {"1h", kHour, false},
    {"6h", 6 * kHour, true},
    {"12h", 12 * kHour, true},
    {"1d", kDay, true},
}};

// The names under which the database may know UTC itself, whose times end in `Z`.
bool isUtcName(std::string_view name) {
    for (std::string_view utc :
         {"Etc/UTC", "UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"}) {
        if (name == utc) {
            return true;
        }
    }
    return false;
}

Micros floorDiv(Micros a, Micros b) {
    Micros q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

date::sys_seconds toSeconds(Micros at) {
    return date::floor<std::chrono::seconds>(date::sys_time<Microseconds>(Microseconds(at)));
}

Error tooManyBuckets(std::size_t max_buckets) {
    return Error{400,
                 "too_many_buckets",
                 "the range holds more than " + std::to_string(max_buckets) +
                     " buckets: use a longer interval or a shorter range",
                 {{"interval", "too many buckets for the range"}}};
}

// The offsets in force over [from, to), each up to its end.
std::vector<OffsetSegment> offsetSegments(const Zone& zone, Micros from, Micros to) {
    std::vector<OffsetSegment> segments;
    for (Micros at = from;;) {
        Micros until = zone.offsetEndsAt(at);
        segments.push_back({until, zone.offsetAt(at)});
        if (until >= to || until == kForever) {
            break;
        }
        at = until;
    }
    segments.back().until = kForever;
    return segments;
}

Result<BucketPlan> uniformBuckets(const Zone& zone, const BucketInterval& interval, Micros start,
                                  Micros end, std::size_t max_buckets) {
    Micros offset = zone.offsetAt(start);
    Micros first = floorDiv(start + offset, interval.width);
    Micros last = floorDiv(end - 1 + offset, interval.width);
    if (last - first + 1 > static_cast<Micros>(max_buckets)) {
        return tooManyBuckets(max_buckets);
    }
    BucketPlan plan{interval.width, {{kForever, offset}}, {}};
    plan.buckets.reserve(static_cast<std::size_t>(last - first + 1));
    for (Micros key = first; key <= last; ++key) {
        Micros begins = key * interval.width - offset;
        plan.buckets.push_back({begins, begins + interval.width, key});
    }
    return plan;
}

Result<BucketPlan> calendarBuckets(const Zone& zone, const BucketInterval& interval, Micros start,
                                   Micros end, std::size_t max_buckets) {
    Micros first = floorDiv(start + zone.offsetAt(start), interval.width);
    Micros last = floorDiv(end - 1 + zone.offsetAt(end - 1), interval.width);
    if (last - first + 1 > static_cast<Micros>(max_buckets)) {
        return tooManyBuckets(max_buckets);
    }
    BucketPlan plan{interval.width, {}, {}};
    plan.buckets.reserve(static_cast<std::size_t>(last - first + 1));
    Micros begins = zone.toUtc(first * interval.width);
    for (Micros key = first; key <= last; ++key) {
        Micros ends = zone.toUtc((key + 1) * interval.width);
        // A local day that a zone skipped entirely (Samoa, 2011-12-30) has no instants.
        if (ends > begins) {
            plan.buckets.push_back({begins, ends, key});
        }
        begins = ends;
    }
    plan.segments = offsetSegments(zone, std::min(start, plan.buckets.front().start), end);
    return plan;
}

}  // namespace

std::optional<Zone> Zone::find(const std::string& name) {
    if (name.empty()) {
        return std::nullopt;
    }
    try {
        const date::time_zone* zone = date::locate_zone(name);
        return Zone(zone, name, isUtcName(zone->name()) || isUtcName(name));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

Micros Zone::offsetAt(Micros at) const {
    auto info = zone_->get_info(toSeconds(at));
    return std::chrono::duration_cast<Microseconds>(info.offset).count();
}

Micros Zone::offsetEndsAt(Micros at) const {
    auto info = zone_->get_info(toSeconds(at));
    auto seconds = info.end.time_since_epoch().count();
    if (seconds >= kForever / kSecond) {
        return kForever;
    }
    return seconds * kSecond;
}

Micros Zone::toUtc(Micros local) const {
    date::local_time<Microseconds> wall{Microseconds(local)};
    return zone_->to_sys(wall, date::choose::earliest).time_since_epoch().count();
}

std::string Zone::format(Micros at, int digits) const {
    Micros offset = utc_ ? 0 : offsetAt(at);
    Micros local = at + offset;
    Micros day = floorDiv(local, kDay);
    Micros of_day = local - day * kDay;
    date::year_month_day ymd{date::sys_days{date::days{day}}};
    std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", int(ymd.year()),
                                  unsigned(ymd.month()), unsigned(ymd.day()), of_day / kHour,
                                  of_day % kHour / kMinute, of_day % kMinute / kSecond);
    if (digits == 3) {
        out.append(fmt::format(".{:03}", of_day % kSecond / 1000));
    } else if (digits == 6) {
        out.append(fmt::format(".{:06}", of_day % kSecond));
    }
    if (utc_) {
        out.push_back('Z');
        return out;
    }
    // RFC 3339 offsets have no seconds; no zone has used such offsets since 1972.
    Micros minutes = (offset < 0 ? -offset : offset) / kMinute;
    out.append(fmt::format("{}{:02}:{:02}", offset < 0 ? '-' : '+', minutes / 60, minutes % 60));
    return out;
}

int fractionDigits(Micros at) {
    return at % 1000 == 0 ? 3 : 6;
}

std::optional<BucketInterval> findInterval(std::string_view name) {
    for (const auto& interval : kIntervals) {
        if (interval.name == name) {
            return interval;
        }
    }
    return std::nullopt;
}

std::string intervalNames() {
    std::string names;
    for (const auto& interval : kIntervals) {
        names.append(names.empty() ? "" : ", ").append(interval.name);
    }
    return names;
}

Result<BucketPlan> planBuckets(const Zone& zone, const BucketInterval& interval, Micros start,
                               Micros end, std::size_t max_buckets) {
    return interval.calendar ? calendarBuckets(zone, interval, start, end, max_buckets)
                             : uniformBuckets(zone, interval, start, end, max_buckets);
}

}  // namespace esocore::api
