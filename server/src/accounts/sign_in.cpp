#include "accounts/sign_in.h"

#include <algorithm>
#include <cctype>

#include "core/crypto.h"
#include "core/log.h"

namespace esocore::accounts {

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

Error unauthorized(std::string code, std::string message) {
    return Error{401, std::move(code), std::move(message), {}};
}

}  // namespace

SignIn::SignIn(store::SqlSession& sql, const Totp& totp, SignInLimits limits)
    : sql_(sql), totp_(totp), limits_(limits), dummy_hash_(hashPassword(randomToken(16))) {}

// Seconds until the caller may try again, or 0 when not throttled. Failures of an account
// count since its last success; failures from an address count regardless, so that one
// account of the attacker's own cannot reset the address.
Result<int> SignIn::throttled(const std::string& email, const std::string& address, Micros now) {
    Micros since = now - limits_.window;
    auto rows = sql_.query(
        "SELECT count(*), coalesce(min(created_at), 0) FROM sign_in_attempts "
        "WHERE email = $1 AND succeeded = 0 AND created_at > $2 AND created_at > coalesce("
        "(SELECT max(created_at) FROM sign_in_attempts WHERE email = $1 AND succeeded = 1), 0) "
        "UNION ALL "
        "SELECT count(*), coalesce(min(created_at), 0) FROM sign_in_attempts "
        "WHERE ip_address = $3 AND succeeded = 0 AND created_at > $2",
        {email, since, address});
    if (!rows) {
        return rows.takeError();
    }
    const std::int64_t limits[] = {limits_.per_account, limits_.per_address};
    Micros until = 0;
    for (std::size_t i = 0; i < rows->size() && i < 2; ++i) {
        if (rows->at(i).integer(0) >= limits[i]) {
            until = std::max(until, rows->at(i).integer(1) + limits_.window);
        }
    }
    if (until <= now) {
        return 0;
    }
    return static_cast<int>(std::max<Micros>(1, (until - now + 999'999) / 1'000'000));
}

Result<void> SignIn::recordAttempt(const std::string& email, const Actor& from, bool succeeded,
                                   Micros now) {
    auto inserted = sql_.execute(
        "INSERT INTO sign_in_attempts(id, email, ip_address, succeeded, created_at) "
        "VALUES($1, $2, $3, $4, $5)",
        {newUuid(), email, from.ip_address, std::int64_t{succeeded ? 1 : 0}, now});
    if (!inserted) {
        return inserted.takeError();
    }
    return {};
}

// Records a failed attempt and its audit entry, then hands back `error` for the caller.
Error SignIn::fail(Error error, const std::string& email, const Actor& from, Micros now) {
    auto recorded = recordAttempt(email, from, false, now);
    auto audited = recordAudit(
        sql_, from, {"sign_in.failed", "user", from.user_id, email + ": " + error.code}, now);
    if (!recorded || !audited) {
        return recorded ? audited.takeError() : recorded.takeError();
    }
    return error;
}

Result<void> SignIn::secondFactor(const Account& account, const Credentials& credentials,
                                  Micros now) {
    if (!credentials.recovery_code.empty()) {
        auto used = totp_.useRecoveryCode(sql_, account.id, credentials.recovery_code, now);
        if (!used) {
            return used.takeError();
        }
        if (!*used) {
            return unauthorized("invalid_recovery_code", "the recovery code is not valid");
        }
        return {};
    }
    if (credentials.totp_code.empty()) {
        return unauthorized("totp_required", "enter the code from your authenticator app");
    }
    auto secret = totp_.open(account.totp_secret);
    if (!secret) {
        return secret.takeError();
    }
    auto step = Totp::match(*secret, credentials.totp_code, now);
    auto fresh = step ? claimTotpStep(sql_, account.id, *step) : Result<bool>(false);
    if (!fresh) {
        return fresh.takeError();
    }
    if (!*fresh) {
        return unauthorized("invalid_totp_code", "the authenticator code is not valid");
    }
    return {};
}

Result<Account> SignIn::attempt(const Credentials& credentials, Actor from, Micros now,
                                int& retry_after) {
    std::string email = lowercase(credentials.email);
    auto wait = throttled(email, from.ip_address, now);
    if (!wait) {
        return wait.takeError();
    }
    if (*wait > 0) {
        // Not counted as a failure: the wait would otherwise never end under a steady attack.
        retry_after = *wait;
        if (auto ok = recordAudit(sql_, from, {"sign_in.throttled", "user", "", email}, now); !ok) {
            return ok.takeError();
        }
        return Error{429, "too_many_attempts", "too many failed sign-ins; try again later", {}};
    }
    auto found = findAccountByEmail(sql_, email);
    if (!found) {
        return found.takeError();
    }
    if (!*found) {
        (void)verifyPassword(dummy_hash_, credentials.password);  // as long as for a known one
        return fail(unauthorized("invalid_credentials", "wrong email or password"), email, from,
                    now);
    }
    const Account& account = **found;
    from.user_id = account.id;
    if (!verifyPassword(account.password_hash, credentials.password) || !account.is_active) {
        return fail(unauthorized("invalid_credentials", "wrong email or password"), email, from,
                    now);
    }
    if (account.totp_enabled) {
        if (auto ok = secondFactor(account, credentials, now); !ok) {
            Error error = ok.takeError();
            // Without a code the password was right: ask for the code, count no failure.
            return error.code == "totp_required" ? error : fail(std::move(error), email, from, now);
        }
    }
    if (auto ok = recordAttempt(email, from, true, now); !ok) {
        return ok.takeError();
    }
    if (auto ok = recordAudit(sql_, from, {"sign_in.succeeded", "user", account.id, email}, now);
        !ok) {
        return ok.takeError();
    }
    return account;
}

}  // namespace esocore::accounts
