#include "api/local_calendar.h"

#include <fmt/format.h>

#include <charconv>

namespace esocore::api {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

// Reads exactly `text.size()` digits.
std::optional<int> digits(std::string_view text) {
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.front() == '-' ||
        text.front() == '+') {
        return std::nullopt;
    }
    return value;
}

}  // namespace

const date::time_zone* zoneOrUtc(const std::string& name) {
    // The database throws for a name it does not know; a site's zone was checked when it was
    // saved, so this only falls back for rows written before that check or an older tzdata.
    try {
        if (!name.empty()) {
            return date::locate_zone(name);
        }
    } catch (const std::exception&) {
    }
    return date::locate_zone("UTC");
}

Micros startOfDay(const date::time_zone* zone, LocalDay day) {
    date::local_seconds midnight{day.time_since_epoch()};
    // `earliest` maps a skipped midnight to the instant of the change, an ambiguous one to
    // its first occurrence.
    auto at = zone->to_sys(midnight, date::choose::earliest);
    return duration_cast<microseconds>(at.time_since_epoch()).count();
}

LocalDay localDay(const date::time_zone* zone, Micros at) {
    date::sys_time<microseconds> instant{microseconds{at}};
    return date::floor<date::days>(zone->to_local(instant));
}

LocalDay isoWeekStart(LocalDay day) {
    return day - (date::weekday{day} - date::Monday);
}

std::string isoWeekName(LocalDay day) {
    // The ISO year is that of the week's Thursday; week 1 holds the year's first Thursday.
    LocalDay thursday = isoWeekStart(day) + date::days{3};
    date::year year = date::year_month_day{thursday}.year();
    LocalDay first_day{year / date::January / 1};
    auto week = (thursday - first_day).count() / 7 + 1;
    return fmt::format("{:04d}-W{:02d}", static_cast<int>(year), week);
}

LocalDay monthStart(LocalDay day) {
    date::year_month_day ymd{day};
    return LocalDay{ymd.year() / ymd.month() / 1};
}

std::optional<LocalDay> parseDate(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    auto year = digits(text.substr(0, 4));
    auto month = digits(text.substr(5, 2));
    auto day = digits(text.substr(8, 2));
    if (!year || !month || !day) {
        return std::nullopt;
    }
    date::year_month_day ymd{date::year{*year}, date::month{static_cast<unsigned>(*month)},
                             date::day{static_cast<unsigned>(*day)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return LocalDay{ymd};
}

std::string formatDate(LocalDay day) {
    date::year_month_day ymd{day};
    return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

}  // namespace esocore::api
