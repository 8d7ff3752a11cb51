#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

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
    /// On a route that spools its body to disk (RouteOptions::spool_directory): the file that
    /// holds the body, which stays empty. The handler may move the file away to keep it;
    /// otherwise it is removed once the answer is sent.
    std::string body_file;
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
    /// Every value of a repeated query parameter, percent-decoded, in the order sent.
    std::vector<std::string> queryParams(std::string_view name) const;
};

using RequestPtr = std::shared_ptr<Request>;

/// The next piece of a streamed body; an empty piece ends the body. A failure after the
/// status and headers went out cannot change them: the server closes the connection without
/// the final chunk, so that the client sees the body cut short rather than complete.
using BodyProducer = std::function<Result<std::string>()>;

struct Response {
    int status = 200;
    std::vector<Header> headers;
    std::string body;
    /// When set, the body comes from it instead of `body`, sent as it is produced (chunked
    /// transfer encoding), so that a large answer is never held in memory whole. The server
    /// calls it on its own threads, one call at a time, until it returns an empty piece.
    BodyProducer producer;

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
