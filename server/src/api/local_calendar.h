#pragma once

// Calendar days and weeks in a site's time zone, for counting asset cycles per local day. A
// day starts at local midnight, so a DST change makes it 23 or 25 hours long.

#include <date/tz.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace esocore::api {

using LocalDay = date::local_days;

/// The zone of that IANA name; UTC when the name is empty or unknown here.
const date::time_zone* zoneOrUtc(const std::string& name);

/// The first instant of `day` in `zone`. When a DST change skips local midnight, the day
/// starts at the change.
Micros startOfDay(const date::time_zone* zone, LocalDay day);

/// The local date of the instant `at` in `zone`.
LocalDay localDay(const date::time_zone* zone, Micros at);

/// The Monday of the ISO week holding `day`.
LocalDay isoWeekStart(LocalDay day);

/// The ISO week holding `day`, e.g. "2026-W13".
std::string isoWeekName(LocalDay day);

/// The first day of the month holding `day`.
LocalDay monthStart(LocalDay day);

/// A date written YYYY-MM-DD that exists in the calendar; nothing otherwise.
std::optional<LocalDay> parseDate(std::string_view text);

/// YYYY-MM-DD.
std::string formatDate(LocalDay day);

}  // namespace esocore::api
