#include "store/sql.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace esocore::store {

bool SqlRow::isNull(std::size_t column) const {
    return std::holds_alternative<std::nullptr_t>(value(column));
}

std::string SqlRow::text(std::size_t column) const {
    const SqlValue& v = value(column);
    if (const auto* s = std::get_if<std::string>(&v)) {
        return *s;
    }
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
        return std::to_string(*i);
    }
    if (const auto* d = std::get_if<double>(&v)) {
        return fmt::format("{}", *d);
    }
    return {};
}

std::int64_t SqlRow::integer(std::size_t column) const {
    const SqlValue& v = value(column);
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
        return *i;
    }
    if (const auto* d = std::get_if<double>(&v)) {
        return static_cast<std::int64_t>(*d);
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
        std::int64_t parsed = 0;
        std::from_chars(s->data(), s->data() + s->size(), parsed);
        return parsed;
    }
    return 0;
}

double SqlRow::real(std::size_t column) const {
    const SqlValue& v = value(column);
    if (const auto* d = std::get_if<double>(&v)) {
        return *d;
    }
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
        return static_cast<double>(*i);
    }
    if (const auto* s = std::get_if<std::string>(&v)) {
        return std::strtod(s->c_str(), nullptr);
    }
    return 0.0;
}

std::optional<std::int64_t> SqlRow::optionalInteger(std::size_t column) const {
    if (isNull(column)) {
        return std::nullopt;
    }
    return integer(column);
}

std::optional<std::string> SqlRow::optionalText(std::size_t column) const {
    if (isNull(column)) {
        return std::nullopt;
    }
    return text(column);
}

SqlValue integerOrNull(std::optional<std::int64_t> value) {
    if (value) {
        return *value;
    }
    return nullptr;
}

SqlValue textOrNull(const std::string& text) {
    if (text.empty()) {
        return nullptr;
    }
    return text;
}

std::string sqlitePlaceholders(std::string_view sql) {
    std::string out(sql);
    char quote = 0;  // the quote character of the literal or identifier being copied
    for (std::size_t i = 0; i < out.size(); ++i) {
        char c = out[i];
        if (quote != 0) {
            quote = c == quote ? 0 : quote;  // a doubled quote closes and reopens: same result
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '$' && i + 1 < out.size() && out[i + 1] >= '0' && out[i + 1] <= '9') {
            out[i] = '?';
        }
    }
    return out;
}

}  // namespace esocore::store
