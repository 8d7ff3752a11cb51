#pragma once

#include <optional>
#include <string>

#include "accounts/audit_log.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/sql.h"

namespace esocore::accounts {

/// How long a portal session lives without being used, and at most in all.
inline constexpr Micros kSessionIdle = Micros{12} * 3'600'000'000;
inline constexpr Micros kSessionLifetime = Micros{14} * 86'400'000'000;

/// A signed-in portal browser. The row is keyed by the SHA-256 of the cookie's token.
struct PortalSession {
    std::string id;
    std::string user_id;
    std::string csrf_token;
    Micros created_at = 0;
    Micros expires_at = 0;
    Micros last_seen_at = 0;
};

/// A new session with the token for the cookie, which is not stored.
struct NewSession {
    PortalSession session;
    std::string token;
};

Result<NewSession> createSession(store::SqlSession& sql, const std::string& user_id,
                                 const Actor& from, Micros now);

/// The live session of `token`: neither past its end nor idle too long. Using it moves its
/// idle deadline (written at most once a minute).
Result<std::optional<PortalSession>> findSession(store::SqlSession& sql, const std::string& token,
                                                 Micros now);

Result<void> deleteSession(store::SqlSession& sql, const std::string& session_id);

/// Ends every session of the user except `keep_id` (e.g. after a password change).
Result<std::int64_t> deleteSessionsOf(store::SqlSession& sql, const std::string& user_id,
                                      const std::string& keep_id);

/// Removes what sign-in no longer needs at `now`: ended sessions, refresh tokens past their
/// end, and attempts older than a day (throttling looks back 15 minutes). Returns how many
/// rows went.
Result<std::int64_t> purgeExpiredSignIns(store::SqlSession& sql, Micros now);

}  // namespace esocore::accounts
