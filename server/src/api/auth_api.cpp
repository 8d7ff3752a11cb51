#include "api/auth_api.h"

#include <boost/json.hpp>
#include <memory>

#include "accounts/api_tokens.h"
#include "accounts/refresh_tokens.h"
#include "accounts/sessions.h"
#include "core/crypto.h"
#include "http/response.h"

namespace esocore::api {

namespace json = boost::json;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t kMinPasswordLength = 10;
constexpr std::size_t kMaxTokenNameLength = 100;
constexpr Micros kDay = 86'400'000'000;
// Argon2id takes tens of milliseconds and 64 MiB per check: a few at a time, a short queue.
constexpr std::size_t kPasswordWorkers = 2;
constexpr std::size_t kPasswordQueue = 64;

Result<json::object> bodyObject(const Request& request) {
    if (request.body.empty()) {
        return json::object{};
    }
    json::error_code ec;
    json::value value = json::parse(request.body, ec);
    if (ec || !value.is_object()) {
        return Error{400, "invalid_json", "body must be a JSON object", {}};
    }
    return std::move(value.as_object());
}

std::string stringField(const json::object& body, std::string_view key) {
    const json::value* value = body.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : "";
}

Error invalidField(std::string field, std::string message) {
    return Error{400,
                 "validation_failed",
                 "the request has invalid fields",
                 {{std::move(field), std::move(message)}}};
}

accounts::Actor actorFrom(const Request& request) {
    return accounts::Actor{"", "", request.remote_address,
                           std::string(request.header("user-agent"))};
}

json::object userJson(const accounts::Account& account) {
    return json::object{{"id", account.id},
                        {"email", account.email},
                        {"name", account.name},
                        {"is_staff", account.is_staff},
                        {"time_zone", account.time_zone},
                        {"totp_enabled", account.totp_enabled}};
}

json::object membershipJson(const accounts::Membership& m) {
    json::object out{{"id", m.id},
                     {"organization_id", m.organization_id},
                     {"role", auth::roleName(m.role)},
                     {"scope", auth::scopeName(m.scope)}};
    out["site_id"] = m.site_id.empty() ? json::value(nullptr) : json::value(m.site_id);
    out["device_id"] = m.device_id.empty() ? json::value(nullptr) : json::value(m.device_id);
    return out;
}

json::value optionalTime(const std::optional<Micros>& at) {
    return at ? json::value(formatRfc3339Millis(*at)) : json::value(nullptr);
}

json::object tokenJson(const accounts::ApiToken& token) {
    json::error_code ec;
    json::value scopes = json::parse(token.scopes_json, ec);
    return json::object{{"id", token.id},
                        {"name", token.name},
                        {"prefix", token.prefix},
                        {"scopes", ec ? json::value(json::array{}) : scopes},
                        {"created_at", formatRfc3339Millis(token.created_at)},
                        {"last_used_at", optionalTime(token.last_used_at)},
                        {"expires_at", optionalTime(token.expires_at)}};
}

Response noContent() {
    Response response;
    response.status = 204;
    return response;
}

}  // namespace

AuthApi::AuthApi(const Config& config, store::Store& store)
    : config_(config),
      sql_(store.sql()),
      access_tokens_(config.secret_key),
      totp_(config.secret_key),
      sign_in_(store.sql(), totp_),
      authenticator_(store.sql(), access_tokens_),
      password_workers_(kPasswordWorkers, kPasswordQueue) {}

void AuthApi::addRoutes(http::Router& router) {
    auto bind = [this](Response (AuthApi::*handler)(const Request&)) {
        return http::SyncHandler([this, handler](const Request& r) { return (this->*handler)(r); });
    };
    // Routes that check or hash a password run on the password workers.
    auto offload = [this](Response (AuthApi::*handler)(const Request&)) {
        return http::Handler(
            [this, handler](const http::RequestPtr& request, http::Respond respond) {
                auto answer = std::make_shared<http::Respond>(std::move(respond));
                if (!password_workers_.submit([this, handler, request, answer] {
                        (*answer)((this->*handler)(*request));
                    })) {
                    Response busy = errorResponse(503, "busy", "too many sign-ins at once; retry");
                    busy.setHeader("retry-after", "1");
                    (*answer)(std::move(busy));
                }
            });
    };
    router.add("POST", "/api/auth/login", offload(&AuthApi::login));
    router.add("POST", "/api/auth/logout", bind(&AuthApi::logout));
    router.add("POST", "/api/auth/refresh", bind(&AuthApi::refresh));
    router.add("GET", "/api/auth/me", bind(&AuthApi::me));
    router.add("POST", "/api/auth/totp/setup", bind(&AuthApi::totpSetup));
    router.add("POST", "/api/auth/totp/verify", bind(&AuthApi::totpVerify));
    router.add("POST", "/api/auth/password", offload(&AuthApi::changePassword));
    router.add("GET", "/api/auth/tokens", bind(&AuthApi::listTokens));
    router.add("POST", "/api/auth/tokens", bind(&AuthApi::createToken));
    router.add("DELETE", "/api/auth/tokens/{id}", bind(&AuthApi::deleteToken));
}

