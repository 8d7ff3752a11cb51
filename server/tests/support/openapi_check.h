#pragma once

#include <string>

namespace esocore::testing {

/// Checks one answer against the server's OpenAPI document: the operation for `method` and
/// `path` (a concrete path, query allowed) must be documented, with `status` among its
/// responses, and a JSON body must match that response's schema. Returns what does not
/// match, or empty.
std::string checkAgainstDocument(const std::string& method, const std::string& path, long status,
                                 const std::string& content_type, const std::string& body);

}  // namespace esocore::testing
