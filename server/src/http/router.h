#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "http/message.h"
#include "http/websocket.h"

namespace esocore::http {

struct RouteOptions {
    /// Largest request body accepted on this route, checked before the body is read.
    std::int64_t max_body = 1024 * 1024;
    /// When set, the body is written to a new file in this directory as it arrives, never held
    /// in memory, and handed to the handler as Request::body_file (large uploads).
    std::string spool_directory;
    /// Set on a GET route that upgrades to a WebSocket (e.g. /ws).
    std::shared_ptr<const WebSocketRoute> websocket;
};

struct Route {
    std::string method;
    std::string pattern;  // e.g. /api/iot/v1/ota/download/{token}
    Handler handler;
    RouteOptions options;
    std::vector<std::string> segments;
};

struct RouteMatch {
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    bool path_known = false;           // some route has this path, maybe for another method
    std::vector<std::string> allowed;  // the methods routed for this path, for a 405's Allow
};

/// Maps method + path pattern to a handler. Patterns are literal segments and `{name}`
/// segments that match one non-empty segment.
class Router {
public:
    void add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
    void add(std::string method, std::string pattern, SyncHandler handler,
             RouteOptions options = {});

    /// Answers requests that match no route (the portal's static files); GET and HEAD only.
    void setFallback(SyncHandler handler) { fallback_ = std::move(handler); }
    const SyncHandler& fallback() const { return fallback_; }

    RouteMatch find(std::string_view method, std::string_view path) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    std::vector<Route> routes_;
    SyncHandler fallback_;
};

}  // namespace esocore::http
