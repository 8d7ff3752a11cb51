// Sign-in, sessions with CSRF, JWT with rotating refresh tokens, API tokens, TOTP with
// recovery codes, throttling and the audit log, over real HTTP on both stores.
#include "api/auth_api.h"

#include <gtest/gtest.h>
#include <liboath/oath.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <memory>

#include "core/crypto.h"
#include "support/test_server.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::Headers;
using testing::HttpResult;

constexpr const char* kPassword = "correct horse battery";

json::object body(const HttpResult& result) {
    json::error_code ec;
    json::value value = json::parse(result.body, ec);
    return ec || !value.is_object() ? json::object{} : value.as_object();
}

std::string errorCode(const HttpResult& result) {
    json::object b = body(result);
    const json::value* error = b.if_contains("error");
    return error != nullptr ? std::string(error->at("code").as_string()) : "";
}

std::string text(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

// A browser's view of a portal session: the cookie and the CSRF token.
struct BrowserSession {
    std::string cookie;  // "esocore_session=..."
    std::string csrf;

    Headers headers(bool with_csrf = true) const {
        Headers h{{"Cookie", cookie}};
        if (with_csrf) {
            h.emplace_back("X-CSRF-Token", csrf);
        }
        return h;
    }
};

// The TOTP code of a base32 secret at `at` (seconds).
std::string totpCode(const std::string& base32, std::time_t at) {
    oath_init();
    char* secret = nullptr;
    std::size_t length = 0;
    EXPECT_EQ(OATH_OK, oath_base32_decode(base32.c_str(), base32.size(), &secret, &length));
    std::unique_ptr<char, decltype(&std::free)> owned(secret, &std::free);
    char code[7] = {};
    EXPECT_EQ(OATH_OK, oath_totp_generate(secret, length, at, 30, 0, 6, code));
    return code;
}

class AuthApiTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { start(); }

    void start(std::function<void(Config&)> adjust = {}) {
        server_ = std::make_unique<testing::TestServer>(GetParam(), std::move(adjust));
        auto org = server_->store().ensureDefaultOrganization();
        ASSERT_TRUE(org.ok());
        org_id_ = org->id;
        email_ = "ada@example.com";
        user_id_ = addUser(email_, kPassword);
    }

    std::string addUser(const std::string& email, const std::string& password) {
        store::User user{newUuid(), email, "Ada",      hashPassword(password),
                         false,     "UTC", nowMicros()};
        EXPECT_TRUE(server_->store().createUser(user).ok());
        EXPECT_TRUE(server_->store().addMembership(user.id, org_id_, "operator").ok());
        return user.id;
    }

    HttpResult post(const std::string& path, const json::object& b, const Headers& h = {}) {
        Headers headers = h;
        headers.emplace_back("Content-Type", "application/json");
        return server_->client().post(path, json::serialize(b), headers);
    }

    HttpResult login(const std::string& email, const std::string& password,
                     json::object extra = {}) {
        extra["email"] = email;
        extra["password"] = password;
        return post("/api/auth/login", extra);
    }

    BrowserSession signIn() {
        HttpResult result = login(email_, kPassword);
        EXPECT_EQ(200, result.status) << result.body;
        std::string cookie = result.header("set-cookie");
        return BrowserSession{cookie.substr(0, cookie.find(';')), text(body(result), "csrf_token")};
    }

    json::object signInForTokens() {
        HttpResult result = login(email_, kPassword, {{"mode", "token"}});
        EXPECT_EQ(200, result.status) << result.body;
        return body(result);
    }

    static Headers bearer(const std::string& token) {
        return {{"Authorization", "Bearer " + token}};
    }

    std::int64_t audits(const std::string& action) {
        auto rows = server_->store().sql().query("SELECT count(*) FROM audit_log WHERE action = $1",
                                                 {action});
        EXPECT_TRUE(rows.ok());
        return rows.ok() ? rows->at(0).integer(0) : -1;
    }

    std::unique_ptr<testing::TestServer> server_;
    std::string org_id_;
    std::string email_;
    std::string user_id_;
};

