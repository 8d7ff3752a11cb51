#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace esocore::http {

/// One header; names are kept in lowercase.
struct Header {
    std::string name;
    std::string value;
};

/// A request as handlers see it: no Beast types, so handlers compile fast.
struct Request {
    std::string method;  // upper case, e.g. "GET"
    std::string target;  // as sent, with the query
    std::string path;    // percent-decoded path without the query
    std::string query;   // raw query string without '?'
    std::vector<Header> headers;
    std::string body;
    std::string remote_address;
    std::string request_id;
    std::vector<std::pair<std::string, std::string>> params;  // from the route pattern
    std::string route;                                        // the matched pattern
    Micros received_at = 0;

    /// The first header of that name (case-insensitive), or empty.
    std::string_view header(std::string_view name) const;
    bool hasHeader(std::string_view name) const;

    /// A path parameter by name, or empty.
    std::string_view param(std::string_view name) const;

    /// A query parameter, percent-decoded; nothing when absent.
    std::optional<std::string> queryParam(std::string_view name) const;
};

using RequestPtr = std::shared_ptr<Request>;

struct Response {
    int status = 200;
    std::vector<Header> headers;
    std::string body;

    void setHeader(std::string name, std::string value);
    std::string_view header(std::string_view name) const;
};

/// Completes a request. Must be called exactly once, from any thread.
using Respond = std::function<void(Response)>;

/// A route handler: answers now or later through `respond`.
using Handler = std::function<void(const RequestPtr&, Respond)>;

/// A handler that answers before returning; most handlers are of this kind.
using SyncHandler = std::function<Response(const Request&)>;

}  // namespace esocore::http
