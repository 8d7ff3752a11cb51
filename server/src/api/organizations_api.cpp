#include "api/organizations_api.h"

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "api/list_filters.h"
#include "api/pagination.h"
#include "api/request_body.h"
#include "core/crypto.h"
#include "http/response.h"

namespace esocore::api {

namespace json = boost::json;
using auth::Action;
using auth::Role;
using http::errorResponse;
using http::jsonResponse;
using http::Request;
using http::Response;

namespace {

constexpr std::size_t kMaxNameLength = 200;
constexpr std::size_t kMaxEmailLength = 254;
constexpr std::size_t kMinPasswordLength = 10;
constexpr std::size_t kMaxPasswordLength = 200;
constexpr std::size_t kOneTimePasswordBytes = 12;
// Not constexpr: GCC 12 refuses a constexpr initializer_list at namespace scope.
const std::initializer_list<std::string_view> kRoles{"owner", "admin", "operator", "technician",
                                                     "viewer"};

using Handler = Response (*)(const ApiContext&, const Request&, const Principal&);

Response noContent() {
    Response response;
    response.status = 204;
    return response;
}

json::value nullable(const std::string& text) {
    return text.empty() ? json::value(nullptr) : json::value(text);
}

// ---------------------------------------------------------------------------------------
// Rules about roles that the permission table alone does not express.

bool isOwner(const Principal& principal, const std::string& organization_id) {
    if (principal.user.is_staff) {
        return true;
    }
    return std::any_of(principal.memberships.begin(), principal.memberships.end(),
                       [&](const accounts::Membership& m) {
                           return m.organization_id == organization_id &&
                                  m.scope == auth::Scope::organization && m.role == Role::owner;
                       });
}

Error ownerRequired() {
    return Error{403, "owner_required", "only an owner of the organization may do this", {}};
}

Error ownRole() {
    return Error{403, "own_role", "you cannot change your own role", {}};
}

Error ownAccount() {
    return Error{403, "own_account", "you cannot deactivate or remove your own account", {}};
}

Error lastOwner() {
    return Error{409,
                 "last_owner",
                 "the organization would have no owner left; make someone else owner first",
                 {}};
}

// Serializes membership changes of one organization on PostgreSQL (a row lock until the
// transaction ends), so that two concurrent demotions cannot both see another owner left.
// SQLite transactions already hold the one writer.
Result<void> lockOrganization(store::SqlSession& tx, const std::string& organization_id) {
    auto locked = tx.execute("UPDATE organizations SET updated_at = updated_at WHERE id = $1",
                             {organization_id});
    if (!locked) {
        return locked.takeError();
    }
    return {};
}

// 409 last_owner unless the organization keeps an active, organization-wide owner besides
// membership `except_id` (or besides every membership of user `except_user`).
Result<void> keepsAnOwner(store::SqlSession& tx, const std::string& organization_id,
                          const std::string& except_membership, const std::string& except_user) {
    store::SqlParams params{organization_id, std::int64_t{1}};
    std::string sql =
        "SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id "
        "WHERE m.organization_id = $1 AND u.is_active = $2 AND m.role = 'owner' "
        "AND m.site_id IS NULL AND m.device_id IS NULL";
    if (!except_membership.empty()) {
        sql.append(" AND m.id <> ").append(addParam(params, except_membership));
    }
    if (!except_user.empty()) {
        sql.append(" AND m.user_id <> ").append(addParam(params, except_user));
    }
    auto rows = tx.query(sql, params);
    if (!rows) {
        return rows.takeError();
    }
    if (rows->front().integer(0) == 0) {
        return lastOwner();
    }
    return {};
}

// ---------------------------------------------------------------------------------------
// Memberships as rows and JSON.

struct MembershipRow {
    std::string id;
    std::string user_id;
    std::string organization_id;
    std::string role;
    std::string site_id;
    std::string device_id;
    Micros created_at = 0;
    std::string email;
    std::string name;

