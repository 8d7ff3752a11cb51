#include "api/live_api.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "core/log.h"
#include "http/response.h"
#include "live/live_session.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::Request;
using http::Response;

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

// `scheme://host[:port]` of an absolute URL, lowercase; empty when it is not one.
std::string originOf(std::string_view url) {
    auto parsed = boost::urls::parse_absolute_uri(url);
    if (!parsed || !parsed->has_authority()) {
        return {};
    }
    return lowercase(std::string(parsed->scheme()) + "://" +
                     std::string(parsed->encoded_authority()));
}

// The part of an Origin after `scheme://`.
std::string_view authorityOf(std::string_view origin) {
    auto at = origin.find("://");
    return at == std::string_view::npos ? std::string_view() : origin.substr(at + 3);
}

Response upgradeRequired(const Request&) {
    Response response = errorResponse(426, "upgrade_required",
                                      "this endpoint speaks WebSocket: send the upgrade handshake");
    response.setHeader("upgrade", "websocket");
    return response;
}

}  // namespace

LiveApi::LiveApi(const ApiContext& context, live::Bus& bus)
    : ctx_(context), bus_(bus), access_tokens_(context.config.secret_key) {
    options_.ping_interval = std::chrono::milliseconds(context.config.live_ping_ms);
    options_.max_queue_messages = static_cast<std::size_t>(context.config.live_queue_messages);
    options_.max_queue_bytes = static_cast<std::size_t>(context.config.live_queue_bytes);
}

void LiveApi::addRoutes(http::Router& router) {
    addManaged(router, ctx_.authenticator, "POST", "/api/live/ticket",
               [this](const Request& r, const Principal& p) { return ticket(r, p); });
    http::RouteOptions options;
    options.websocket = std::make_shared<const http::WebSocketRoute>(
        http::WebSocketRoute{[this](const Request& r) { return accept(r); }, options_});
    router.add("GET", "/ws", http::SyncHandler(upgradeRequired), options);
}

Response LiveApi::ticket(const Request& request, const Principal& principal) {
    auto expiry = accessExpiry(request, principal);
    if (!expiry) {
        return errorResponse(expiry.error());
    }
    auto made = live::issueTicket(ctx_.sql, live::credentialOf(principal, *expiry), nowMicros());
    if (!made) {
        return errorResponse(made.error());
    }
    return http::jsonResponse(201,
                              json::object{{"ticket", made->text},
                                           {"expires_at", formatRfc3339Millis(made->expires_at)}});
}

std::variant<Response, std::shared_ptr<http::WebSocketSession>> LiveApi::accept(
    const Request& request) {
    auto admitted = admit(request);
    if (!admitted) {
        return errorResponse(admitted.error());
    }
    auto& [principal, credential] = *admitted;
    return std::make_shared<live::LiveSession>(ctx_.sql, bus_, std::move(principal),
                                               std::move(credential), request.request_id);
}

// A ticket in the query, else the credentials every management route accepts. A session
// cookie comes along with any request the browser makes, even one a page of another site
// starts, so with a cookie the Origin must be this server's.
Result<std::pair<Principal, live::LiveCredential>> LiveApi::admit(const Request& request) {
    Micros now = nowMicros();
    if (auto text = request.queryParam("ticket")) {
        auto credential = live::redeemTicket(ctx_.sql, *text, now);
        if (!credential) {
            return credential.takeError();
        }
        if (!*credential) {
            return notAuthenticated("the ticket is unknown, used or expired");
        }
        auto principal = live::principalOf(ctx_.sql, **credential, now);
        if (!principal) {
            return principal.takeError();
        }
        if (!*principal) {
            return notAuthenticated("the login behind this ticket has ended; sign in again");
        }
        return std::pair{std::move(**principal), std::move(**credential)};
    }
    auto principal = ctx_.authenticator.authenticate(request);
    if (!principal) {
        return principal.takeError();
    }
    if (principal->credential == Credential::session && !originAllowed(request)) {
        return Error{403, "origin_not_allowed", "this page's origin may not use the session", {}};
    }
    auto expiry = accessExpiry(request, *principal);
    if (!expiry) {
        return expiry.takeError();
    }
    auto credential = live::credentialOf(*principal, *expiry);
    return std::pair{std::move(*principal), std::move(credential)};
}

Result<std::optional<Micros>> LiveApi::accessExpiry(const Request& request,
                                                    const Principal& principal) const {
    if (principal.credential != Credential::access_token) {
        return std::optional<Micros>();
    }
    std::string_view header = request.header("authorization");
    constexpr std::string_view scheme = "Bearer ";
    auto ends = access_tokens_.expiresAt(std::string(header.substr(scheme.size())), nowMicros());
    if (!ends) {
        return ends.takeError();
    }
    return std::optional<Micros>(*ends);
}

// No Origin: not a browser, so no page of another site is behind it. Otherwise it must be the
// configured public URL's, or name the host the request was sent to.
bool LiveApi::originAllowed(const Request& request) const {
    std::string_view origin = request.header("origin");
    if (origin.empty()) {
        return true;
    }
    std::string given = lowercase(origin);
    if (!ctx_.config.public_url.empty() && given == originOf(ctx_.config.public_url)) {
        return true;
    }
    std::string_view host = request.header("host");
    return !host.empty() && authorityOf(given) == lowercase(host);
}

}  // namespace esocore::api