Result<void> AuthApi::audit(const Principal& principal, const Request& request,
                            accounts::AuditEntry entry) {
    accounts::Actor actor = actorFrom(request);
    actor.user_id = principal.user.id;
    if (!principal.memberships.empty()) {
        actor.organization_id = principal.memberships.front().organization_id;
    }
    return accounts::recordAudit(sql_, actor, entry, nowMicros());
}

std::string AuthApi::sessionCookie(const std::string& token, Micros max_age) const {
    std::string cookie =
        std::string(kSessionCookie) + "=" + token +
        "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age / 1'000'000);
    if (config_.public_url.starts_with("https://")) {
        cookie += "; Secure";
    }
    return cookie;
}

Response AuthApi::sessionAnswer(const accounts::Account& account, const accounts::Actor& from) {
    auto made = accounts::createSession(sql_, account.id, from, nowMicros());
    if (!made) {
        return errorResponse(made.error());
    }
    Response response = jsonResponse(
        200, json::object{{"user", userJson(account)}, {"csrf_token", made->session.csrf_token}});
    response.setHeader("set-cookie", sessionCookie(made->token, accounts::kSessionLifetime));
    response.setHeader("cache-control", "no-store");
    return response;
}

Response AuthApi::tokenAnswer(const accounts::Account& account) {
    Micros now = nowMicros();
    auto access = access_tokens_.issue(account.id, now);
    if (!access) {
        return errorResponse(access.error());
    }
    auto refresh = accounts::startRefreshFamily(sql_, account.id, now);
    if (!refresh) {
        return errorResponse(refresh.error());
    }
    Response response =
        jsonResponse(200, json::object{{"user", userJson(account)},
                                       {"access_token", *access},
                                       {"token_type", "Bearer"},
                                       {"expires_in", accounts::kAccessLifetime / 1'000'000},
                                       {"refresh_token", refresh->token}});
    response.setHeader("cache-control", "no-store");
    return response;
}

Response AuthApi::login(const Request& request) {
    auto body = bodyObject(request);
    if (!body) {
        return errorResponse(body.error());
    }
    accounts::Credentials credentials{stringField(*body, "email"), stringField(*body, "password"),
                                      stringField(*body, "totp_code"),
                                      stringField(*body, "recovery_code")};
    if (credentials.email.empty() || credentials.password.empty()) {
        return errorResponse(invalidField(credentials.email.empty() ? "email" : "password",
                                          "this field is required"));
    }
    std::string mode = stringField(*body, "mode");
    if (!mode.empty() && mode != "session" && mode != "token") {
        return errorResponse(invalidField("mode", "must be session or token"));
    }
    accounts::Actor from = actorFrom(request);
    int retry_after = 0;
    auto account = sign_in_.attempt(credentials, from, nowMicros(), retry_after);
    if (!account) {
        Response response = errorResponse(account.error());
        if (retry_after > 0) {
            response.setHeader("retry-after", std::to_string(retry_after));
        }
        return response;
    }
    from.user_id = account->id;
    return mode == "token" ? tokenAnswer(*account) : sessionAnswer(*account, from);
}

