#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "http/message.h"
#include "store/sql.h"

namespace esocore::api {

/// One way a list may be sorted: `?ordering=name` or `?ordering=-name`.
struct SortKey {
    std::string name;      // as the client writes it, e.g. "created_at"
    std::string column;    // the SQL expression; never null
    bool integer = false;  // the column holds integers (times) rather than text
};

/// Keyset pagination: `?limit=&cursor=&ordering=`. The cursor carries the last row's sort
/// value and id, so rows sharing a sort value are neither skipped nor repeated, and rows
/// inserted meanwhile do not shift the pages.
///
///     auto page = Page::parse(request, {{"created_at", "d.created_at", true},
///                                       {"name", "d.name"}}, "-created_at", "d.id");
///     if (!page) return errorResponse(page.error());
///     std::string sql = "SELECT ... WHERE " + conditions + page->where(params) +
///                       page->orderAndLimit();
///     ... rows ...
///     return jsonResponse(200, page->answer(std::move(items), rows, sortColumn, idColumn));
class Page {
public:
    static constexpr std::int64_t kDefaultLimit = 50;
    static constexpr std::int64_t kMaxLimit = 500;

    /// 400 invalid_parameter for a bad limit or ordering, 400 invalid_cursor for a cursor
    /// this list did not hand out. `id_column` breaks ties and must be unique.
    static Result<Page> parse(const http::Request& request, std::vector<SortKey> keys,
                              std::string_view default_ordering, std::string id_column,
                              bool integer_ids = false);

    /// " AND (<after the cursor>)", or empty on the first page; binds into `params`.
    std::string where(store::SqlParams& params) const;
    /// " ORDER BY <key>, <id> LIMIT <limit + 1>": one row more than a page, to know whether
    /// another page follows.
    std::string orderAndLimit() const;

    /// The sort expression to select, so that `answer` can read each row's sort value.
    const std::string& sortColumn() const { return key_.column; }
    std::int64_t limit() const { return limit_; }

    /// {"results": items, "next": cursor or null}. `rows` are the rows fetched (up to
    /// limit + 1); `sort_index` and `id_index` are the columns of each row holding the sort
    /// value and the id. Extra items past the limit are dropped.
    boost::json::object answer(boost::json::array items, const std::vector<store::SqlRow>& rows,
                               std::size_t sort_index, std::size_t id_index) const;

private:
    SortKey key_;
    bool descending_ = false;
    std::string id_column_;
    bool integer_ids_ = false;
    std::int64_t limit_ = kDefaultLimit;
    std::optional<store::SqlValue> after_value_;
    std::optional<store::SqlValue> after_id_;
};

/// A query parameter as an integer; 400 invalid_parameter when it is not one.
Result<std::optional<std::int64_t>> integerParam(const http::Request& request,
                                                 std::string_view name);
/// A query parameter as RFC 3339 time; 400 invalid_parameter when it is not one.
Result<std::optional<std::int64_t>> timeParam(const http::Request& request, std::string_view name);
/// 400 invalid_parameter naming the parameter.
Error invalidParameter(std::string name, std::string message);

}  // namespace esocore::api
