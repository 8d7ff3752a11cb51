#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/permissions.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/sql.h"

namespace esocore::accounts {

/// A user as sign-in and the management API see it.
struct Account {
    std::string id;
    std::string email;
    std::string name;
    std::string password_hash;
    bool is_staff = false;
    bool is_active = true;
    std::string totp_secret;  // sealed; empty when TOTP was never set up
    bool totp_enabled = false;
    std::string time_zone = "UTC";
};

/// A role in one organization, for all of it or narrowed to one site or one device.
struct Membership {
    std::string id;
    std::string organization_id;
    auth::Role role = auth::Role::viewer;
    auth::Scope scope = auth::Scope::organization;
    std::string site_id;
    std::string device_id;
};

Result<std::optional<Account>> findAccountByEmail(store::SqlSession& sql, const std::string& email);
Result<std::optional<Account>> findAccount(store::SqlSession& sql, const std::string& user_id);

/// The user's memberships, organization-wide ones first.
Result<std::vector<Membership>> membershipsOf(store::SqlSession& sql, const std::string& user_id);

Result<void> setPasswordHash(store::SqlSession& sql, const std::string& user_id,
                             const std::string& hash, Micros now);

/// Stores a sealed TOTP secret (empty clears it) and whether it is in force.
Result<void> setTotp(store::SqlSession& sql, const std::string& user_id,
                     const std::string& sealed_secret, bool enabled, Micros now);

}  // namespace esocore::accounts
