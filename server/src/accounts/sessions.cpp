#include "accounts/sessions.h"

#include "core/crypto.h"

namespace esocore::accounts {

namespace {

constexpr Micros kTouchEvery = 60'000'000;

PortalSession readSession(const store::SqlRow& row) {
    return PortalSession{row.text(0),    row.text(1),    row.text(2),
                         row.integer(3), row.integer(4), row.integer(5)};
}

}  // namespace

Result<NewSession> createSession(store::SqlSession& sql, const std::string& user_id,
                                 const Actor& from, Micros now) {
    NewSession made;
    made.token = randomToken(32);
    made.session = PortalSession{sha256Hex(made.token),  user_id, randomToken(32), now,
                                 now + kSessionLifetime, now};
    auto inserted = sql.execute(
        "INSERT INTO sessions(id, user_id, csrf_token, created_at, expires_at, last_seen_at, "
        "ip_address, user_agent) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
        {made.session.id, user_id, made.session.csrf_token, now, made.session.expires_at, now,
         from.ip_address, from.user_agent});
    if (!inserted) {
        return inserted.takeError();
    }
    return made;
}

Result<std::optional<PortalSession>> findSession(store::SqlSession& sql, const std::string& token,
                                                 Micros now) {
    auto rows = sql.query(
        "SELECT id, user_id, csrf_token, created_at, expires_at, last_seen_at FROM sessions "
        "WHERE id = $1 AND expires_at > $2 AND last_seen_at > $3",
        {sha256Hex(token), now, now - kSessionIdle});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<PortalSession>();
    }
    PortalSession session = readSession(rows->front());
    if (now - session.last_seen_at >= kTouchEvery) {
        auto touched =
            sql.execute("UPDATE sessions SET last_seen_at = $1 WHERE id = $2", {now, session.id});
        if (!touched) {
            return touched.takeError();
        }
        session.last_seen_at = now;
    }
    return std::optional<PortalSession>(session);
}

Result<void> deleteSession(store::SqlSession& sql, const std::string& session_id) {
    auto deleted = sql.execute("DELETE FROM sessions WHERE id = $1", {session_id});
    if (!deleted) {
        return deleted.takeError();
    }
    return {};
}

Result<std::int64_t> deleteSessionsOf(store::SqlSession& sql, const std::string& user_id,
                                      const std::string& keep_id) {
    return sql.execute("DELETE FROM sessions WHERE user_id = $1 AND id <> $2", {user_id, keep_id});
}

Result<std::int64_t> purgeExpiredSignIns(store::SqlSession& sql, Micros now) {
    constexpr Micros kKeepAttempts = 86'400'000'000;
    const std::pair<const char*, store::SqlParams> purges[] = {
        {"DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
         {now, now - kSessionIdle}},
        {"DELETE FROM refresh_tokens WHERE expires_at <= $1", {now}},
        {"DELETE FROM sign_in_attempts WHERE created_at <= $1", {now - kKeepAttempts}},
    };
    std::int64_t removed = 0;
    for (const auto& [statement, params] : purges) {
        auto done = sql.execute(statement, params);
        if (!done) {
            return done.takeError();
        }
        removed += *done;
    }
    return removed;
}

}  // namespace esocore::accounts
