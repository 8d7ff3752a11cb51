#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "store/sql.h"

namespace esocore::accounts {

/// A personal API token as listed: never its secret.
struct ApiToken {
    std::string id;
    std::string user_id;
    std::string name;
    std::string prefix;
    std::string scopes_json = "[]";
    Micros created_at = 0;
    std::optional<Micros> last_used_at;
    std::optional<Micros> expires_at;
};

/// A token just made, with its full text, shown to its owner this once.
struct NewApiToken {
    ApiToken token;
    std::string secret;
};

/// Makes a token `esot_<prefix>_<secret>`; only the prefix and a hash are stored.
Result<NewApiToken> createApiToken(store::SqlSession& sql, const std::string& user_id,
                                   const std::string& name, const std::string& scopes_json,
                                   std::optional<Micros> expires_at, Micros now);

/// The live (not revoked, not expired) token whose full text is `text`; records its use.
Result<std::optional<ApiToken>> findApiToken(store::SqlSession& sql, const std::string& text,
                                             Micros now);

/// The user's live tokens, newest first.
Result<std::vector<ApiToken>> apiTokensOf(store::SqlSession& sql, const std::string& user_id,
                                          Micros now);

/// Revokes the user's token `id`; false when the user has no such live token.
Result<bool> revokeApiToken(store::SqlSession& sql, const std::string& user_id,
                            const std::string& id, Micros now);

}  // namespace esocore::accounts