    bool organizationWide() const { return site_id.empty() && device_id.empty(); }
};

constexpr const char* kMembershipSelect =
    "SELECT m.id, m.user_id, m.organization_id, m.role, m.site_id, m.device_id, m.created_at, "
    "u.email, u.name FROM memberships m JOIN users u ON u.id = m.user_id";
constexpr std::size_t kMembershipColumnCount = 9;

MembershipRow readMembership(const store::SqlRow& row) {
    return MembershipRow{row.text(0), row.text(1),    row.text(2), row.text(3), row.text(4),
                         row.text(5), row.integer(6), row.text(7), row.text(8)};
}

json::object membershipJson(const MembershipRow& m) {
    std::string_view scope = !m.device_id.empty() ? "device"
                             : !m.site_id.empty() ? "site"
                                                  : "organization";
    return json::object{{"id", m.id},
                        {"user_id", m.user_id},
                        {"user_email", m.email},
                        {"user_name", m.name},
                        {"organization_id", m.organization_id},
                        {"role", m.role},
                        {"scope", scope},
                        {"site_id", nullable(m.site_id)},
                        {"device_id", nullable(m.device_id)},
                        {"created_at", formatRfc3339Millis(m.created_at)}};
}

Result<std::vector<MembershipRow>> queryMemberships(store::SqlSession& sql,
                                                    const std::string& condition,
                                                    const store::SqlParams& params) {
    auto rows = sql.query(
        std::string(kMembershipSelect) + " WHERE " + condition + " ORDER BY m.created_at, m.id",
        params);
    if (!rows) {
        return rows.takeError();
    }
    std::vector<MembershipRow> out;
    for (const auto& row : *rows) {
        out.push_back(readMembership(row));
    }
    return out;
}

Result<std::optional<MembershipRow>> findMembership(store::SqlSession& sql, const std::string& id) {
    if (id.empty()) {
        return std::optional<MembershipRow>();
    }
    auto rows = queryMemberships(sql, "m.id = $1", {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<MembershipRow>();
    }
    return std::optional<MembershipRow>(std::move(rows->front()));
}

// The condition on `m` that keeps the memberships the caller may list: all for staff, those
// of organizations where it may read members, and its own.
std::string visibleMemberships(const Principal& principal, store::SqlParams& params) {
    if (principal.user.is_staff) {
        return "1 = 1";
    }
    std::string allowed = allowedRows(principal, Action::member_read,
                                      ScopeColumns{"m.organization_id", {}, {}}, params);
    return "(" + allowed + " OR m.user_id = " + addParam(params, principal.user.id) + ")";
}

// Narrowing of a membership: the site or device must belong to the organization.
void checkNarrowing(store::SqlSession& sql, BodyReader& body, const std::string& organization_id,
                    const std::string& site_id, const std::string& device_id) {
    if (!site_id.empty() && !device_id.empty()) {
        body.fail("device_id", "narrow to a site or to a device, not both");
        return;
    }
    auto belongs = [&](const char* table, const std::string& id, const char* field) {
        if (id.empty()) {
            return;
        }
        auto rows = sql.query(std::string("SELECT count(*) FROM ") + table +
                                  " WHERE id = $1 AND organization_id = $2",
                              {id, organization_id});
        if (!rows || rows->front().integer(0) == 0) {
            body.fail(field, std::string("no such ") + (table[0] == 's' ? "site" : "device") +
                                 " in this organization");
        }
    };
    belongs("sites", site_id, "site_id");
    belongs("devices", device_id, "device_id");
}

// ---------------------------------------------------------------------------------------
// Organizations.

constexpr const char* kOrganizationSelect =
    "SELECT o.id, o.name, o.created_at, o.updated_at, "
    "(SELECT count(*) FROM sites s WHERE s.organization_id = o.id), "
    "(SELECT count(*) FROM devices d WHERE d.organization_id = o.id), "
    "(SELECT count(DISTINCT m.user_id) FROM memberships m WHERE m.organization_id = o.id)";
constexpr std::size_t kOrganizationColumnCount = 7;

json::object organizationJson(const store::SqlRow& row) {
    return json::object{{"id", row.text(0)},
                        {"name", row.text(1)},
                        {"site_count", row.integer(4)},
                        {"device_count", row.integer(5)},
                        {"member_count", row.integer(6)},
                        {"created_at", formatRfc3339Millis(row.integer(2))},
                        {"updated_at", formatRfc3339Millis(row.integer(3))}};
}

Error organizationNameTaken() {
    return Error{409,
                 "name_taken",
                 "another organization has this name",
                 {{"name", "already used by another organization"}}};
}

Result<std::optional<store::SqlRow>> findOrganization(store::SqlSession& sql,
                                                      const std::string& id) {
    if (id.empty()) {
        return std::optional<store::SqlRow>();
    }
    auto rows =
        sql.query(std::string(kOrganizationSelect) + " FROM organizations o WHERE o.id = $1", {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return std::optional<store::SqlRow>();
    }
    return std::optional<store::SqlRow>(std::move(rows->front()));
}

Result<store::SqlRow> organizationFor(const ApiContext& context, const Request& request,
                                      const Principal& principal, Action action) {
    std::string id = canonicalId(request.param("id"));
    auto found = findOrganization(context.sql, id);
    if (!found) {
        return found.takeError();
    }
    if (!*found) {
        return notFound("organization");
    }
    if (auto allowed = require(principal, action, Target{id, {}, {}}, "organization"); !allowed) {
        return allowed.takeError();
    }
    return std::move(**found);
}

Response answerOrganization(const ApiContext& context, int status, const std::string& id) {
    auto found = findOrganization(context.sql, id);
    if (!found) {
        return errorResponse(found.error());
    }
    if (!*found) {
        return errorResponse(notFound("organization"));
    }
    return jsonResponse(status, organizationJson(**found));
}

Result<void> checkOrganizationNameFree(store::SqlSession& tx, const std::string& name,
                                       const std::string& id) {
    auto rows =
        tx.query("SELECT count(*) FROM organizations WHERE lower(name) = lower($1) AND id <> $2",
                 {name, id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->front().integer(0) > 0) {
        return organizationNameTaken();
    }
    return {};
}

Response listOrganizations(const ApiContext& context, const Request& request,
                           const Principal& principal) {
    auto page = Page::parse(request, {{"name", "o.name"}, {"created_at", "o.created_at", true}},
                            "name", "o.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string sql = std::string(kOrganizationSelect) + ", " + page->sortColumn() +
                      " FROM organizations o WHERE ";
    if (principal.user.is_staff) {
        sql.append("1 = 1");
    } else {
        sql.append("o.id IN (SELECT organization_id FROM memberships WHERE user_id = ")
            .append(addParam(params, principal.user.id))
            .append(")");
    }
    sql.append(searchCondition(request, {"o.name"}, params));
    sql.append(page->where(params)).append(page->orderAndLimit());
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(organizationJson(row));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kOrganizationColumnCount, 0));
}

Response getOrganization(const ApiContext& context, const Request& request,
                         const Principal& principal) {
    auto found = organizationFor(context, request, principal, Action::organization_read);
    if (!found) {
        return errorResponse(found.error());
    }
    return jsonResponse(200, organizationJson(*found));
}

// Staff only: a new organization, optionally with an existing user as its first owner.
Response createOrganization(const ApiContext& context, const Request& request,
                            const Principal& principal) {
    if (!principal.user.is_staff) {
        return errorResponse(permissionDenied());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto name =
        body.text("name", {.required = true, .max_length = kMaxNameLength, .allow_empty = false});
    auto owner_email = body.text("owner_email", {.max_length = kMaxEmailLength});
    body.rejectUnknown({"name", "owner_email"});
    std::optional<accounts::Account> owner;
    if (owner_email && !owner_email->empty()) {
        auto found = accounts::findAccountByEmail(context.sql, *owner_email);
        if (!found) {
            return errorResponse(found.error());
        }
        owner = std::move(*found);
        if (!owner) {
            body.fail("owner_email", "no user has this email; create the user first");
        }
    }
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }

    std::string id = newUuid();
    Micros now = nowMicros();
    auto created = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto free = checkOrganizationNameFree(tx, *name, id); !free) {
            return free;
        }
        auto inserted = tx.execute(
            "INSERT INTO organizations (id, name, created_at, updated_at) VALUES ($1, $2, $3, $4)",
            {id, *name, now, now});
        if (!inserted) {
            return inserted.error().code == "conflict" ? organizationNameTaken()
                                                       : inserted.takeError();
        }
        if (auto logged = audit(
                tx, principal, request, id,
                {"organization.created", "organization", id, "organization " + *name + " created"});
            !logged) {
            return logged;
        }
        if (!owner) {
            return {};
        }
        std::string membership = newUuid();
        auto added = tx.execute(
            "INSERT INTO memberships (id, user_id, organization_id, role, created_at) "
            "VALUES ($1, $2, $3, 'owner', $4)",
            {membership, owner->id, id, now});
        if (!added) {
            return added.takeError();
        }
        return audit(tx, principal, request, id,
                     {"membership.created", "membership", membership, owner->email + " as owner"});
    });
    if (!created) {
        return errorResponse(created.error());
    }
    return answerOrganization(context, 201, id);
}

Response updateOrganization(const ApiContext& context, const Request& request,
                            const Principal& principal) {
    auto found = organizationFor(context, request, principal, Action::organization_update);
    if (!found) {
        return errorResponse(found.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto name = body.text("name", {.max_length = kMaxNameLength, .allow_empty = false});
    body.rejectUnknown({"name"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    std::string id = found->text(0);
    if (!name || *name == found->text(1)) {
        return jsonResponse(200, organizationJson(*found));
    }
    auto updated = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto free = checkOrganizationNameFree(tx, *name, id); !free) {
            return free;
        }
        auto done = tx.execute("UPDATE organizations SET name = $1, updated_at = $2 WHERE id = $3",
                               {*name, nowMicros(), id});
        if (!done) {
            return done.error().code == "conflict" ? organizationNameTaken() : done.takeError();
        }
        return audit(tx, principal, request, id,
                     {"organization.updated", "organization", id,
                      "renamed from " + found->text(1) + " to " + *name});
    });
    if (!updated) {
        return errorResponse(updated.error());
    }
    return answerOrganization(context, 200, id);
}

// Deleting an organization deletes its sites, members, assets and settings with it; its
// devices must be moved or deleted first, so that no device loses its owner unnoticed.
Response deleteOrganization(const ApiContext& context, const Request& request,
                            const Principal& principal) {
    auto found = organizationFor(context, request, principal, Action::organization_delete);
    if (!found) {
        return errorResponse(found.error());
    }
    std::string id = found->text(0);
    auto deleted = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto devices = tx.query("SELECT count(*) FROM devices WHERE organization_id = $1", {id});
        if (!devices) {
            return devices.takeError();
        }
        if (std::int64_t count = devices->front().integer(0); count > 0) {
            return Error{409,
                         "organization_not_empty",
                         std::to_string(count) +
                             " device(s) belong to this organization; delete or move them first",
                         {}};
        }
        if (auto gone = tx.execute("DELETE FROM organizations WHERE id = $1", {id}); !gone) {
            return gone.takeError();
        }
        return audit(tx, principal, request, id,
                     {"organization.deleted", "organization", id,
                      "organization " + found->text(1) + " deleted"});
    });
    if (!deleted) {
        return errorResponse(deleted.error());
    }
    return noContent();
}

