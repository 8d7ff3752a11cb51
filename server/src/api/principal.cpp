#include "api/principal.h"

#include "accounts/api_tokens.h"
#include "accounts/sessions.h"
#include "core/crypto.h"

namespace esocore::api {

namespace {

bool stateChanging(std::string_view method) {
    return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

bool covers(const accounts::Membership& m, const Target& target) {
    if (m.organization_id != target.organization_id) {
        return false;
    }
    switch (m.scope) {
        case auth::Scope::organization:
            return true;
        case auth::Scope::site:
            return !target.site_id.empty() && m.site_id == target.site_id;
        case auth::Scope::device:
            return !target.device_id.empty() && m.device_id == target.device_id;
    }
    return false;
}

// The credential after `scheme ` in the Authorization header, or empty.
std::string_view authorization(const http::Request& request, std::string_view scheme) {
    std::string_view value = request.header("authorization");
    if (value.size() <= scheme.size() + 1 || value.substr(0, scheme.size()) != scheme ||
        value[scheme.size()] != ' ') {
        return {};
    }
    return value.substr(scheme.size() + 1);
}

}  // namespace

Error notAuthenticated(std::string message) {
    return Error{401, "not_authenticated", std::move(message), {}};
}

Error permissionDenied() {
    return Error{403, "permission_denied", "your role does not allow this", {}};
}

std::string cookieValue(const http::Request& request, std::string_view name) {
    std::string_view header = request.header("cookie");
    while (!header.empty()) {
        std::size_t end = header.find(';');
        std::string_view pair = header.substr(0, end);
        while (!pair.empty() && pair.front() == ' ') {
            pair.remove_prefix(1);
        }
        if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
            pair[name.size()] == '=') {
            return std::string(pair.substr(name.size() + 1));
        }
        header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    }
    return {};
}

bool mayPerform(const Principal& principal, auth::Action action, const Target& target) {
    if (principal.user.is_staff) {
        return true;
    }
    // Every member may read the organization it belongs to, whatever its membership is
    // narrowed to; other objects placed at the organization level (no site, no device) stay
    // out of a narrowed membership's reach.
    bool organization_itself = action == auth::Action::organization_read &&
                               target.site_id.empty() && target.device_id.empty();
    for (const auto& m : principal.memberships) {
        bool reaches = covers(m, target) ||
                       (organization_itself && m.organization_id == target.organization_id);
        if (reaches && auth::allowed(m.role, m.scope, action)) {
            return true;
        }
    }
    return false;
}

Result<Principal> RequestAuthenticator::fromUser(const std::string& user_id,
                                                 Credential credential) const {
    auto account = accounts::findAccount(sql_, user_id);
    if (!account) {
        return account.takeError();
    }
    if (!*account || !(*account)->is_active) {
        return notAuthenticated("this account is not active");
    }
    auto memberships = accounts::membershipsOf(sql_, user_id);
    if (!memberships) {
        return memberships.takeError();
    }
    return Principal{std::move(**account), std::move(*memberships), credential, {}, {}, {}};
}

Result<Principal> RequestAuthenticator::fromSession(const http::Request& request,
                                                    const std::string& token) const {
    auto session = accounts::findSession(sql_, token, nowMicros());
    if (!session) {
        return session.takeError();
    }
    if (!*session) {
        return notAuthenticated("the session has ended; sign in again");
    }
    if (stateChanging(request.method) &&
        !constantTimeEquals(request.header("x-csrf-token"), (*session)->csrf_token)) {
        return Error{403, "csrf_failed", "missing or wrong X-CSRF-Token header", {}};
    }
    auto principal = fromUser((*session)->user_id, Credential::session);
    if (principal) {
        principal->session_id = (*session)->id;
        principal->csrf_token = (*session)->csrf_token;
    }
    return principal;
}

Result<Principal> RequestAuthenticator::authenticate(const http::Request& request) const {
    if (std::string_view bearer = authorization(request, "Bearer"); !bearer.empty()) {
        auto user_id = access_tokens_.verify(std::string(bearer), nowMicros());
        if (!user_id) {
            return user_id.takeError();
        }
        return fromUser(*user_id, Credential::access_token);
    }
    if (std::string_view text = authorization(request, "Token"); !text.empty()) {
        auto token = accounts::findApiToken(sql_, std::string(text), nowMicros());
        if (!token) {
            return token.takeError();
        }
        if (!*token) {
            return notAuthenticated("the API token is not valid");
        }
        auto principal = fromUser((*token)->user_id, Credential::api_token);
        if (principal) {
            principal->api_token_id = (*token)->id;
        }
        return principal;
    }
    if (std::string token = cookieValue(request, kSessionCookie); !token.empty()) {
        return fromSession(request, token);
    }
    return notAuthenticated();
}

Result<Principal> RequestAuthenticator::authorize(const http::Request& request, auth::Action action,
                                                  const Target& target) const {
    auto principal = authenticate(request);
    if (principal && !mayPerform(*principal, action, target)) {
        return permissionDenied();
    }
    return principal;
}

}  // namespace esocore::api
