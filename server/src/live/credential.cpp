#include "live/credential.h"

#include "accounts/sessions.h"
#include "accounts/users.h"
#include "core/crypto.h"

namespace esocore::live {

namespace {

// Tickets this much past their end are removed when the next one is issued.
constexpr Micros kTicketKeep = 3'600'000'000;

std::string kindName(api::Credential kind) {
    switch (kind) {
        case api::Credential::session:
            return "session";
        case api::Credential::access_token:
            return "access_token";
        case api::Credential::api_token:
            return "api_token";
    }
    return "session";
}

std::optional<api::Credential> parseKind(const std::string& name) {
    if (name == "session") {
        return api::Credential::session;
    }
    if (name == "access_token") {
        return api::Credential::access_token;
    }
    if (name == "api_token") {
        return api::Credential::api_token;
    }
    return std::nullopt;
}

// One row when the credential is still live at `now`.
Result<bool> credentialLive(store::SqlSession& sql, const LiveCredential& credential, Micros now) {
    Result<std::vector<store::SqlRow>> rows = std::vector<store::SqlRow>{};
    switch (credential.kind) {
        case api::Credential::access_token:
            return credential.expires_at && *credential.expires_at > now;
        case api::Credential::session:
            rows = sql.query(
                "SELECT 1 FROM sessions WHERE id = $1 AND expires_at > $2 AND last_seen_at > $3",
                {credential.session_id, now, now - accounts::kSessionIdle});
            break;
        case api::Credential::api_token:
            rows = sql.query(
                "SELECT 1 FROM api_tokens WHERE id = $1 AND revoked_at IS NULL "
                "AND (expires_at IS NULL OR expires_at > $2)",
                {credential.api_token_id, now});
            break;
    }
    if (!rows) {
        return rows.takeError();
    }
    return !rows->empty();
}

}  // namespace

LiveCredential credentialOf(const api::Principal& principal,
                            std::optional<Micros> access_expires_at) {
    LiveCredential credential{principal.user.id, principal.credential, principal.session_id,
                              principal.api_token_id, std::nullopt};
    if (principal.credential == api::Credential::access_token) {
        credential.expires_at = access_expires_at;
    }
    return credential;
}

Result<std::optional<api::Principal>> principalOf(store::SqlSession& sql,
                                                  const LiveCredential& credential, Micros now) {
    auto live = credentialLive(sql, credential, now);
    if (!live) {
        return live.takeError();
    }
    if (!*live) {
        return std::optional<api::Principal>();
    }
    auto account = accounts::findAccount(sql, credential.user_id);
    if (!account) {
        return account.takeError();
    }
    if (!*account || !(*account)->is_active) {
        return std::optional<api::Principal>();
    }
    auto memberships = accounts::membershipsOf(sql, credential.user_id);
    if (!memberships) {
        return memberships.takeError();
    }
    return std::optional<api::Principal>(api::Principal{std::move(**account),
                                                        std::move(*memberships),
                                                        credential.kind,
                                                        credential.session_id,
                                                        {},
                                                        credential.api_token_id});
}

Result<Ticket> issueTicket(store::SqlSession& sql, const LiveCredential& credential, Micros now) {
    if (auto swept =
            sql.execute("DELETE FROM live_tickets WHERE expires_at < $1", {now - kTicketKeep});
        !swept) {
        return swept.takeError();
    }
    Ticket ticket{randomToken(32), now + kTicketLifetime};
    auto stored = sql.execute(
        "INSERT INTO live_tickets (id, user_id, credential, session_id, api_token_id, "
        "credential_expires_at, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        {sha256Hex(ticket.text), credential.user_id, kindName(credential.kind),
         store::textOrNull(credential.session_id), store::textOrNull(credential.api_token_id),
         store::integerOrNull(credential.expires_at), now, ticket.expires_at});
    if (!stored) {
        return stored.takeError();
    }
    return ticket;
}

Result<std::optional<LiveCredential>> redeemTicket(store::SqlSession& sql, const std::string& text,
                                                   Micros now) {
    auto rows = sql.query(
        "UPDATE live_tickets SET used_at = $1 WHERE id = $2 AND used_at IS NULL "
        "AND expires_at > $3 RETURNING user_id, credential, session_id, api_token_id, "
        "credential_expires_at",
        {now, sha256Hex(text), now});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<LiveCredential>();
    }
    const store::SqlRow& row = rows->front();
    auto kind = parseKind(row.text(1));
    if (!kind) {
        return std::optional<LiveCredential>();
    }
    return std::optional<LiveCredential>(
        LiveCredential{row.text(0), *kind, row.text(2), row.text(3), row.optionalInteger(4)});
}

}  // namespace esocore::live
