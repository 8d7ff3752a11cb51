#pragma once

// Stored values as the JSON of an answer: times as RFC 3339 or null, JSON columns parsed.

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "core/clock.h"
#include "store/sql.h"

namespace esocore::api {

/// An RFC 3339 time with milliseconds, or null.
inline boost::json::value timeOrNull(std::optional<Micros> at) {
    return at ? boost::json::value(formatRfc3339Millis(*at)) : boost::json::value(nullptr);
}

/// The column's text, or null.
inline boost::json::value textOrNull(const store::SqlRow& row, std::size_t column) {
    auto text = row.optionalText(column);
    return text ? boost::json::value(*text) : boost::json::value(nullptr);
}

/// The column's integer, or null.
inline boost::json::value integerOrNull(const store::SqlRow& row, std::size_t column) {
    auto value = row.optionalInteger(column);
    return value ? boost::json::value(*value) : boost::json::value(nullptr);
}

/// A JSON column (jsonb on PostgreSQL, text on SQLite) parsed; `fallback` when it does not
/// parse.
inline boost::json::value storedJson(const std::string& text, boost::json::value fallback) {
    boost::json::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    return ec ? fallback : value;
}

}  // namespace esocore::api
