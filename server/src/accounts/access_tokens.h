#pragma once

#include <string>
#include <string_view>

#include "accounts/keys.h"
#include "core/clock.h"
#include "core/result.h"

namespace esocore::accounts {

inline constexpr Micros kAccessLifetime = Micros{15} * 60'000'000;

/// Short-lived JWT access tokens (HS256) for API clients, signed with a key derived from the
/// server's secret key.
class AccessTokens {
public:
    explicit AccessTokens(std::string_view secret_key) : key_(deriveKey(secret_key, "jwt")) {}

    /// A token for `user_id`, valid from `now` for kAccessLifetime.
    Result<std::string> issue(const std::string& user_id, Micros now) const;

    /// The user id of a token signed here, of type access and not expired at `now`; otherwise
    /// 401 not_authenticated.
    Result<std::string> verify(const std::string& token, Micros now) const;

    /// When a token that verify() accepts at `now` ends; otherwise 401 not_authenticated.
    Result<Micros> expiresAt(const std::string& token, Micros now) const;

private:
    struct Claims {
        std::string subject;
        Micros expires_at = 0;
    };
    Result<Claims> check(const std::string& token, Micros now) const;

    Key key_;
};

}  // namespace esocore::accounts
