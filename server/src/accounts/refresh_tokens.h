#pragma once

#include <string>

#include "accounts/audit_log.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/sql.h"

namespace esocore::accounts {

inline constexpr Micros kRefreshLifetime = Micros{30} * 86'400'000'000;

/// A refresh token handed to a client, with the family it rotates in.
struct IssuedRefreshToken {
    std::string token;
    std::string family_id;
    std::string user_id;
};

/// Starts a new family (a sign-in in token mode).
Result<IssuedRefreshToken> startRefreshFamily(store::SqlSession& sql, const std::string& user_id,
                                              Micros now);

/// Exchanges `token` for its successor in the same family. A token that was already
/// exchanged revokes the whole family (someone holds a copy) and fails with
/// refresh_token_reused, and the audit log records it for `from`; an unknown, expired or
/// revoked one fails with invalid_refresh_token.
Result<IssuedRefreshToken> rotateRefreshToken(store::SqlSession& sql, const std::string& token,
                                              const Actor& from, Micros now);

/// Revokes the family of `token` (sign-out of a token client); unknown tokens are ignored.
Result<void> revokeRefreshFamily(store::SqlSession& sql, const std::string& token, Micros now);

}  // namespace esocore::accounts