// ---------------------------------------------------------------------------------------
// Users.

constexpr const char* kUserColumns =
    "u.id, u.email, u.name, u.time_zone, u.is_active, u.is_staff, u.created_at, u.updated_at";
constexpr std::size_t kUserColumnCount = 8;

json::object userJson(const store::SqlRow& row, json::array memberships) {
    return json::object{{"id", row.text(0)},
                        {"email", row.text(1)},
                        {"name", row.text(2)},
                        {"time_zone", row.text(3)},
                        {"is_active", row.integer(4) != 0},
                        {"is_staff", row.integer(5) != 0},
                        {"memberships", std::move(memberships)},
                        {"created_at", formatRfc3339Millis(row.integer(6))},
                        {"updated_at", formatRfc3339Millis(row.integer(7))}};
}

bool validEmail(const std::string& email) {
    std::size_t at = email.find('@');
    return at != std::string::npos && at > 0 && at + 1 < email.size() &&
           email.find('@', at + 1) == std::string::npos &&
           email.find_first_of(" \t\r\n") == std::string::npos;
}

// The caller's view of a user: itself and staff see every membership, others those of the
// organizations where they may read members.
bool membershipVisible(const Principal& principal, const MembershipRow& m) {
    return principal.user.is_staff || m.user_id == principal.user.id ||
           mayPerform(principal, Action::member_read, Target{m.organization_id, {}, {}});
}