TEST_P(AuthApiTest, SessionSignInSetsAnHttpOnlyLaxCookie) {
    HttpResult result = login(email_, kPassword);

    ASSERT_EQ(200, result.status) << result.body;
    std::string cookie = result.header("set-cookie");
    EXPECT_EQ(0u, cookie.find("esocore_session="));
    EXPECT_NE(std::string::npos, cookie.find("HttpOnly"));
    EXPECT_NE(std::string::npos, cookie.find("SameSite=Lax"));
    EXPECT_EQ(std::string::npos, cookie.find("Secure"));
    EXPECT_FALSE(text(body(result), "csrf_token").empty());
    EXPECT_EQ(email_, text(body(result).at("user").as_object(), "email"));
}

TEST_P(AuthApiTest, CookieIsSecureWhenThePublicUrlIsHttps) {
    server_.reset();
    start([](Config& c) { c.public_url = "https://cloud.example.com"; });

    HttpResult result = login(email_, kPassword);

    ASSERT_EQ(200, result.status);
    EXPECT_NE(std::string::npos, result.header("set-cookie").find("; Secure"));
}

TEST_P(AuthApiTest, MeAnswersTheSessionUserWithMemberships) {
    BrowserSession session = signIn();

    HttpResult me = server_->client().get("/api/auth/me", session.headers(false));

    ASSERT_EQ(200, me.status) << me.body;
    json::object b = body(me);
    EXPECT_EQ(user_id_, text(b.at("user").as_object(), "id"));
    EXPECT_EQ(session.csrf, text(b, "csrf_token"));
    ASSERT_EQ(1u, b.at("memberships").as_array().size());
    json::object m = b.at("memberships").as_array().at(0).as_object();
    EXPECT_EQ("operator", text(m, "role"));
    EXPECT_EQ("organization", text(m, "scope"));
    EXPECT_EQ(org_id_, text(m, "organization_id"));
}

TEST_P(AuthApiTest, WithoutCredentialsTheAnswerIsNotAuthenticated) {
    HttpResult me = server_->client().get("/api/auth/me");
    EXPECT_EQ(401, me.status);
    EXPECT_EQ("not_authenticated", errorCode(me));

    HttpResult forged =
        server_->client().get("/api/auth/me", {{"Cookie", "esocore_session=forged"}});
    EXPECT_EQ(401, forged.status);
    EXPECT_EQ("not_authenticated", errorCode(forged));
}

TEST_P(AuthApiTest, StateChangingSessionRequestsNeedTheCsrfToken) {
    BrowserSession session = signIn();
    json::object token{{"name", "ci"}};

    HttpResult missing = post("/api/auth/tokens", token, session.headers(false));
    EXPECT_EQ(403, missing.status);
    EXPECT_EQ("csrf_failed", errorCode(missing));

    Headers wrong{{"Cookie", session.cookie}, {"X-CSRF-Token", session.csrf + "x"}};
    HttpResult mismatched = post("/api/auth/tokens", token, wrong);
    EXPECT_EQ(403, mismatched.status);
    EXPECT_EQ("csrf_failed", errorCode(mismatched));

    HttpResult created = post("/api/auth/tokens", token, session.headers());
    EXPECT_EQ(201, created.status) << created.body;
}

TEST_P(AuthApiTest, LogoutEndsTheSessionAndClearsTheCookie) {
    BrowserSession session = signIn();

    HttpResult out = post("/api/auth/logout", {}, session.headers());

    EXPECT_EQ(204, out.status) << out.body;
    EXPECT_NE(std::string::npos, out.header("set-cookie").find("Max-Age=0"));
    HttpResult me = server_->client().get("/api/auth/me", session.headers(false));
    EXPECT_EQ(401, me.status);
    EXPECT_EQ(1, audits("sign_out"));
}

