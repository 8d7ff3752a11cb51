#pragma once

#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <initializer_list>
#include <string_view>
#include <utility>

namespace esocore::log {

enum class Level { debug, info, warn, error, off };

/// One key and value of a log line; the value is anything Boost.JSON can convert.
struct Field {
    template <typename T>
    Field(std::string_view k, const T& v) : key(k), value(boost::json::value_from(v)) {}
    std::string_view key;
    boost::json::value value;
};

using Fields = std::initializer_list<Field>;

/// Sets up the one logger: JSON lines on stderr, at `level` ("debug", "info", "warn",
/// "error", "off").
void setup(std::string_view level);

bool enabled(Level level);

/// Writes one JSON line: {"ts", "level", "msg", ...fields}.
void write(Level level, std::string_view message, Fields fields = {});

inline void debug(std::string_view message, Fields fields = {}) {
    write(Level::debug, message, fields);
}
inline void info(std::string_view message, Fields fields = {}) {
    write(Level::info, message, fields);
}
inline void warn(std::string_view message, Fields fields = {}) {
    write(Level::warn, message, fields);
}
inline void error(std::string_view message, Fields fields = {}) {
    write(Level::error, message, fields);
}

}  // namespace esocore::log