// Whether the caller may change the user's account (name, time zone, active): staff, or an
// organization-wide member_manage in every organization the user belongs to, as an owner
// where the user is one.
bool managesUser(const Principal& principal, const std::vector<MembershipRow>& memberships) {
    if (principal.user.is_staff) {
        return true;
    }
    if (memberships.empty()) {
        return false;
    }
    return std::all_of(memberships.begin(), memberships.end(), [&](const MembershipRow& m) {
        return mayPerform(principal, Action::member_manage, Target{m.organization_id, {}, {}}) &&
               (m.role != "owner" || isOwner(principal, m.organization_id));
    });
}

// A user the caller may see, with all of its memberships.
struct UserView {
    store::SqlRow row;
    std::vector<MembershipRow> memberships;
};

Result<UserView> userFor(const ApiContext& context, const Request& request,
                         const Principal& principal) {
    std::string id = canonicalId(request.param("id"));
    if (id.empty()) {
        return notFound("user");
    }
    auto rows = context.sql.query(
        std::string("SELECT ") + kUserColumns + " FROM users u WHERE u.id = $1", {id});
    if (!rows) {
        return rows.takeError();
    }
    if (rows->empty()) {
        return notFound("user");
    }
    auto memberships = queryMemberships(context.sql, "m.user_id = $1", {id});
    if (!memberships) {
        return memberships.takeError();
    }
    bool visible = principal.user.is_staff || id == principal.user.id ||
                   std::any_of(memberships->begin(), memberships->end(),
                               [&](const auto& m) { return membershipVisible(principal, m); });
    if (!visible) {
        return notFound("user");
    }
    return UserView{std::move(rows->front()), std::move(*memberships)};
}

json::object userViewJson(const Principal& principal, const UserView& user) {
    json::array memberships;
    for (const auto& m : user.memberships) {
        if (membershipVisible(principal, m)) {
            memberships.push_back(membershipJson(m));
        }
    }
    return userJson(user.row, std::move(memberships));
}

Response answerUser(const ApiContext& context, const Request& request, const Principal& principal,
                    int status, json::object extra = {}) {
    auto user = userFor(context, request, principal);
    if (!user) {
        return errorResponse(user.error());
    }
    json::object body = userViewJson(principal, *user);
    for (auto& [key, value] : extra) {
        body[key] = value;
    }
    return jsonResponse(status, body);
}

// The memberships of the listed users that the caller may see, by user id.
Result<std::map<std::string, json::array>> membershipsByUser(
    store::SqlSession& sql, const Principal& principal, const std::vector<store::SqlRow>& users) {
    std::map<std::string, json::array> out;
    if (users.empty()) {
        return out;
    }
    store::SqlParams params;
    std::string ids;
    for (const auto& row : users) {
        ids.append(ids.empty() ? "" : ", ").append(addParam(params, row.text(0)));
    }
    std::string condition =
        "m.user_id IN (" + ids + ") AND " + visibleMemberships(principal, params);
    auto rows = queryMemberships(sql, condition, params);
    if (!rows) {
        return rows.takeError();
    }
    for (const auto& m : *rows) {
        out[m.user_id].push_back(membershipJson(m));
    }
    return out;
}

// The users list's conditions on each user's memberships, as one EXISTS, or empty when
// nothing restricts them (staff without filters).
Result<std::string> userMembershipFilter(const Request& request, const Principal& principal,
                                         store::SqlParams& params) {
    std::string conditions;
    if (!principal.user.is_staff) {
        conditions.append(" AND ").append(allowedRows(
            principal, Action::member_read, ScopeColumns{"m.organization_id", {}, {}}, params));
    }
    auto organization = idFilter(request, "organization_id", "m.organization_id", params);
    if (!organization) {
        return organization.takeError();
    }
    auto role = choiceFilter(request, "role", "m.role", kRoles, params);
    if (!role) {
        return role.takeError();
    }
    conditions.append(*organization).append(*role);
    if (conditions.empty()) {
        return std::string();
    }
    return "EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id" + conditions + ")";
}

