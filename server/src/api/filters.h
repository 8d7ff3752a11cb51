#pragma once

#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "api/management.h"
#include "api/pagination.h"
#include "core/crypto.h"

namespace esocore::api {

/// `text` in ASCII lowercase: ids compare as PostgreSQL's uuid type does on SQLite too.
inline std::string lowercase(std::string text) {
    for (char& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return text;
}

/// A SQL condition true when any of `columns` contains `term`, ignoring ASCII case:
/// `(lower(a) LIKE $N ESCAPE '\' OR ...)`. `%`, `_` and `\` in the term match themselves.
inline std::string containsText(std::initializer_list<std::string_view> columns,
                                std::string_view term, store::SqlParams& params) {
    std::string pattern = "%";
    for (char c : lowercase(std::string(term))) {
        if (c == '%' || c == '_' || c == '\\') {
            pattern.push_back('\\');
        }
        pattern.push_back(c);
    }
    pattern.push_back('%');
    std::string placeholder = addParam(params, pattern);
    std::string condition = "(";
    for (std::string_view column : columns) {
        if (condition.size() > 1) {
            condition.append(" OR ");
        }
        condition.append("lower(").append(column).append(") LIKE ").append(placeholder);
        condition.append(" ESCAPE '\\'");
    }
    return condition.append(")");
}

/// An id query parameter (`?organization_id=`), lowercased; 400 invalid_parameter when it is
/// not a UUID.
inline Result<std::optional<std::string>> idParam(const http::Request& request,
                                                  std::string_view name) {
    auto text = request.queryParam(name);
    if (!text) {
        return std::optional<std::string>{};
    }
    if (!isUuid(*text)) {
        return invalidParameter(std::string(name), "must be an id (UUID)");
    }
    return std::optional<std::string>{lowercase(std::move(*text))};
}

/// The `{id}` of the route, lowercased, or empty when it is not a UUID (which the caller
/// answers like any missing object).
inline std::string pathId(const http::Request& request) {
    std::string id(request.param("id"));
    return isUuid(id) ? lowercase(std::move(id)) : std::string();
}

}  // namespace esocore::api
