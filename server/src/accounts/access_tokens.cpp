#include "accounts/access_tokens.h"

#include <jwt.h>

#include <cstdlib>
#include <memory>

namespace esocore::accounts {

namespace {

using JwtPtr = std::unique_ptr<jwt_t, decltype(&jwt_free)>;

constexpr const char* kIssuer = "esocore";

Error rejected(std::string message) {
    return Error{401, "not_authenticated", std::move(message), {}};
}

}  // namespace

Result<std::string> AccessTokens::issue(const std::string& user_id, Micros now) const {
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) {
        return internalError("cannot allocate a JWT");
    }
    JwtPtr jwt(raw, &jwt_free);
    long issued = static_cast<long>(now / 1'000'000);
    long expires = static_cast<long>((now + kAccessLifetime) / 1'000'000);
    if (jwt_add_grant(jwt.get(), "sub", user_id.c_str()) != 0 ||
        jwt_add_grant(jwt.get(), "iss", kIssuer) != 0 ||
        jwt_add_grant(jwt.get(), "typ", "access") != 0 ||
        jwt_add_grant_int(jwt.get(), "iat", issued) != 0 ||
        jwt_add_grant_int(jwt.get(), "exp", expires) != 0 ||
        jwt_set_alg(jwt.get(), JWT_ALG_HS256, key_.data(), static_cast<int>(key_.size())) != 0) {
        return internalError("cannot build a JWT");
    }
    std::unique_ptr<char, decltype(&std::free)> encoded(jwt_encode_str(jwt.get()), &std::free);
    if (!encoded) {
        return internalError("cannot sign a JWT");
    }
    return std::string(encoded.get());
}

Result<std::string> AccessTokens::verify(const std::string& token, Micros now) const {
    auto claims = check(token, now);
    if (!claims) {
        return claims.takeError();
    }
    return std::move(claims->subject);
}

Result<Micros> AccessTokens::expiresAt(const std::string& token, Micros now) const {
    auto claims = check(token, now);
    if (!claims) {
        return claims.takeError();
    }
    return claims->expires_at;
}

Result<AccessTokens::Claims> AccessTokens::check(const std::string& token, Micros now) const {
    jwt_t* raw = nullptr;
    if (jwt_decode(&raw, token.c_str(), key_.data(), static_cast<int>(key_.size())) != 0 ||
        raw == nullptr) {
        return rejected("the access token is not valid");
    }
    JwtPtr jwt(raw, &jwt_free);
    // The algorithm is pinned: a token that names another one (or none) is refused.
    if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) {
        return rejected("the access token is not valid");
    }
    const char* type = jwt_get_grant(jwt.get(), "typ");
    const char* issuer = jwt_get_grant(jwt.get(), "iss");
    const char* subject = jwt_get_grant(jwt.get(), "sub");
    if (type == nullptr || std::string_view(type) != "access" || issuer == nullptr ||
        std::string_view(issuer) != kIssuer || subject == nullptr) {
        return rejected("the access token is not valid");
    }
    long expires = jwt_get_grant_int(jwt.get(), "exp");
    if (expires <= 0 || static_cast<Micros>(expires) * 1'000'000 <= now) {
        return rejected("the access token has expired");
    }
    return Claims{std::string(subject), static_cast<Micros>(expires) * 1'000'000};
}

}  // namespace esocore::accounts