Response listUsers(const ApiContext& context, const Request& request, const Principal& principal) {
    auto page = Page::parse(
        request, {{"email", "u.email"}, {"name", "u.name"}, {"created_at", "u.created_at", true}},
        "email", "u.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    auto memberships = userMembershipFilter(request, principal, params);
    if (!memberships) {
        return errorResponse(memberships.error());
    }
    std::string sql = std::string("SELECT ") + kUserColumns + ", " + page->sortColumn() +
                      " FROM users u WHERE " + (memberships->empty() ? "1 = 1" : *memberships);
    auto active = booleanFilter(request, "is_active", "u.is_active", params);
    if (!active) {
        return errorResponse(active.error());
    }
    sql.append(*active).append(searchCondition(request, {"u.email", "u.name"}, params));
    sql.append(page->where(params)).append(page->orderAndLimit());
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    auto grouped = membershipsByUser(context.sql, principal, *rows);
    if (!grouped) {
        return errorResponse(grouped.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(userJson(row, std::move((*grouped)[row.text(0)])));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kUserColumnCount, 0));
}

Response getUser(const ApiContext& context, const Request& request, const Principal& principal) {
    return answerUser(context, request, principal, 200);
}

// The membership a new user or membership is to get, read from the body.
struct Grant {
    std::string organization_id;
    std::string role;
    std::string site_id;
    std::string device_id;
};

// Reads organization_id (into the organization where the caller may manage members), role
// and the optional narrowing. Errors beyond the body's fields: 404/403 for the organization,
// 403 owner_required for an owner granted by a non-owner.
Result<Grant> readGrant(const ApiContext& context, const Principal& principal, BodyReader& body) {
    auto requested = bodyId(body, "organization_id");
    if (auto checked = body.result(); !checked) {
        return checked.takeError();
    }
    auto organization = targetOrganization(principal, Action::member_manage, requested);
    if (!organization) {
        return organization.takeError();
    }
    Grant grant{*organization, {}, {}, {}};
    grant.role = body.choice("role", kRoles, true).value_or("");
    grant.site_id = bodyId(body, "site_id").value_or("");
    grant.device_id = bodyId(body, "device_id").value_or("");
    if (grant.role == "owner" && !isOwner(principal, grant.organization_id)) {
        return ownerRequired();
    }
    if (grant.role == "owner" && (!grant.site_id.empty() || !grant.device_id.empty())) {
        body.fail("role", "an owner covers the whole organization; do not narrow it");
    }
    checkNarrowing(context.sql, body, grant.organization_id, grant.site_id, grant.device_id);
    return grant;
}

Result<void> insertMembership(store::SqlSession& tx, const Principal& principal,
                              const Request& request, const std::string& id,
                              const std::string& user_id, const std::string& email,
                              const Grant& grant) {
    auto duplicate = tx.query(
        "SELECT count(*) FROM memberships WHERE user_id = $1 AND organization_id = $2 AND "
        "coalesce(CAST(site_id AS text), '') = $3 AND coalesce(CAST(device_id AS text), '') = $4",
        {user_id, grant.organization_id, grant.site_id, grant.device_id});
    if (!duplicate) {
        return duplicate.takeError();
    }
    Error exists{409, "membership_exists", "this user already has this membership", {}};
    if (duplicate->front().integer(0) > 0) {
        return exists;
    }
    auto inserted = tx.execute(
        "INSERT INTO memberships (id, user_id, organization_id, role, site_id, device_id, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {id, user_id, grant.organization_id, grant.role, store::textOrNull(grant.site_id),
         store::textOrNull(grant.device_id), nowMicros()});
    if (!inserted) {
        return inserted.error().code == "conflict" ? exists : inserted.takeError();
    }
    return audit(tx, principal, request, grant.organization_id,
                 {"membership.created", "membership", id, email + " as " + grant.role});
}

Error emailTaken() {
    return Error{409,
                 "email_taken",
                 "a user has this email; add a membership for it instead",
                 {{"email", "already registered"}}};
}

// The account fields of a new user, as read from the body.
struct NewAccount {
    std::string email;
    std::string name;
    std::string time_zone;
    std::optional<std::string> password;
};

NewAccount readNewAccount(BodyReader& body) {
    NewAccount account;
    auto email = body.text("email", {.required = true, .max_length = kMaxEmailLength});
    if (email && !validEmail(*email)) {
        body.fail("email", "must be an email address");
    }
    account.email = email.value_or("");
    account.name = body.text("name", {.max_length = kMaxNameLength}).value_or("");
    account.time_zone = body.timeZone("time_zone").value_or("UTC");
    account.password = body.text("password", {.max_length = kMaxPasswordLength});
    if (account.password && account.password->size() < kMinPasswordLength) {
        body.fail("password", "at least " + std::to_string(kMinPasswordLength) + " characters");
    }
    return account;
}

