#include "accounts/users.h"

namespace esocore::accounts {

namespace {

constexpr const char* kAccountColumns =
    "id, email, name, password_hash, is_staff, is_active, coalesce(totp_secret, ''), "
    "totp_enabled, time_zone";

Account readAccount(const store::SqlRow& row) {
    Account a;
    a.id = row.text(0);
    a.email = row.text(1);
    a.name = row.text(2);
    a.password_hash = row.text(3);
    a.is_staff = row.integer(4) != 0;
    a.is_active = row.integer(5) != 0;
    a.totp_secret = row.text(6);
    a.totp_enabled = row.integer(7) != 0;
    a.time_zone = row.text(8);
    return a;
}

Result<std::optional<Account>> oneAccount(Result<std::vector<store::SqlRow>> rows) {
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<Account>();
    }
    return std::optional<Account>(readAccount(rows->front()));
}

Membership readMembership(const store::SqlRow& row) {
    Membership m;
    m.id = row.text(0);
    m.organization_id = row.text(1);
    m.role = auth::parseRole(row.text(2)).value_or(auth::Role::viewer);
    m.site_id = row.text(3);
    m.device_id = row.text(4);
    if (!m.device_id.empty()) {
        m.scope = auth::Scope::device;
    } else if (!m.site_id.empty()) {
        m.scope = auth::Scope::site;
    }
    return m;
}

}  // namespace

Result<std::optional<Account>> findAccountByEmail(store::SqlSession& sql,
                                                  const std::string& email) {
    return oneAccount(sql.query(
        std::string("SELECT ") + kAccountColumns + " FROM users WHERE lower(email) = lower($1)",
        {email}));
}

Result<std::optional<Account>> findAccount(store::SqlSession& sql, const std::string& user_id) {
    return oneAccount(sql.query(
        std::string("SELECT ") + kAccountColumns + " FROM users WHERE id = $1", {user_id}));
}

Result<std::vector<Membership>> membershipsOf(store::SqlSession& sql, const std::string& user_id) {
    auto rows = sql.query(
        "SELECT id, organization_id, role, coalesce(CAST(site_id AS text), ''), "
        "coalesce(CAST(device_id AS text), '') "
        "FROM memberships WHERE user_id = $1 "
        "ORDER BY (CASE WHEN site_id IS NULL AND device_id IS NULL THEN 0 ELSE 1 END), "
        "created_at, id",
        {user_id});
    if (!rows) {
        return rows.takeError();
    }
    std::vector<Membership> memberships;
    memberships.reserve(rows->size());
    for (const auto& row : *rows) {
        memberships.push_back(readMembership(row));
    }
    return memberships;
}

Result<void> setPasswordHash(store::SqlSession& sql, const std::string& user_id,
                             const std::string& hash, Micros now) {
    auto updated = sql.execute("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3",
                               {hash, now, user_id});
    if (!updated) {
        return updated.takeError();
    }
    return {};
}

Result<void> setTotp(store::SqlSession& sql, const std::string& user_id,
                     const std::string& sealed_secret, bool enabled, Micros now) {
    auto updated = sql.execute(
        "UPDATE users SET totp_secret = $1, totp_enabled = $2, updated_at = $3 WHERE id = $4",
        {store::textOrNull(sealed_secret), std::int64_t{enabled ? 1 : 0}, now, user_id});
    if (!updated) {
        return updated.takeError();
    }
    return {};
}

}  // namespace esocore::accounts
