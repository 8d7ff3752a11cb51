#pragma once

// Query filters and ids for the management lists: every filter is checked and answers 400
// invalid_parameter naming itself when its value is bad.

#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "api/request_body.h"
#include "core/result.h"
#include "http/message.h"
#include "store/sql.h"

namespace esocore::api {

/// An id in the form the stores keep (lowercase), or empty when it is not a UUID.
std::string canonicalId(std::string_view id);

/// A body's id field (BodyReader::id) in canonical form.
std::optional<std::string> bodyId(BodyReader& body, std::string_view key, bool required = false);

/// `search` as a case-insensitive substring pattern, its wildcards escaped with '\'.
std::string likePattern(std::string_view search);

/// For `?search=`: " AND (lower(c1) LIKE $N ESCAPE '\' OR ...)", or empty without one.
std::string searchCondition(const http::Request& request,
                            std::initializer_list<std::string_view> columns,
                            store::SqlParams& params);

/// For `?name=<uuid>`: " AND column = $N", or empty without one.
Result<std::string> idFilter(const http::Request& request, std::string_view name,
                             std::string_view column, store::SqlParams& params);

/// For `?name=a` (or `?name=a,b` when `several`): " AND column IN ($N, ...)", each value one
/// of `choices`; empty without one.
Result<std::string> choiceFilter(const http::Request& request, std::string_view name,
                                 std::string_view column, std::span<const std::string_view> choices,
                                 store::SqlParams& params, bool several = false);

/// For `?name=true|false`: " AND column = 1|0", or empty without one.
Result<std::string> booleanFilter(const http::Request& request, std::string_view name,
                                  std::string_view column, store::SqlParams& params);

/// For `?name=<text>`: " AND column = $N", or empty without one.
std::string textFilter(const http::Request& request, std::string_view name, std::string_view column,
                       store::SqlParams& params);

}  // namespace esocore::api
