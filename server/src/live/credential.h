#pragma once

// What admitted a live connection, kept so that the connection ends when it does, and the
// single-use tickets that let browsers open /ws without putting a long-lived token in a URL.

#include <optional>
#include <string>

#include "api/principal.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/sql.h"

namespace esocore::live {

/// The credential behind a live connection.
struct LiveCredential {
    std::string user_id;
    api::Credential kind = api::Credential::session;
    std::string session_id;            // Credential::session
    std::string api_token_id;          // Credential::api_token
    std::optional<Micros> expires_at;  // Credential::access_token: when the JWT ends
};

/// The credential of an authenticated principal; `access_expires_at` is the end of its JWT
/// when it came with one.
LiveCredential credentialOf(const api::Principal& principal,
                            std::optional<Micros> access_expires_at);

/// The principal of `credential` at `now`, its memberships read afresh; nothing when the
/// credential has ended (session signed out, past its end or idle too long; API token revoked
/// or expired; JWT expired) or the account is no longer active.
Result<std::optional<api::Principal>> principalOf(store::SqlSession& sql,
                                                  const LiveCredential& credential, Micros now);

inline constexpr Micros kTicketLifetime = 30'000'000;

struct Ticket {
    std::string text;
    Micros expires_at = 0;
};

/// A ticket for one connection by the holder of `credential`, usable once within
/// kTicketLifetime. Only its SHA-256 is stored.
Result<Ticket> issueTicket(store::SqlSession& sql, const LiveCredential& credential, Micros now);

/// Uses the ticket up: the credential it stands for, or nothing when the ticket is unknown,
/// already used or expired. Of concurrent redeemers of one ticket, one gets it.
Result<std::optional<LiveCredential>> redeemTicket(store::SqlSession& sql, const std::string& text,
                                                   Micros now);

}  // namespace esocore::live