Result<void> insertUser(store::SqlSession& tx, const Principal& principal, const Request& request,
                        const std::string& id, const NewAccount& account, const std::string& hash,
                        const Grant& grant) {
    Micros now = nowMicros();
    auto inserted = tx.execute(
        "INSERT INTO users (id, email, name, password_hash, time_zone, created_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        {id, account.email, account.name, hash, account.time_zone, now, now});
    if (!inserted) {
        return inserted.error().code == "conflict" ? emailTaken() : inserted.takeError();
    }
    if (auto logged = audit(tx, principal, request, grant.organization_id,
                            {"user.created", "user", id, account.email + " created"});
        !logged) {
        return logged;
    }
    return insertMembership(tx, principal, request, newUuid(), id, account.email, grant);
}

// A new user with a first membership. Without a password in the body, a generated one is
// answered once as `one_time_password`.
Response createUser(const ApiContext& context, const Request& request, const Principal& principal) {
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto grant = readGrant(context, principal, body);
    if (!grant) {
        return errorResponse(grant.error());
    }
    NewAccount account = readNewAccount(body);
    body.rejectUnknown({"email", "name", "time_zone", "password", "organization_id", "role",
                        "site_id", "device_id"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    auto existing = accounts::findAccountByEmail(context.sql, account.email);
    if (!existing) {
        return errorResponse(existing.error());
    }
    if (*existing) {
        return errorResponse(emailTaken());
    }

    std::string secret = account.password.value_or(randomToken(kOneTimePasswordBytes));
    std::string hash = hashPassword(secret);  // Argon2id: slow by design
    std::string id = newUuid();
    auto created = context.sql.transaction([&](store::SqlSession& tx) {
        return insertUser(tx, principal, request, id, account, hash, *grant);
    });
    if (!created) {
        return errorResponse(created.error());
    }
    Request self = request;
    self.params = {{"id", id}};
    json::value shown = account.password ? json::value(nullptr) : json::value(secret);
    return answerUser(context, self, principal, 201, {{"one_time_password", shown}});
}

// One audit entry per organization of the user, so that each organization's log shows it.
Result<void> auditUser(store::SqlSession& tx, const Principal& principal, const Request& request,
                       const UserView& user, const std::string& action,
                       const std::string& summary) {
    std::vector<std::string> organizations;
    for (const auto& m : user.memberships) {
        if (std::find(organizations.begin(), organizations.end(), m.organization_id) ==
            organizations.end()) {
            organizations.push_back(m.organization_id);
        }
    }
    if (organizations.empty()) {
        organizations.emplace_back();
    }
    for (const auto& organization : organizations) {
        if (auto logged = audit(tx, principal, request, organization,
                                {action, "user", user.row.text(0), summary});
            !logged) {
            return logged;
        }
    }
    return {};
}

// Deactivating a user must leave each of its organizations an owner.
Result<void> checkDeactivation(store::SqlSession& tx, const UserView& user) {
    for (const auto& m : user.memberships) {
        if (m.role == "owner" && m.organizationWide()) {
            if (auto kept = keepsAnOwner(tx, m.organization_id, {}, m.user_id); !kept) {
                return kept;
            }
        }
    }
    return {};
}

Result<void> setActive(store::SqlSession& tx, const Principal& principal, const Request& request,
                       const UserView& user, bool active) {
    for (const auto& m : user.memberships) {
        if (auto locked = lockOrganization(tx, m.organization_id); !locked) {
            return locked;
        }
    }
    if (!active) {
        if (auto ok = checkDeactivation(tx, user); !ok) {
            return ok;
        }
    }
    auto done = tx.execute("UPDATE users SET is_active = $1, updated_at = $2 WHERE id = $3",
                           {std::int64_t{active ? 1 : 0}, nowMicros(), user.row.text(0)});
    if (!done) {
        return done.takeError();
    }
    return auditUser(tx, principal, request, user, active ? "user.activated" : "user.deactivated",
                     user.row.text(1) + (active ? " activated" : " deactivated"));
}

// Name and time zone: the user itself or who manages it. is_active: who manages it, never
// the user itself.
Response updateUser(const ApiContext& context, const Request& request, const Principal& principal) {
    auto user = userFor(context, request, principal);
    if (!user) {
        return errorResponse(user.error());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto name = body.text("name", {.max_length = kMaxNameLength});
    auto time_zone = body.timeZone("time_zone");
    auto active = body.boolean("is_active");
    body.rejectUnknown({"name", "time_zone", "is_active"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    bool self = user->row.text(0) == principal.user.id;
    if (!self && !managesUser(principal, user->memberships)) {
        return errorResponse(permissionDenied());
    }
    bool changes_active = active && *active != (user->row.integer(4) != 0);
    if (self && changes_active) {
        return errorResponse(ownAccount());
    }

    store::SqlParams params;
    std::string sets;
    std::string changed;
    auto set = [&](const char* column, const std::string& value) {
        sets.append(sets.empty() ? "" : ", ").append(column).append(" = ");
        sets.append(addParam(params, value));
        changed.append(changed.empty() ? "" : ", ").append(column);
    };
    if (name) {
        set("name", *name);
    }
    if (time_zone) {
        set("time_zone", *time_zone);
    }
    auto updated = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (!sets.empty()) {
            sets.append(", updated_at = ").append(addParam(params, nowMicros()));
            std::string sql =
                "UPDATE users SET " + sets + " WHERE id = " + addParam(params, user->row.text(0));
            if (auto done = tx.execute(sql, params); !done) {
                return done.takeError();
            }
            if (auto logged =
                    auditUser(tx, principal, request, *user, "user.updated", "changed " + changed);
                !logged) {
                return logged;
            }
        }
        return changes_active ? setActive(tx, principal, request, *user, *active) : Result<void>();
    });
    if (!updated) {
        return errorResponse(updated.error());
    }
    return answerUser(context, request, principal, 200);
}

// Removes the user's memberships in the organizations where the caller manages members.
Result<void> removeFromOrganizations(store::SqlSession& tx, const Principal& principal,
                                     const Request& request, const UserView& user) {
    std::vector<const MembershipRow*> removed;
    for (const auto& m : user.memberships) {
        if (!mayPerform(principal, Action::member_manage, Target{m.organization_id, {}, {}})) {
            continue;
        }
        if (m.role == "owner" && !isOwner(principal, m.organization_id)) {
            return ownerRequired();
        }
        removed.push_back(&m);
    }
    if (removed.empty()) {
        return permissionDenied();
    }
    for (const MembershipRow* m : removed) {
        if (auto locked = lockOrganization(tx, m->organization_id); !locked) {
            return locked;
        }
        if (m->role == "owner" && m->organizationWide()) {
            if (auto kept = keepsAnOwner(tx, m->organization_id, {}, m->user_id); !kept) {
                return kept;
            }
        }
        if (auto gone = tx.execute("DELETE FROM memberships WHERE id = $1", {m->id}); !gone) {
            return gone.takeError();
        }
        if (auto logged = audit(tx, principal, request, m->organization_id,
                                {"membership.deleted", "membership", m->id,
                                 m->email + " removed (was " + m->role + ")"});
            !logged) {
            return logged;
        }
    }
    return {};
}

// Staff deactivate the account; others remove the user from their organizations.
Response deleteUser(const ApiContext& context, const Request& request, const Principal& principal) {
    auto user = userFor(context, request, principal);
    if (!user) {
        return errorResponse(user.error());
    }
    if (user->row.text(0) == principal.user.id) {
        return errorResponse(ownAccount());
    }
    auto done = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (principal.user.is_staff) {
            return setActive(tx, principal, request, *user, false);
        }
        return removeFromOrganizations(tx, principal, request, *user);
    });
    if (!done) {
        return errorResponse(done.error());
    }
    return noContent();
}

// ---------------------------------------------------------------------------------------
// Memberships.

Result<MembershipRow> membershipFor(const ApiContext& context, const Request& request,
                                    const Principal& principal) {
    auto found = findMembership(context.sql, canonicalId(request.param("id")));
    if (!found) {
        return found.takeError();
    }
    if (!*found) {
        return notFound("membership");
    }
    bool own = (*found)->user_id == principal.user.id;
    if (!own) {
        if (auto allowed = require(principal, Action::member_read,
                                   Target{(*found)->organization_id, {}, {}}, "membership");
            !allowed) {
            return allowed.takeError();
        }
    }
    return std::move(**found);
}

Response answerMembership(const ApiContext& context, int status, const std::string& id) {
    auto found = findMembership(context.sql, id);
    if (!found) {
        return errorResponse(found.error());
    }
    if (!*found) {
        return errorResponse(notFound("membership"));
    }
    return jsonResponse(status, membershipJson(**found));
}

Response listMemberships(const ApiContext& context, const Request& request,
                         const Principal& principal) {
    auto page = Page::parse(request, {{"email", "u.email"}, {"created_at", "m.created_at", true}},
                            "email", "m.id");
    if (!page) {
        return errorResponse(page.error());
    }
    store::SqlParams params;
    std::string sql = std::string(kMembershipSelect);
    sql.insert(sql.find(" FROM "), ", " + page->sortColumn());
    sql.append(" WHERE ").append(visibleMemberships(principal, params));
    for (const char* filter : {"organization_id", "user_id", "site_id", "device_id"}) {
        auto condition = idFilter(request, filter, std::string("m.") + filter, params);
        if (!condition) {
            return errorResponse(condition.error());
        }
        sql.append(*condition);
    }
    auto role = choiceFilter(request, "role", "m.role", kRoles, params);
    if (!role) {
        return errorResponse(role.error());
    }
    sql.append(*role).append(searchCondition(request, {"u.email", "u.name"}, params));
    sql.append(page->where(params)).append(page->orderAndLimit());
    auto rows = context.sql.query(sql, params);
    if (!rows) {
        return errorResponse(rows.error());
    }
    json::array items;
    for (const auto& row : *rows) {
        items.push_back(membershipJson(readMembership(row)));
    }
    return jsonResponse(200, page->answer(std::move(items), *rows, kMembershipColumnCount, 0));
}

Response getMembership(const ApiContext& context, const Request& request,
                       const Principal& principal) {
    auto found = membershipFor(context, request, principal);
    if (!found) {
        return errorResponse(found.error());
    }
    return jsonResponse(200, membershipJson(*found));
}

// The user a new membership is for: `user_id` or `email`, exactly one.
Result<std::optional<accounts::Account>> readMember(const ApiContext& context, BodyReader& body) {
    auto user_id = bodyId(body, "user_id");
    auto email = body.text("email", {.max_length = kMaxEmailLength});
    if (user_id.has_value() == email.has_value()) {
        body.fail("user_id", "give user_id or email, one of them");
        return std::optional<accounts::Account>();
    }
    auto found = user_id ? accounts::findAccount(context.sql, *user_id)
                         : accounts::findAccountByEmail(context.sql, *email);
    if (found && !*found) {
        body.fail(user_id ? "user_id" : "email", "no such user; create it with POST /api/users");
    }
    return found;
}

Response createMembership(const ApiContext& context, const Request& request,
                          const Principal& principal) {
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    auto grant = readGrant(context, principal, body);
    if (!grant) {
        return errorResponse(grant.error());
    }
    auto member = readMember(context, body);
    if (!member) {
        return errorResponse(member.error());
    }
    body.rejectUnknown({"user_id", "email", "organization_id", "role", "site_id", "device_id"});
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    const accounts::Account& user = **member;
    if (user.id == principal.user.id && !principal.user.is_staff) {
        return errorResponse(ownRole());
    }
    std::string id = newUuid();
    auto created = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto locked = lockOrganization(tx, grant->organization_id); !locked) {
            return locked;
        }
        return insertMembership(tx, principal, request, id, user.id, user.email, *grant);
    });
    if (!created) {
        return errorResponse(created.error());
    }
    return answerMembership(context, 201, id);
}

