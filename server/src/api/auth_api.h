#pragma once

#include "accounts/access_tokens.h"
#include "accounts/audit_log.h"
#include "accounts/sign_in.h"
#include "accounts/totp.h"
#include "api/principal.h"
#include "api/worker_pool.h"
#include "core/config.h"
#include "http/router.h"
#include "store/store.h"

namespace esocore::api {

/// /api/auth/: sign-in and sign-out, token refresh, the caller's own account, TOTP setup,
/// password change and personal API tokens.
class AuthApi {
public:
    AuthApi(const Config& config, store::Store& store);

    void addRoutes(http::Router& router);

    /// Resolves the caller of every management route.
    const RequestAuthenticator& authenticator() const { return authenticator_; }

private:
    http::Response login(const http::Request& request);
    http::Response logout(const http::Request& request);
    http::Response refresh(const http::Request& request);
    http::Response me(const http::Request& request);
    http::Response totpSetup(const http::Request& request);
    http::Response totpVerify(const http::Request& request);
    http::Response changePassword(const http::Request& request);
    http::Response listTokens(const http::Request& request);
    http::Response createToken(const http::Request& request);
    http::Response deleteToken(const http::Request& request);

    http::Response sessionAnswer(const accounts::Account& account, const accounts::Actor& from);
    http::Response tokenAnswer(const accounts::Account& account);
    std::string sessionCookie(const std::string& token, Micros max_age) const;
    Result<void> audit(const Principal& principal, const http::Request& request,
                       accounts::AuditEntry entry);

    const Config& config_;
    store::SqlSession& sql_;
    accounts::AccessTokens access_tokens_;
    accounts::Totp totp_;
    accounts::SignIn sign_in_;
    RequestAuthenticator authenticator_;
    WorkerPool password_workers_;  // last: joined before the handlers' state goes
};

}  // namespace esocore::api
