#pragma once

#include <string>

#include "accounts/audit_log.h"
#include "accounts/totp.h"
#include "accounts/users.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/sql.h"

namespace esocore::accounts {

/// How many failed sign-ins are allowed within the window, per account and per address.
struct SignInLimits {
    int per_account = 5;
    int per_address = 20;
    Micros window = Micros{15} * 60'000'000;
};

/// What a person presents to sign in.
struct Credentials {
    std::string email;
    std::string password;
    std::string totp_code;
    std::string recovery_code;
};

/// Checks credentials with throttling, records the attempt and writes the audit log.
class SignIn {
public:
    SignIn(store::SqlSession& sql, const Totp& totp, SignInLimits limits = {});

    /// The account on success. Failures: 429 too_many_attempts (with `retry_after` set, in
    /// seconds), 401 invalid_credentials, 401 totp_required, 401 invalid_totp_code,
    /// 401 invalid_recovery_code. `from.user_id` is filled here.
    Result<Account> attempt(const Credentials& credentials, Actor from, Micros now,
                            int& retry_after);

private:
    Result<int> throttled(const std::string& email, const std::string& address, Micros now);
    Result<void> secondFactor(const Account& account, const Credentials& credentials, Micros now);
    Result<void> recordAttempt(const std::string& email, const Actor& from, bool succeeded,
                               Micros now);
    Error fail(Error error, const std::string& email, const Actor& from, Micros now);

    store::SqlSession& sql_;
    const Totp& totp_;
    SignInLimits limits_;
    std::string dummy_hash_;
};

}  // namespace esocore::accounts
