#pragma once

#include <memory>
#include <variant>

#include "accounts/access_tokens.h"
#include "api/management.h"
#include "http/router.h"
#include "http/websocket.h"
#include "live/bus.h"
#include "live/credential.h"

namespace esocore::api {

/// Live updates: the WebSocket endpoint GET /ws (DESIGN §6) and POST /api/live/ticket, which
/// gives browsers a single-use ticket for `/ws?ticket=`.
class LiveApi {
public:
    LiveApi(const ApiContext& context, live::Bus& bus);

    void addRoutes(http::Router& router);

private:
    http::Response ticket(const http::Request& request, const Principal& principal);
    std::variant<http::Response, std::shared_ptr<http::WebSocketSession>> accept(
        const http::Request& request);
    Result<std::pair<Principal, live::LiveCredential>> admit(const http::Request& request);
    Result<std::optional<Micros>> accessExpiry(const http::Request& request,
                                               const Principal& principal) const;
    bool originAllowed(const http::Request& request) const;

    const ApiContext& ctx_;
    live::Bus& bus_;
    accounts::AccessTokens access_tokens_;
    http::WebSocketOptions options_;
};

}  // namespace esocore::api
