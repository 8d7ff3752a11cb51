#include "core/clock.h"

#include <date/date.h>

#include <charconv>

namespace esocore {

namespace {

bool readInt(std::string_view text, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > text.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
        char c = text[i];
        if (c < '0' || c > '9') {
            return false;
        }
        out = out * 10 + (c - '0');
    }
    return true;
}

std::string format(Micros t, int fraction_digits) {
    using namespace std::chrono;
    sys_time<microseconds> tp{microseconds{t}};
    auto day = floor<days>(tp);
    date::year_month_day ymd{day};
    date::hh_mm_ss<microseconds> hms{tp - day};
    auto micros = static_cast<int>(hms.subseconds().count());
    char buf[40];
    int year = static_cast<int>(ymd.year());
    unsigned month = static_cast<unsigned>(ymd.month());
    unsigned dom = static_cast<unsigned>(ymd.day());
    int n = 0;
    if (fraction_digits == 3) {
        n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year, month, dom,
                          static_cast<int>(hms.hours().count()),
                          static_cast<int>(hms.minutes().count()),
                          static_cast<int>(hms.seconds().count()), micros / 1000);
    } else {
        n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", year, month, dom,
                          static_cast<int>(hms.hours().count()),
                          static_cast<int>(hms.minutes().count()),
                          static_cast<int>(hms.seconds().count()), micros);
    }
    return std::string(buf, static_cast<std::size_t>(n));
}

// Reads the optional fraction after the seconds; advances pos.
bool readFraction(std::string_view text, std::size_t& pos, Micros& micros) {
    micros = 0;
    if (pos >= text.size() || text[pos] != '.') {
        return true;
    }
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (++digits > 6) {
            return false;
        }
        micros = micros * 10 + (text[pos] - '0');
        ++pos;
    }
    if (digits == 0) {
        return false;
    }
    for (int i = digits; i < 6; ++i) {
        micros *= 10;
    }
    return true;
}

// Reads `Z` or `+hh:mm` / `-hh:mm`; returns the offset in seconds.
bool readOffset(std::string_view text, std::size_t pos, int& offset_seconds) {
    if (pos + 1 == text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        offset_seconds = 0;
        return true;
    }
    if (pos + 6 != text.size() || (text[pos] != '+' && text[pos] != '-') || text[pos + 3] != ':') {
        return false;
    }
    int hh = 0;
    int mm = 0;
    if (!readInt(text, pos + 1, 2, hh) || !readInt(text, pos + 4, 2, mm) || hh > 23 || mm > 59) {
        return false;
    }
    offset_seconds = (hh * 60 + mm) * 60 * (text[pos] == '-' ? -1 : 1);
    return true;
}

}  // namespace

Micros nowMicros() {
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

std::string formatRfc3339Millis(Micros t) {
    return format(t, 3);
}

std::string formatRfc3339Micros(Micros t) {
    return format(t, 6);
}

std::optional<Micros> parseRfc3339(std::string_view text) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
        (text[10] != 'T' && text[10] != 't' && text[10] != ' ') || text[13] != ':' ||
        text[16] != ':') {
        return std::nullopt;
    }
    if (!readInt(text, 0, 4, y) || !readInt(text, 5, 2, mo) || !readInt(text, 8, 2, d) ||
        !readInt(text, 11, 2, h) || !readInt(text, 14, 2, mi) || !readInt(text, 17, 2, s)) {
        return std::nullopt;
    }
    date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(mo)},
                             date::day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 60) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    Micros fraction = 0;
    int offset = 0;
    if (!readFraction(text, pos, fraction) || !readOffset(text, pos, offset)) {
        return std::nullopt;
    }
    // A leap second is folded into the following second, as POSIX time does.
    auto days = date::sys_days{ymd}.time_since_epoch().count();
    Micros seconds = static_cast<Micros>(days) * 86400 + h * 3600 + mi * 60 + s - offset;
    return seconds * 1'000'000 + fraction;
}

}  // namespace esocore