Response AuthApi::logout(const Request& request) {
    auto principal = authenticator_.authenticate(request);
    if (!principal) {
        return errorResponse(principal.error());
    }
    Response response = noContent();
    if (principal->credential == Credential::session) {
        if (auto ok = accounts::deleteSession(sql_, principal->session_id); !ok) {
            return errorResponse(ok.error());
        }
        response.setHeader("set-cookie", sessionCookie("", 0));
    }
    auto body = bodyObject(request);
    if (body) {
        if (std::string refresh = stringField(*body, "refresh_token"); !refresh.empty()) {
            if (auto ok = accounts::revokeRefreshFamily(sql_, refresh, nowMicros()); !ok) {
                return errorResponse(ok.error());
            }
        }
    }
    if (auto ok = audit(*principal, request, {"sign_out", "user", principal->user.id, ""}); !ok) {
        return errorResponse(ok.error());
    }
    return response;
}

Response AuthApi::refresh(const Request& request) {
    auto body = bodyObject(request);
    if (!body) {
        return errorResponse(body.error());
    }
    std::string token = stringField(*body, "refresh_token");
    if (token.empty()) {
        return errorResponse(invalidField("refresh_token", "this field is required"));
    }
    Micros now = nowMicros();
    auto next = accounts::rotateRefreshToken(sql_, token, actorFrom(request), now);
    if (!next) {
        return errorResponse(next.error());
    }
    auto access = access_tokens_.issue(next->user_id, now);
    if (!access) {
        return errorResponse(access.error());
    }
    Response response =
        jsonResponse(200, json::object{{"access_token", *access},
                                       {"token_type", "Bearer"},
                                       {"expires_in", accounts::kAccessLifetime / 1'000'000},
                                       {"refresh_token", next->token}});
    response.setHeader("cache-control", "no-store");
    return response;
}

Response AuthApi::me(const Request& request) {
    auto principal = authenticator_.authenticate(request);
    if (!principal) {
        return errorResponse(principal.error());
    }
    json::array memberships;
    for (const auto& m : principal->memberships) {
        memberships.push_back(membershipJson(m));
    }
    json::object body{{"user", userJson(principal->user)}, {"memberships", std::move(memberships)}};
    if (principal->credential == Credential::session) {
        body["csrf_token"] = principal->csrf_token;
    }
    return jsonResponse(200, body);
}

Response AuthApi::totpSetup(const Request& request) {
    auto principal = authenticator_.authenticate(request);
    if (!principal) {
        return errorResponse(principal.error());
    }
    if (principal->user.totp_enabled) {
        return errorResponse(409, "totp_already_enabled", "TOTP is already enabled");
    }
    std::string secret = accounts::Totp::newSecret();
    const std::string& email = principal->user.email;
    if (auto ok =
            accounts::setTotp(sql_, principal->user.id, totp_.seal(secret), false, nowMicros());
        !ok) {
        return errorResponse(ok.error());
    }
    if (auto ok =
            audit(*principal, request, {"totp.setup_started", "user", principal->user.id, ""});
        !ok) {
        return errorResponse(ok.error());
    }
    return jsonResponse(
        200,
        json::object{{"secret", accounts::Totp::base32(secret)},
                     {"otpauth_uri", accounts::Totp::uri(config_.product_name, email, secret)}});
}

Response AuthApi::totpVerify(const Request& request) {
    auto principal = authenticator_.authenticate(request);
    if (!principal) {
        return errorResponse(principal.error());
    }
    auto body = bodyObject(request);
    if (!body) {
        return errorResponse(body.error());
    }
    const accounts::Account& user = principal->user;
    if (user.totp_enabled || user.totp_secret.empty()) {
        return errorResponse(409, user.totp_enabled ? "totp_already_enabled" : "totp_not_set_up",
                             user.totp_enabled ? "TOTP is already enabled" : "set up TOTP first");
    }
    auto secret = totp_.open(user.totp_secret);
    if (!secret) {
        return errorResponse(secret.error());
    }
    Micros now = nowMicros();
    auto step = accounts::Totp::match(*secret, stringField(*body, "code"), now);
    auto fresh = step ? accounts::claimTotpStep(sql_, user.id, *step) : Result<bool>(false);
    if (!fresh) {
        return errorResponse(fresh.error());
    }
    if (!*fresh) {
        return errorResponse(400, "invalid_totp_code", "the authenticator code is not valid");
    }
    auto codes = totp_.replaceRecoveryCodes(sql_, user.id, now);
    if (!codes) {
        return errorResponse(codes.error());
    }
    if (auto ok = accounts::setTotp(sql_, user.id, user.totp_secret, true, now); !ok) {
        return errorResponse(ok.error());
    }
    if (auto ok = audit(*principal, request, {"totp.enabled", "user", user.id, ""}); !ok) {
        return errorResponse(ok.error());
    }
    json::array list;
    for (const auto& code : *codes) {
        list.push_back(json::value(code));
    }
    return jsonResponse(200, json::object{{"recovery_codes", std::move(list)}});
}