TEST_P(AuthApiTest, SignInsAreAuditedBothWays) {
    EXPECT_EQ(401, login(email_, "wrong password").status);
    EXPECT_EQ(401, login("nobody@example.com", kPassword).status);
    signIn();

    EXPECT_EQ(2, audits("sign_in.failed"));
    EXPECT_EQ(1, audits("sign_in.succeeded"));
    auto rows = server_->store().sql().query(
        "SELECT user_id, organization_id, ip_address FROM audit_log "
        "WHERE action = 'sign_in.succeeded'");
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(user_id_, rows->at(0).text(0));
    EXPECT_EQ("127.0.0.1", rows->at(0).text(2));
}

TEST_P(AuthApiTest, WrongPasswordAndUnknownEmailAnswerAlike) {
    HttpResult wrong = login(email_, "wrong password");
    HttpResult unknown = login("nobody@example.com", kPassword);

    EXPECT_EQ(401, wrong.status);
    EXPECT_EQ("invalid_credentials", errorCode(wrong));
    EXPECT_EQ(wrong.body, unknown.body);
}

TEST_P(AuthApiTest, FiveFailuresThrottleTheAccountWithRetryAfter) {
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(401, login(email_, "wrong password").status);
    }

    HttpResult throttled = login("ADA@example.com", kPassword);

    EXPECT_EQ(429, throttled.status);
    EXPECT_EQ("too_many_attempts", errorCode(throttled));
    int retry_after = std::atoi(throttled.header("retry-after").c_str());
    EXPECT_GT(retry_after, 0);
    EXPECT_LE(retry_after, 15 * 60);
    EXPECT_EQ(1, audits("sign_in.throttled"));
    addUser("grace@example.com", kPassword);
    EXPECT_EQ(200, login("grace@example.com", kPassword).status);
}

TEST_P(AuthApiTest, ASuccessResetsTheAccountsFailures) {
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(401, login(email_, "wrong password").status);
    }
    signIn();
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(401, login(email_, "wrong password").status);
    }

    EXPECT_EQ(200, login(email_, kPassword).status);
}

TEST_P(AuthApiTest, TwentyFailuresFromOneAddressThrottleEveryAccount) {
    for (int i = 0; i < 20; ++i) {
        login("guess" + std::to_string(i) + "@example.com", "wrong password");
    }

    HttpResult throttled = login(email_, kPassword);

    EXPECT_EQ(429, throttled.status);
    EXPECT_EQ("too_many_attempts", errorCode(throttled));
    EXPECT_FALSE(throttled.header("retry-after").empty());
}

TEST_P(AuthApiTest, TokenModeGivesAnAccessTokenThatAuthenticates) {
    json::object tokens = signInForTokens();

    EXPECT_EQ("Bearer", text(tokens, "token_type"));
    EXPECT_EQ(900, tokens.at("expires_in").as_int64());
    HttpResult me = server_->client().get("/api/auth/me", bearer(text(tokens, "access_token")));
    ASSERT_EQ(200, me.status) << me.body;
    EXPECT_FALSE(body(me).contains("csrf_token"));
}

TEST_P(AuthApiTest, ATamperedAccessTokenIsRefused) {
    std::string access = text(signInForTokens(), "access_token");
    std::string tampered = access;
    tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';

    for (const std::string& token : {tampered, std::string("not.a.jwt"), access + "x"}) {
        HttpResult me = server_->client().get("/api/auth/me", bearer(token));
        EXPECT_EQ(401, me.status) << token;
        EXPECT_EQ("not_authenticated", errorCode(me));
    }
}

TEST_P(AuthApiTest, RefreshRotatesTheRefreshToken) {
    std::string first = text(signInForTokens(), "refresh_token");

    HttpResult rotated = post("/api/auth/refresh", {{"refresh_token", first}});

    ASSERT_EQ(200, rotated.status) << rotated.body;
    std::string second = text(body(rotated), "refresh_token");
    EXPECT_NE(first, second);
    HttpResult me =
        server_->client().get("/api/auth/me", bearer(text(body(rotated), "access_token")));
    EXPECT_EQ(200, me.status);
    EXPECT_EQ(200, post("/api/auth/refresh", {{"refresh_token", second}}).status);
}

