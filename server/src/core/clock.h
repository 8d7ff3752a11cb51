#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace esocore {

/// Microseconds since the Unix epoch, UTC: the one time representation in both stores.
using Micros = std::int64_t;

Micros nowMicros();

/// Formats as RFC 3339 in UTC with millisecond precision, e.g. 2026-03-02T07:15:00.000Z.
std::string formatRfc3339Millis(Micros t);

/// Formats as RFC 3339 in UTC with microsecond precision.
std::string formatRfc3339Micros(Micros t);

/// Parses RFC 3339 with `Z` or a numeric offset and up to microsecond precision.
/// Returns nothing for anything else (including more than 6 fractional digits).
std::optional<Micros> parseRfc3339(std::string_view text);

}  // namespace esocore