// The membership after a PATCH: role and narrowing, each kept when absent from the body.
MembershipRow patchedMembership(const ApiContext& context, BodyReader& body,
                                const MembershipRow& current) {
    MembershipRow next = current;
    if (auto role = body.choice("role", kRoles)) {
        next.role = *role;
    }
    if (auto site = bodyId(body, "site_id")) {
        next.site_id = *site;
    } else if (body.isNull("site_id")) {
        next.site_id.clear();
    }
    if (auto device = bodyId(body, "device_id")) {
        next.device_id = *device;
    } else if (body.isNull("device_id")) {
        next.device_id.clear();
    }
    if (next.role == "owner" && !next.organizationWide()) {
        body.fail("role", "an owner covers the whole organization; do not narrow it");
    }
    if (next.site_id != current.site_id || next.device_id != current.device_id) {
        checkNarrowing(context.sql, body, next.organization_id, next.site_id, next.device_id);
    }
    return next;
}

std::string describeChange(const MembershipRow& from, const MembershipRow& to) {
    auto scope = [](const MembershipRow& m) {
        return !m.device_id.empty() ? "device " + m.device_id
               : !m.site_id.empty() ? "site " + m.site_id
                                    : std::string("organization");
    };
    return to.email + ": " + from.role + " (" + scope(from) + ") -> " + to.role + " (" + scope(to) +
           ")";
}