TEST_P(AuthApiTest, ReusingARefreshTokenRevokesTheWholeFamily) {
    std::string first = text(signInForTokens(), "refresh_token");
    std::string second =
        text(body(post("/api/auth/refresh", {{"refresh_token", first}})), "refresh_token");

    HttpResult reused = post("/api/auth/refresh", {{"refresh_token", first}});

    EXPECT_EQ(401, reused.status);
    EXPECT_EQ("refresh_token_reused", errorCode(reused));
    HttpResult after = post("/api/auth/refresh", {{"refresh_token", second}});
    EXPECT_EQ(401, after.status);
    EXPECT_EQ("invalid_refresh_token", errorCode(after));
    EXPECT_EQ(1, audits("refresh_token.reused"));
    std::string other = text(signInForTokens(), "refresh_token");
    EXPECT_EQ(200, post("/api/auth/refresh", {{"refresh_token", other}}).status);
}

TEST_P(AuthApiTest, TokenLogoutRevokesTheRefreshFamily) {
    json::object tokens = signInForTokens();
    std::string refresh = text(tokens, "refresh_token");

    HttpResult out = post("/api/auth/logout", {{"refresh_token", refresh}},
                          bearer(text(tokens, "access_token")));

    EXPECT_EQ(204, out.status) << out.body;
    EXPECT_TRUE(out.header("set-cookie").empty());
    HttpResult after = post("/api/auth/refresh", {{"refresh_token", refresh}});
    EXPECT_EQ(401, after.status);
    EXPECT_EQ("invalid_refresh_token", errorCode(after));
}

TEST_P(AuthApiTest, AnUnknownRefreshTokenIsRefused) {
    HttpResult result = post("/api/auth/refresh", {{"refresh_token", "made-up"}});

    EXPECT_EQ(401, result.status);
    EXPECT_EQ("invalid_refresh_token", errorCode(result));
}

TEST_P(AuthApiTest, ApiTokensAreShownOnceListedWithoutSecretAndRevocable) {
    std::string access = text(signInForTokens(), "access_token");

    HttpResult created = post("/api/auth/tokens", {{"name", "grafana"}}, bearer(access));
    ASSERT_EQ(201, created.status) << created.body;
    std::string secret = text(body(created), "token");
    std::string id = text(body(created), "id");
    EXPECT_EQ(0u, secret.find("esot_" + text(body(created), "prefix") + "_"));

    HttpResult listed = server_->client().get("/api/auth/tokens", bearer(access));
    ASSERT_EQ(200, listed.status);
    json::array results = body(listed).at("results").as_array();
    ASSERT_EQ(1u, results.size());
    EXPECT_EQ("grafana", text(results.at(0).as_object(), "name"));
    EXPECT_FALSE(results.at(0).as_object().contains("token"));

    Headers with_token{{"Authorization", "Token " + secret}};
    EXPECT_EQ(200, server_->client().get("/api/auth/me", with_token).status);
    EXPECT_EQ(
        204,
        server_->client().request("DELETE", "/api/auth/tokens/" + id, {}, bearer(access)).status);
    HttpResult revoked = server_->client().get("/api/auth/me", with_token);
    EXPECT_EQ(401, revoked.status);
    EXPECT_EQ("not_authenticated", errorCode(revoked));
    HttpResult again =
        server_->client().request("DELETE", "/api/auth/tokens/" + id, {}, bearer(access));
    EXPECT_EQ(404, again.status);
    EXPECT_EQ("not_found", errorCode(again));
    EXPECT_EQ(1, audits("api_token.created"));
    EXPECT_EQ(1, audits("api_token.revoked"));
}

TEST_P(AuthApiTest, AnotherUsersApiTokenCannotBeRevoked) {
    std::string access = text(signInForTokens(), "access_token");
    std::string id = text(body(post("/api/auth/tokens", {{"name", "mine"}}, bearer(access))), "id");
    addUser("eve@example.com", kPassword);
    std::string eve =
        text(body(login("eve@example.com", kPassword, {{"mode", "token"}})), "access_token");

    HttpResult result =
        server_->client().request("DELETE", "/api/auth/tokens/" + id, {}, bearer(eve));

    EXPECT_EQ(404, result.status);
    EXPECT_EQ("not_found", errorCode(result));
}