Response AuthApi::changePassword(const Request& request) {
    auto principal = authenticator_.authenticate(request);
    if (!principal) {
        return errorResponse(principal.error());
    }
    auto body = bodyObject(request);
    if (!body) {
        return errorResponse(body.error());
    }
    std::string current = stringField(*body, "current_password");
    std::string next = stringField(*body, "new_password");
    if (!verifyPassword(principal->user.password_hash, current)) {
        return errorResponse(invalidField("current_password", "the current password is wrong"));
    }
    if (next.size() < kMinPasswordLength) {
        return errorResponse(invalidField("new_password", "at least 10 characters"));
    }
    const std::string& user_id = principal->user.id;
    if (auto ok = accounts::setPasswordHash(sql_, user_id, hashPassword(next), nowMicros()); !ok) {
        return errorResponse(ok.error());
    }
    // Other browsers signed in with the old password are signed out; this one stays.
    if (auto ended = accounts::deleteSessionsOf(sql_, user_id, principal->session_id); !ended) {
        return errorResponse(ended.error());
    }
    if (auto ok = audit(*principal, request, {"password.changed", "user", user_id, ""}); !ok) {
        return errorResponse(ok.error());
    }
    return noContent();
}

Response AuthApi::listTokens(const Request& request) {
    auto principal = authenticator_.authenticate(request);
    if (!principal) {
        return errorResponse(principal.error());
    }
    auto tokens = accounts::apiTokensOf(sql_, principal->user.id, nowMicros());
    if (!tokens) {
        return errorResponse(tokens.error());
    }
    json::array results;
    for (const auto& token : *tokens) {
        results.push_back(tokenJson(token));
    }
    return jsonResponse(200, json::object{{"results", std::move(results)}, {"next", nullptr}});
}

Response AuthApi::createToken(const Request& request) {
    auto principal = authenticator_.authenticate(request);
    if (!principal) {
        return errorResponse(principal.error());
    }
    auto body = bodyObject(request);
    if (!body) {
        return errorResponse(body.error());
    }
    std::string name = stringField(*body, "name");
    if (name.empty() || name.size() > kMaxTokenNameLength) {
        return errorResponse(invalidField("name", "between 1 and 100 characters"));
    }
    Micros now = nowMicros();
    std::optional<Micros> expires;
    if (const json::value* days = body->if_contains("expires_in_days"); days && !days->is_null()) {
        if (!days->is_int64() || days->as_int64() < 1 || days->as_int64() > 3650) {
            return errorResponse(invalidField("expires_in_days", "a whole number of days, 1-3650"));
        }
        expires = now + days->as_int64() * kDay;
    }
    auto made = accounts::createApiToken(sql_, principal->user.id, name, "[]", expires, now);
    if (!made) {
        return errorResponse(made.error());
    }
    if (auto ok =
            audit(*principal, request, {"api_token.created", "api_token", made->token.id, name});
        !ok) {
        return errorResponse(ok.error());
    }
    json::object answer = tokenJson(made->token);
    answer["token"] = made->secret;
    Response response = jsonResponse(201, answer);
    response.setHeader("cache-control", "no-store");
    return response;
}

Response AuthApi::deleteToken(const Request& request) {
    auto principal = authenticator_.authenticate(request);
    if (!principal) {
        return errorResponse(principal.error());
    }
    std::string id(request.param("id"));
    if (!isUuid(id)) {
        return errorResponse(404, "not_found", "no such API token");
    }
    auto revoked = accounts::revokeApiToken(sql_, principal->user.id, id, nowMicros());
    if (!revoked) {
        return errorResponse(revoked.error());
    }
    if (!*revoked) {
        return errorResponse(404, "not_found", "no such API token");
    }
    if (auto ok = audit(*principal, request, {"api_token.revoked", "api_token", id, ""}); !ok) {
        return errorResponse(ok.error());
    }
    return noContent();
}

}  // namespace esocore::api
