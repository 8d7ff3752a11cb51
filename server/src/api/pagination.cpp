#include "api/pagination.h"

#include <boost/json.hpp>
#include <charconv>

#include "api/management.h"
#include "core/clock.h"
#include "core/crypto.h"

namespace esocore::api {

namespace json = boost::json;

Error invalidParameter(std::string name, std::string message) {
    return Error{400,
                 "invalid_parameter",
                 "invalid query parameter " + name,
                 {{std::move(name), std::move(message)}}};
}

Result<std::optional<std::int64_t>> integerParam(const http::Request& request,
                                                 std::string_view name) {
    auto text = request.queryParam(name);
    if (!text) {
        return std::optional<std::int64_t>{};
    }
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size()) {
        return invalidParameter(std::string(name), "must be an integer");
    }
    return std::optional<std::int64_t>{value};
}

Result<std::optional<std::int64_t>> timeParam(const http::Request& request, std::string_view name) {
    auto text = request.queryParam(name);
    if (!text) {
        return std::optional<std::int64_t>{};
    }
    auto at = parseRfc3339(*text);
    if (!at) {
        return invalidParameter(std::string(name),
                                "must be an RFC 3339 time, e.g. 2026-01-31T08:00:00Z");
    }
    return std::optional<std::int64_t>{*at};
}

namespace {

json::value toJson(const store::SqlValue& value) {
    if (const auto* i = std::get_if<std::int64_t>(&value)) {
        return *i;
    }
    if (const auto* s = std::get_if<std::string>(&value)) {
        return json::string(*s);
    }
    if (const auto* d = std::get_if<double>(&value)) {
        return *d;
    }
    return nullptr;
}

Error invalidCursor() {
    return Error{400, "invalid_cursor", "the cursor is not one this list handed out", {}};
}

}  // namespace

Result<Page> Page::parse(const http::Request& request, std::vector<SortKey> keys,
                         std::string_view default_ordering, std::string id_column,
                         bool integer_ids) {
    Page page;
    page.id_column_ = std::move(id_column);
    page.integer_ids_ = integer_ids;

    auto limit = integerParam(request, "limit");
    if (!limit) {
        return limit.takeError();
    }
    if (*limit) {
        if (**limit < 1 || **limit > kMaxLimit) {
            return invalidParameter("limit", "must be between 1 and " + std::to_string(kMaxLimit));
        }
        page.limit_ = **limit;
    }

    std::string ordering = request.queryParam("ordering").value_or(std::string(default_ordering));
    page.descending_ = ordering.starts_with('-');
    std::string_view name = std::string_view(ordering).substr(page.descending_ ? 1 : 0);
    bool found = false;
    std::string names;
    for (auto& key : keys) {
        names += names.empty() ? "" : ", ";
        names += key.name;
        if (key.name == name) {
            page.key_ = key;
            found = true;
        }
    }
    if (!found) {
        return invalidParameter("ordering", "one of " + names + ", with '-' for descending");
    }

    if (auto cursor = request.queryParam("cursor"); cursor && !cursor->empty()) {
        auto decoded = base64UrlDecode(*cursor);
        if (!decoded) {
            return invalidCursor();
        }
        json::error_code ec;
        json::value value = json::parse(*decoded, ec);
        // [ordering, sort value, id]: a cursor belongs to the ordering it was made for.
        if (ec || !value.is_array() || value.as_array().size() != 3 ||
            !value.as_array()[0].is_string() || value.as_array()[0].as_string() != ordering) {
            return invalidCursor();
        }
        const json::value& sort = value.as_array()[1];
        const json::value& id = value.as_array()[2];
        if (page.key_.integer ? !sort.is_int64() : !sort.is_string()) {
            return invalidCursor();
        }
        if (page.integer_ids_ ? !id.is_int64()
                              : !(id.is_string() && isUuid(std::string_view(id.as_string())))) {
            return invalidCursor();
        }
        page.after_value_ = page.key_.integer ? store::SqlValue(sort.as_int64())
                                              : store::SqlValue(std::string(sort.as_string()));
        page.after_id_ = page.integer_ids_ ? store::SqlValue(id.as_int64())
                                           : store::SqlValue(std::string(id.as_string()));
    }
    return page;
}

std::string Page::where(store::SqlParams& params) const {
    if (!after_value_) {
        return {};
    }
    const char* op = descending_ ? " < " : " > ";
    std::string value = addParam(params, *after_value_);
    std::string same = addParam(params, *after_value_);
    std::string id = addParam(params, *after_id_);
    return " AND (" + key_.column + op + value + " OR (" + key_.column + " = " + same + " AND " +
           id_column_ + op + id + "))";
}

std::string Page::orderAndLimit() const {
    const char* direction = descending_ ? " DESC" : " ASC";
    return " ORDER BY " + key_.column + direction + ", " + id_column_ + direction + " LIMIT " +
           std::to_string(limit_ + 1);
}

json::object Page::answer(json::array items, const std::vector<store::SqlRow>& rows,
                          std::size_t sort_index, std::size_t id_index) const {
    json::value next = nullptr;
    if (static_cast<std::int64_t>(rows.size()) > limit_) {
        const store::SqlRow& last = rows[static_cast<std::size_t>(limit_) - 1];
        std::string ordering = (descending_ ? "-" : "") + key_.name;
        store::SqlValue sort = key_.integer ? store::SqlValue(last.integer(sort_index))
                                            : store::SqlValue(last.text(sort_index));
        store::SqlValue id = integer_ids_ ? store::SqlValue(last.integer(id_index))
                                          : store::SqlValue(last.text(id_index));
        json::array cursor{json::string(ordering), toJson(sort), toJson(id)};
        next = json::string(base64UrlEncode(json::serialize(cursor)));
        items.resize(static_cast<std::size_t>(limit_));
    }
    return json::object{{"results", std::move(items)}, {"next", std::move(next)}};
}

}  // namespace esocore::api