Result<void> saveMembership(store::SqlSession& tx, const Principal& principal,
                            const Request& request, const MembershipRow& from,
                            const MembershipRow& to) {
    if (auto locked = lockOrganization(tx, to.organization_id); !locked) {
        return locked;
    }
    bool stays_owner = to.role == "owner" && to.organizationWide();
    if (from.role == "owner" && from.organizationWide() && !stays_owner) {
        if (auto kept = keepsAnOwner(tx, to.organization_id, to.id, {}); !kept) {
            return kept;
        }
    }
    auto done = tx.execute(
        "UPDATE memberships SET role = $1, site_id = $2, device_id = $3 WHERE id = $4",
        {to.role, store::textOrNull(to.site_id), store::textOrNull(to.device_id), to.id});
    if (!done) {
        return done.error().code == "conflict"
                   ? Error{409, "membership_exists", "this user already has this membership", {}}
                   : done.takeError();
    }
    return audit(tx, principal, request, to.organization_id,
                 {"membership.updated", "membership", to.id, describeChange(from, to)});
}

Response updateMembership(const ApiContext& context, const Request& request,
                          const Principal& principal) {
    auto found = membershipFor(context, request, principal);
    if (!found) {
        return errorResponse(found.error());
    }
    Target organization{found->organization_id, {}, {}};
    if (auto allowed = require(principal, Action::member_manage, organization, "membership");
        !allowed) {
        return errorResponse(allowed.error());
    }
    if (found->user_id == principal.user.id && !principal.user.is_staff) {
        return errorResponse(ownRole());
    }
    auto object = readObject(request);
    if (!object) {
        return errorResponse(object.error());
    }
    BodyReader body(*object);
    MembershipRow next = patchedMembership(context, body, *found);
    body.rejectUnknown({"role", "site_id", "device_id"});
    if ((found->role == "owner" || next.role == "owner") &&
        !isOwner(principal, found->organization_id)) {
        return errorResponse(ownerRequired());
    }
    if (auto checked = body.result(); !checked) {
        return errorResponse(checked.error());
    }
    if (next.role == found->role && next.site_id == found->site_id &&
        next.device_id == found->device_id) {
        return jsonResponse(200, membershipJson(*found));
    }
    auto saved = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        return saveMembership(tx, principal, request, *found, next);
    });
    if (!saved) {
        return errorResponse(saved.error());
    }
    return answerMembership(context, 200, found->id);
}

// Members with member_manage remove others; anyone may leave an organization, as long as it
// keeps an owner.
Response deleteMembership(const ApiContext& context, const Request& request,
                          const Principal& principal) {
    auto found = membershipFor(context, request, principal);
    if (!found) {
        return errorResponse(found.error());
    }
    bool own = found->user_id == principal.user.id;
    if (!own) {
        if (auto allowed = require(principal, Action::member_manage,
                                   Target{found->organization_id, {}, {}}, "membership");
            !allowed) {
            return errorResponse(allowed.error());
        }
        if (found->role == "owner" && !isOwner(principal, found->organization_id)) {
            return errorResponse(ownerRequired());
        }
    }
    auto deleted = context.sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        if (auto locked = lockOrganization(tx, found->organization_id); !locked) {
            return locked;
        }
        if (found->role == "owner" && found->organizationWide()) {
            if (auto kept = keepsAnOwner(tx, found->organization_id, found->id, {}); !kept) {
                return kept;
            }
        }
        if (auto gone = tx.execute("DELETE FROM memberships WHERE id = $1", {found->id}); !gone) {
            return gone.takeError();
        }
        return audit(tx, principal, request, found->organization_id,
                     {"membership.deleted", "membership", found->id,
                      found->email + (own ? " left" : " removed") + " (was " + found->role + ")"});
    });
    if (!deleted) {
        return errorResponse(deleted.error());
    }
    return noContent();
}

}  // namespace

void addOrganizationRoutes(http::Router& router, const ApiContext& context) {
    auto route = [&](const char* method, const char* pattern, Handler handler) {
        addManaged(router, context.authenticator, method, pattern,
                   [&context, handler](const Request& request, const Principal& principal) {
                       return handler(context, request, principal);
                   });
    };
    route("GET", "/api/organizations", listOrganizations);
    route("POST", "/api/organizations", createOrganization);
    route("GET", "/api/organizations/{id}", getOrganization);
    route("PATCH", "/api/organizations/{id}", updateOrganization);
    route("DELETE", "/api/organizations/{id}", deleteOrganization);

    route("GET", "/api/users", listUsers);
    route("POST", "/api/users", createUser);
    route("GET", "/api/users/{id}", getUser);
    route("PATCH", "/api/users/{id}", updateUser);
    route("DELETE", "/api/users/{id}", deleteUser);

    route("GET", "/api/memberships", listMemberships);
    route("POST", "/api/memberships", createMembership);
    route("GET", "/api/memberships/{id}", getMembership);
    route("PATCH", "/api/memberships/{id}", updateMembership);
    route("DELETE", "/api/memberships/{id}", deleteMembership);
}

}  // namespace esocore::api
