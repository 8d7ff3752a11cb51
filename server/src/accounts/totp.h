#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounts/keys.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/sql.h"

namespace esocore::accounts {

/// TOTP secrets (RFC 6238: SHA-1, 6 digits, 30 s) kept sealed with a key derived from the
/// server's secret key, and the recovery codes that stand in for a lost authenticator.
class Totp {
public:
    explicit Totp(std::string_view secret_key)
        : seal_key_(deriveKey(secret_key, "totp-seal")),
          recovery_key_(deriveKey(secret_key, "totp-recovery")) {}

    /// A new random secret (raw bytes).
    static std::string newSecret();
    /// The secret in base32, as authenticator apps take it.
    static std::string base32(std::string_view secret);
    /// otpauth://totp/ISSUER:EMAIL?secret=...&issuer=ISSUER for a QR code.
    static std::string uri(std::string_view issuer, std::string_view email,
                           std::string_view secret);
    /// The time step that `code` belongs to, within one step of `now`, if it matches.
    static std::optional<std::uint64_t> match(std::string_view secret, std::string_view code,
                                              Micros now);

    std::string seal(std::string_view secret) const;
    Result<std::string> open(std::string_view sealed) const;

    /// Ten new single-use codes, replacing the user's earlier ones; the codes are returned
    /// once, only their keyed hashes are stored.
    Result<std::vector<std::string>> replaceRecoveryCodes(store::SqlSession& sql,
                                                          const std::string& user_id,
                                                          Micros now) const;
    /// Uses up one recovery code; false when it is unknown or was used.
    Result<bool> useRecoveryCode(store::SqlSession& sql, const std::string& user_id,
                                 std::string_view code, Micros now) const;

private:
    Key seal_key_;
    Key recovery_key_;
};

/// Accepts TOTP step `step` for the user when no later or equal step was accepted, so that
/// one code signs in once.
Result<bool> claimTotpStep(store::SqlSession& sql, const std::string& user_id, std::uint64_t step);

}  // namespace esocore::accounts
