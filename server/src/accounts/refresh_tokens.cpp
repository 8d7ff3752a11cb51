#include "accounts/refresh_tokens.h"

#include "core/crypto.h"

namespace esocore::accounts {

namespace {

enum class Presented { invalid, reused, rotated };

Result<IssuedRefreshToken> insertToken(store::SqlSession& sql, const std::string& user_id,
                                       const std::string& family_id, const std::string& parent_id,
                                       Micros now) {
    IssuedRefreshToken issued{randomToken(32), family_id, user_id};
    auto inserted = sql.execute(
        "INSERT INTO refresh_tokens(id, family_id, user_id, token_hash, parent_id, created_at, "
        "expires_at) VALUES($1, $2, $3, $4, $5, $6, $7)",
        {newUuid(), family_id, user_id, sha256Hex(issued.token), store::textOrNull(parent_id), now,
         now + kRefreshLifetime});
    if (!inserted) {
        return inserted.takeError();
    }
    return issued;
}

Result<void> revokeFamily(store::SqlSession& sql, const std::string& family_id, Micros now) {
    auto revoked = sql.execute(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        {now, family_id});
    if (!revoked) {
        return revoked.takeError();
    }
    return {};
}

Result<void> recordReuse(store::SqlSession& sql, const Actor& from, const std::string& user_id,
                         const std::string& family_id, Micros now) {
    Actor actor = from;
    actor.user_id = user_id;
    return recordAudit(sql, actor,
                       {"refresh_token.reused", "refresh_token_family", family_id,
                        "an already used refresh token was presented; family revoked"},
                       now);
}

// One exchange inside a transaction: claims the presented token, then makes its successor.
Result<Presented> exchange(store::SqlSession& tx, const std::string& token, const Actor& from,
                           Micros now, IssuedRefreshToken& next) {
    auto rows = tx.query(
        "SELECT id, family_id, user_id, used_at, revoked_at, expires_at FROM refresh_tokens "
        "WHERE token_hash = $1",
        {sha256Hex(token)});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty() || !rows->front().isNull(4) || rows->front().integer(5) <= now) {
        return Presented::invalid;
    }
    const store::SqlRow& row = rows->front();
    std::string id = row.text(0);
    std::string family_id = row.text(1);
    std::string user_id = row.text(2);
    auto claimed = tx.execute(
        "UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL", {now, id});
    if (!claimed) {
        return claimed.takeError();
    }
    if (*claimed == 0) {
        if (auto ok = revokeFamily(tx, family_id, now); !ok) {
            return ok.takeError();
        }
        if (auto ok = recordReuse(tx, from, user_id, family_id, now); !ok) {
            return ok.takeError();
        }
        return Presented::reused;
    }
    auto issued = insertToken(tx, user_id, family_id, id, now);
    if (!issued) {
        return issued.takeError();
    }
    next = std::move(*issued);
    return Presented::rotated;
}

}  // namespace

Result<IssuedRefreshToken> startRefreshFamily(store::SqlSession& sql, const std::string& user_id,
                                              Micros now) {
    return insertToken(sql, user_id, newUuid(), "", now);
}

Result<IssuedRefreshToken> rotateRefreshToken(store::SqlSession& sql, const std::string& token,
                                              const Actor& from, Micros now) {
    Presented presented = Presented::invalid;
    IssuedRefreshToken next;
    auto ok = sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto outcome = exchange(tx, token, from, now, next);
        if (!outcome) {
            return outcome.takeError();
        }
        presented = *outcome;
        return {};
    });
    if (!ok) {
        return ok.takeError();
    }
    if (presented == Presented::reused) {
        return Error{
            401, "refresh_token_reused", "this refresh token was already used; sign in again", {}};
    }
    if (presented == Presented::invalid) {
        return Error{401, "invalid_refresh_token", "the refresh token is not valid", {}};
    }
    return next;
}

Result<void> revokeRefreshFamily(store::SqlSession& sql, const std::string& token, Micros now) {
    auto rows =
        sql.query("SELECT family_id FROM refresh_tokens WHERE token_hash = $1", {sha256Hex(token)});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return {};
    }
    return revokeFamily(sql, rows->front().text(0), now);
}

}  // namespace esocore::accounts
