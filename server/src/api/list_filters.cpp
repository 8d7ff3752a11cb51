#include "api/list_filters.h"

#include <algorithm>
#include <cctype>

#include "api/management.h"
#include "api/pagination.h"
#include "core/crypto.h"

namespace esocore::api {

std::string canonicalId(std::string_view id) {
    if (!isUuid(id)) {
        return {};
    }
    std::string out(id);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::optional<std::string> bodyId(BodyReader& body, std::string_view key, bool required) {
    auto id = body.id(key, required);
    if (!id) {
        return std::nullopt;
    }
    return canonicalId(*id);
}

std::string likePattern(std::string_view search) {
    std::string pattern = "%";
    for (char c : search) {
        if (c == '%' || c == '_' || c == '\\') {
            pattern += '\\';
        }
        pattern += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return pattern + "%";
}

std::string searchCondition(const http::Request& request,
                            std::initializer_list<std::string_view> columns,
                            store::SqlParams& params) {
    auto search = request.queryParam("search");
    if (!search || search->empty()) {
        return {};
    }
    std::string pattern = addParam(params, likePattern(*search));
    std::string condition;
    for (std::string_view column : columns) {
        condition.append(condition.empty() ? " AND (" : " OR ");
        condition.append("lower(").append(column).append(") LIKE ").append(pattern);
        condition.append(" ESCAPE '\\'");
    }
    return condition + ")";
}

Result<std::string> idFilter(const http::Request& request, std::string_view name,
                             std::string_view column, store::SqlParams& params) {
    auto value = request.queryParam(name);
    if (!value) {
        return std::string{};
    }
    std::string id = canonicalId(*value);
    if (id.empty()) {
        return invalidParameter(std::string(name), "must be an id (UUID)");
    }
    return std::string(" AND ").append(column).append(" = ").append(addParam(params, id));
}

Result<std::string> choiceFilter(const http::Request& request, std::string_view name,
                                 std::string_view column, std::span<const std::string_view> choices,
                                 store::SqlParams& params, bool several) {
    auto value = request.queryParam(name);
    if (!value) {
        return std::string{};
    }
    std::string list;
    for (std::string_view choice : choices) {
        list.append(list.empty() ? "" : ", ").append(choice);
    }
    std::string placeholders;
    std::string_view rest = *value;
    while (true) {
        std::size_t comma = several ? rest.find(',') : std::string_view::npos;
        std::string_view item = rest.substr(0, comma);
        if (std::find(choices.begin(), choices.end(), item) == choices.end()) {
            return invalidParameter(std::string(name),
                                    (several ? "comma-separated values of: " : "one of: ") + list);
        }
        placeholders.append(placeholders.empty() ? "" : ", ")
            .append(addParam(params, std::string(item)));
        if (comma == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(comma + 1);
    }
    return std::string(" AND ").append(column).append(" IN (").append(placeholders).append(")");
}

Result<std::string> booleanFilter(const http::Request& request, std::string_view name,
                                  std::string_view column, store::SqlParams& params) {
    auto value = request.queryParam(name);
    if (!value) {
        return std::string{};
    }
    if (*value != "true" && *value != "false") {
        return invalidParameter(std::string(name), "true or false");
    }
    return std::string(" AND ").append(column).append(" = ").append(
        addParam(params, std::int64_t{*value == "true" ? 1 : 0}));
}

std::string textFilter(const http::Request& request, std::string_view name, std::string_view column,
                       store::SqlParams& params) {
    auto value = request.queryParam(name);
    if (!value) {
        return {};
    }
    return std::string(" AND ").append(column).append(" = ").append(addParam(params, *value));
}

}  // namespace esocore::api
