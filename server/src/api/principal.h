#pragma once

#include <string>
#include <vector>

#include "accounts/access_tokens.h"
#include "accounts/users.h"
#include "auth/permissions.h"
#include "core/result.h"
#include "http/message.h"
#include "store/sql.h"

namespace esocore::api {

/// The portal's session cookie.
inline constexpr std::string_view kSessionCookie = "esocore_session";

/// How the caller proved who it is.
enum class Credential { session, access_token, api_token };

/// The signed-in caller of a management route.
struct Principal {
    accounts::Account user;
    std::vector<accounts::Membership> memberships;
    Credential credential = Credential::session;
    std::string session_id;    // with Credential::session
    std::string csrf_token;    // with Credential::session
    std::string api_token_id;  // with Credential::api_token
};

/// What an action touches: the object's organization and, when it has them, its site and
/// device. A membership narrowed to a site or device covers only objects there.
struct Target {
    std::string organization_id;
    std::string site_id;
    std::string device_id;
};

/// Whether any of the principal's memberships lets it perform `action` on `target`
/// (auth::allowed decides per membership). Platform staff may do everything.
bool mayPerform(const Principal& principal, auth::Action action, const Target& target);

/// Resolves the caller of a management request from the session cookie (with the CSRF
/// check on state-changing methods), `Authorization: Bearer <jwt>` or
/// `Authorization: Token <api token>`.
class RequestAuthenticator {
public:
    RequestAuthenticator(store::SqlSession& sql, const accounts::AccessTokens& access_tokens)
        : sql_(sql), access_tokens_(access_tokens) {}

    /// The caller, or 401 not_authenticated, or 403 csrf_failed.
    Result<Principal> authenticate(const http::Request& request) const;

    /// The caller when it may perform `action` on `target`; else also 403 permission_denied.
    Result<Principal> authorize(const http::Request& request, auth::Action action,
                                const Target& target) const;

private:
    Result<Principal> fromSession(const http::Request& request, const std::string& token) const;
    Result<Principal> fromUser(const std::string& user_id, Credential credential) const;

    store::SqlSession& sql_;
    const accounts::AccessTokens& access_tokens_;
};

/// The value of cookie `name` in the request's Cookie header, or empty.
std::string cookieValue(const http::Request& request, std::string_view name);

/// Errors of this area, built the same way everywhere.
Error notAuthenticated(std::string message = "sign in first");
Error permissionDenied();

}  // namespace esocore::api
