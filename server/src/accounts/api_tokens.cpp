#include "accounts/api_tokens.h"

#include "accounts/keys.h"
#include "core/crypto.h"

namespace esocore::accounts {

namespace {

constexpr std::string_view kMarker = "esot_";
constexpr std::size_t kPrefixLength = 12;
constexpr Micros kTouchEvery = 60'000'000;

constexpr const char* kTokenColumns =
    "id, user_id, name, prefix, scopes, created_at, last_used_at, expires_at";

ApiToken readToken(const store::SqlRow& row) {
    return ApiToken{row.text(0),
                    row.text(1),
                    row.text(2),
                    row.text(3),
                    row.text(4),
                    row.integer(5),
                    row.optionalInteger(6),
                    row.optionalInteger(7)};
}

// The prefix of a well-formed token text, or empty.
std::string prefixOf(std::string_view text) {
    if (text.size() <= kMarker.size() + kPrefixLength + 1 || !text.starts_with(kMarker) ||
        text[kMarker.size() + kPrefixLength] != '_') {
        return {};
    }
    return std::string(text.substr(kMarker.size(), kPrefixLength));
}

}  // namespace

Result<NewApiToken> createApiToken(store::SqlSession& sql, const std::string& user_id,
                                   const std::string& name, const std::string& scopes_json,
                                   std::optional<Micros> expires_at, Micros now) {
    NewApiToken made;
    made.token = ApiToken{newUuid(),   user_id, name,         randomHex(kPrefixLength / 2),
                          scopes_json, now,     std::nullopt, expires_at};
    made.secret = std::string(kMarker) + made.token.prefix + "_" + randomToken(32);
    auto inserted = sql.execute(
        "INSERT INTO api_tokens(id, user_id, name, prefix, token_hash, scopes, created_at, "
        "expires_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
        {made.token.id, user_id, name, made.token.prefix, sha256Hex(made.secret), scopes_json, now,
         store::integerOrNull(expires_at)});
    if (!inserted) {
        return inserted.takeError();
    }
    return made;
}

Result<std::optional<ApiToken>> findApiToken(store::SqlSession& sql, const std::string& text,
                                             Micros now) {
    std::string prefix = prefixOf(text);
    if (prefix.empty()) {
        return std::optional<ApiToken>();
    }
    auto rows = sql.query(std::string("SELECT ") + kTokenColumns +
                              ", token_hash FROM api_tokens WHERE prefix = $1 AND "
                              "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
                          {prefix, now});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty() || !constantTimeEquals(rows->front().text(8), sha256Hex(text))) {
        return std::optional<ApiToken>();
    }
    ApiToken token = readToken(rows->front());
    if (!token.last_used_at || now - *token.last_used_at >= kTouchEvery) {
        auto touched =
            sql.execute("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", {now, token.id});
        if (!touched) {
            return touched.takeError();
        }
        token.last_used_at = now;
    }
    return std::optional<ApiToken>(token);
}

Result<std::vector<ApiToken>> apiTokensOf(store::SqlSession& sql, const std::string& user_id,
                                          Micros now) {
    auto rows = sql.query(std::string("SELECT ") + kTokenColumns +
                              " FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL AND "
                              "(expires_at IS NULL OR expires_at > $2) "
                              "ORDER BY created_at DESC, id DESC",
                          {user_id, now});
    if (!rows) {
        return rows.takeError();
    }
    std::vector<ApiToken> tokens;
    for (const auto& row : *rows) {
        tokens.push_back(readToken(row));
    }
    return tokens;
}

Result<bool> revokeApiToken(store::SqlSession& sql, const std::string& user_id,
                            const std::string& id, Micros now) {
    auto revoked = sql.execute(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND "
        "revoked_at IS NULL",
        {now, id, user_id});
    if (!revoked) {
        return revoked.takeError();
    }
    return *revoked > 0;
}

}  // namespace esocore::accounts