TEST_P(AuthApiTest, TotpWithRecoveryCodes) {
    std::string access = text(signInForTokens(), "access_token");
    HttpResult setup = post("/api/auth/totp/setup", {}, bearer(access));
    ASSERT_EQ(200, setup.status) << setup.body;
    std::string secret = text(body(setup), "secret");
    EXPECT_EQ(0u, text(body(setup), "otpauth_uri").find("otpauth://totp/"));

    std::time_t now = std::time(nullptr);
    HttpResult wrong = post("/api/auth/totp/verify", {{"code", "000000"}}, bearer(access));
    if (totpCode(secret, now) != "000000") {
        EXPECT_EQ("invalid_totp_code", errorCode(wrong));
    }
    HttpResult verified =
        post("/api/auth/totp/verify", {{"code", totpCode(secret, now)}}, bearer(access));
    ASSERT_EQ(200, verified.status) << verified.body;
    json::array codes = body(verified).at("recovery_codes").as_array();
    ASSERT_EQ(10u, codes.size());

    HttpResult no_code = login(email_, kPassword);
    EXPECT_EQ(401, no_code.status);
    EXPECT_EQ("totp_required", errorCode(no_code));
    // The code of this step was used to enable TOTP: the next step's code is still accepted.
    std::string next = totpCode(secret, now + 30);
    EXPECT_EQ(200, login(email_, kPassword, {{"totp_code", next}}).status);
    EXPECT_EQ("invalid_totp_code", errorCode(login(email_, kPassword, {{"totp_code", next}})));

    std::string recovery(codes.at(0).as_string());
    EXPECT_EQ(200, login(email_, kPassword, {{"recovery_code", recovery}}).status);
    HttpResult reused = login(email_, kPassword, {{"recovery_code", recovery}});
    EXPECT_EQ(401, reused.status);
    EXPECT_EQ("invalid_recovery_code", errorCode(reused));
    EXPECT_EQ(1, audits("totp.enabled"));
}

TEST_P(AuthApiTest, TotpCannotBeSetUpTwice) {
    std::string access = text(signInForTokens(), "access_token");
    std::string secret = text(body(post("/api/auth/totp/setup", {}, bearer(access))), "secret");
    std::string code = totpCode(secret, std::time(nullptr));
    ASSERT_EQ(200, post("/api/auth/totp/verify", {{"code", code}}, bearer(access)).status);

    HttpResult again = post("/api/auth/totp/setup", {}, bearer(access));

    EXPECT_EQ(409, again.status);
    EXPECT_EQ("totp_already_enabled", errorCode(again));
}

TEST_P(AuthApiTest, PasswordChangeEndsOtherSessions) {
    BrowserSession here = signIn();
    BrowserSession elsewhere = signIn();

    HttpResult wrong =
        post("/api/auth/password",
             {{"current_password", "nope"}, {"new_password", "a new passphrase"}}, here.headers());
    EXPECT_EQ(400, wrong.status);
    EXPECT_EQ("validation_failed", errorCode(wrong));

    HttpResult changed = post(
        "/api/auth/password",
        {{"current_password", kPassword}, {"new_password", "a new passphrase"}}, here.headers());
    EXPECT_EQ(204, changed.status) << changed.body;
    EXPECT_EQ(200, server_->client().get("/api/auth/me", here.headers(false)).status);
    EXPECT_EQ(401, server_->client().get("/api/auth/me", elsewhere.headers(false)).status);
    EXPECT_EQ(401, login(email_, kPassword).status);
    EXPECT_EQ(200, login(email_, "a new passphrase").status);
    EXPECT_EQ(1, audits("password.changed"));
}

INSTANTIATE_TEST_SUITE_P(Stores, AuthApiTest, ::testing::ValuesIn(testing::storeKinds()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace esocore
