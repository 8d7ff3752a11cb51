#pragma once

#include <chrono>

#include "core/clock.h"

namespace esocore::store {

/// Start of the UTC calendar month `count` months after the month that contains `t`.
/// Telemetry is partitioned, kept and dropped by these months.
inline Micros monthsLater(Micros t, int count) {
    using namespace std::chrono;
    year_month_day date{floor<days>(sys_time<microseconds>(microseconds(t)))};
    sys_days first{(date.year() / date.month() + months(count)) / 1};
    return duration_cast<microseconds>(first.time_since_epoch()).count();
}

/// Start of the UTC calendar month that contains `t`.
inline Micros monthStart(Micros t) {
    return monthsLater(t, 0);
}

}  // namespace esocore::store
