#pragma once

#include <cstdint>
#include <string>

namespace esocore::sim {

/// Milliseconds since the Unix epoch on the host's wall clock.
std::int64_t wallClockMs();

/// Formats epoch milliseconds as RFC 3339 in UTC with millisecond precision and a `Z`,
/// e.g. `2026-03-02T07:15:00.250Z`, the form devices put in `ts`.
std::string formatRfc3339Ms(std::int64_t epoch_ms);

}  // namespace esocore::sim
