// /api/organizations, /api/users and /api/memberships over real HTTP on both stores: who sees
// and changes what, the rules about owners, one-time passwords, and the audit log.
#include "api/organizations_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "core/crypto.h"
#include "support/api_fixture.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::ApiResult;
using testing::ApiUser;

class OrganizationsApiTest : public testing::ApiTest {
protected:
    std::string text(const json::value& value) { return std::string(value.as_string()); }

    // The id of the user's one membership in `organization_id`.
    std::string membershipOf(const ApiUser& user, const std::string& organization_id) {
        auto rows = server_->store().sql().query(
            "SELECT id FROM memberships WHERE user_id = $1 AND organization_id = $2",
            {user.id, organization_id});
        EXPECT_TRUE(rows.ok() && rows->size() == 1);
        return rows.ok() && !rows->empty() ? rows->front().text(0) : std::string();
    }

    // The audit actions recorded about `target_id`, oldest first, as `reader` lists them.
    std::vector<std::string> auditActions(const std::string& target_id, const ApiUser& reader) {
        std::vector<std::string> actions;
        for (const auto& entry :
             listAll("/api/audit-log?ordering=created_at&target_id=" + target_id, reader)) {
            actions.push_back(text(entry.at("action")));
        }
        return actions;
    }

    // The ids of a list answer's rows.
    std::set<std::string> ids(const json::array& rows) {
        std::set<std::string> out;
        for (const auto& row : rows) {
            out.insert(text(row.at("id")));
        }
        return out;
    }

    // Each method on `path_of_other` answers `user` exactly as on an id that does not exist,
    // and as on a malformed one.
    void expectHidden(const std::string& base, const std::string& other_id, const ApiUser& user,
                      const json::value& patch) {
        for (const char* method : {"GET", "PATCH", "DELETE"}) {
            json::value body = std::string(method) == "PATCH" ? patch : json::value(nullptr);
            ApiResult other = call(method, base + other_id, user, body);
            ApiResult missing = call(method, base + newUuid(), user, body);
            ApiResult malformed = call(method, base + "not-an-id", user, body);
            EXPECT_EQ(404, other.status) << method << " " << base;
            EXPECT_EQ("not_found", other.errorCode());
            EXPECT_EQ(missing.raw.body, other.raw.body) << method << " " << base;
            EXPECT_EQ(missing.raw.body, malformed.raw.body) << method << " " << base;
        }
    }
};

TEST_P(OrganizationsApiTest, ListShowsTheCallersOrganizationsAndStaffSeeAll) {
    ApiUser staff = addStaff();

    EXPECT_EQ(std::set<std::string>{org_}, ids(listAll("/api/organizations", owner_)));
    EXPECT_EQ(std::set<std::string>{other_org_}, ids(listAll("/api/organizations", other_owner_)));
    std::set<std::string> all = ids(listAll("/api/organizations", staff));
    EXPECT_TRUE(all.count(org_) == 1 && all.count(other_org_) == 1);
    EXPECT_EQ(std::set<std::string>{other_org_},
              ids(listAll("/api/organizations?search=OTHER", staff)));
}

TEST_P(OrganizationsApiTest, OrganizationCountsItsSitesDevicesAndMembers) {
    std::string site = addSite(org_, "Plant 1");
    addDevice(org_, site);
    addUser(org_, auth::Role::viewer);

    ApiResult got = get("/api/organizations/" + org_, owner_);

    ASSERT_EQ(200, got.status) << got.raw.body;
    EXPECT_EQ("Acme Doors", text(got["name"]));
    EXPECT_EQ(1, got["site_count"].as_int64());
    EXPECT_EQ(1, got["device_count"].as_int64());
    EXPECT_EQ(2, got["member_count"].as_int64());
}

TEST_P(OrganizationsApiTest, OnlyStaffCreateOrganizationsAndMayNameTheOwner) {
    ApiUser staff = addStaff();
    ApiUser future_owner = addUser({}, auth::Role::viewer);

    ApiResult denied = call("POST", "/api/organizations", owner_, json::object{{"name", "New"}});
    ApiResult created = call("POST", "/api/organizations", staff,
                             json::object{{"name", "New Co"}, {"owner_email", future_owner.email}});
    ApiResult taken = call("POST", "/api/organizations", staff, json::object{{"name", "new co"}});

    EXPECT_EQ(403, denied.status);
    EXPECT_EQ("permission_denied", denied.errorCode());
    ASSERT_EQ(201, created.status) << created.raw.body;
    EXPECT_EQ(1, created["member_count"].as_int64());
    EXPECT_EQ(409, taken.status);
    EXPECT_EQ("name_taken", taken.errorCode());
    std::string id = text(created["id"]);
    EXPECT_EQ(std::set<std::string>{id}, ids(listAll("/api/organizations", future_owner)));
    ApiResult members = get("/api/memberships?organization_id=" + id, future_owner);
    ASSERT_EQ(1u, members.results().size());
    EXPECT_EQ("owner", text(members.results()[0].at("role")));
    EXPECT_EQ(std::vector<std::string>{"organization.created"}, auditActions(id, staff));
}

TEST_P(OrganizationsApiTest, ValidationNamesTheFields) {
    ApiUser staff = addStaff();

    ApiResult empty = call("POST", "/api/organizations", staff, json::object{});
    ApiResult unknown_owner =
        call("POST", "/api/organizations", staff,
             json::object{{"name", "X"}, {"owner_email", "nobody@example.com"}, {"size", 3}});
    ApiResult blank =
        call("PATCH", "/api/organizations/" + org_, owner_, json::object{{"name", "  "}});

    EXPECT_EQ("validation_failed", empty.errorCode());
    EXPECT_TRUE(empty["error"].at("fields").as_object().contains("name"));
    EXPECT_EQ("validation_failed", unknown_owner.errorCode());
    EXPECT_TRUE(unknown_owner["error"].at("fields").as_object().contains("owner_email"));
    EXPECT_TRUE(unknown_owner["error"].at("fields").as_object().contains("size"));
    EXPECT_EQ(400, blank.status);
    EXPECT_TRUE(blank["error"].at("fields").as_object().contains("name"));
}

TEST_P(OrganizationsApiTest, AdminsRenameOwnersDeleteAndDevicesBlockDeletion) {
    ApiUser admin = addUser(org_, auth::Role::admin);
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    addDevice(org_);

    ApiResult renamed =
        call("PATCH", "/api/organizations/" + org_, admin, json::object{{"name", "Acme Gates"}});
    ApiResult viewer_rename =
        call("PATCH", "/api/organizations/" + org_, viewer, json::object{{"name", "Mine"}});
    ApiResult clash =
        call("PATCH", "/api/organizations/" + org_, admin, json::object{{"name", "Other Works"}});
    ApiResult admin_delete = call("DELETE", "/api/organizations/" + org_, admin);
    ApiResult not_empty = call("DELETE", "/api/organizations/" + org_, owner_);

    ASSERT_EQ(200, renamed.status) << renamed.raw.body;
    EXPECT_EQ("Acme Gates", text(renamed["name"]));
    EXPECT_EQ("permission_denied", viewer_rename.errorCode());
    EXPECT_EQ("name_taken", clash.errorCode());
    EXPECT_EQ("permission_denied", admin_delete.errorCode());
    EXPECT_EQ(409, not_empty.status);
    EXPECT_EQ("organization_not_empty", not_empty.errorCode());
    EXPECT_EQ(std::vector<std::string>{"organization.updated"}, auditActions(org_, owner_));
}

TEST_P(OrganizationsApiTest, DeletingAnOrganizationTakesItsSitesAndMembers) {
    ApiUser staff = addStaff();
    std::string doomed = addOrganization("Doomed");
    ApiUser doomed_owner = addUser(doomed, auth::Role::owner);
    addSite(doomed, "Only site");

    ApiResult deleted = call("DELETE", "/api/organizations/" + doomed, doomed_owner);

    EXPECT_EQ(204, deleted.status) << deleted.raw.body;
    EXPECT_EQ(404, get("/api/organizations/" + doomed, staff).status);
    EXPECT_TRUE(listAll("/api/sites?organization_id=" + doomed, staff).empty());
    EXPECT_TRUE(listAll("/api/memberships?organization_id=" + doomed, staff).empty());
    EXPECT_EQ((std::vector<std::string>{"organization.deleted"}), auditActions(doomed, staff));
}

TEST_P(OrganizationsApiTest, AnotherOrganizationsObjectsAnswerLikeMissingOnes) {
    ApiUser other_admin = addUser(other_org_, auth::Role::admin);
    std::string membership = membershipOf(owner_, org_);

    expectHidden("/api/organizations/", org_, other_owner_, json::object{{"name", "Taken"}});
    expectHidden("/api/users/", owner_.id, other_owner_, json::object{{"name", "Taken"}});
    expectHidden("/api/memberships/", membership, other_admin, json::object{{"role", "viewer"}});
    EXPECT_EQ(200, get("/api/organizations/" + org_, owner_).status);
}

TEST_P(OrganizationsApiTest, FilteredListsOfAnotherOrganizationAreEmpty) {
    for (const char* list : {"/api/users", "/api/memberships"}) {
        std::string path = std::string(list) + "?organization_id=" + other_org_;
        EXPECT_TRUE(listAll(path, owner_).empty()) << path;
    }
    for (const auto& user : listAll("/api/users", owner_)) {
        EXPECT_NE(other_owner_.id, text(user.at("id")));
    }
    for (const auto& m : listAll("/api/memberships", owner_)) {
        EXPECT_EQ(org_, text(m.at("organization_id")));
    }
}

TEST_P(OrganizationsApiTest, UsersListShowsOnlyTheMembershipsTheCallerMayRead) {
    ApiUser both = addUser(org_, auth::Role::technician);
    ASSERT_EQ(201, call("POST", "/api/memberships", other_owner_,
                        json::object{{"email", both.email}, {"role", "viewer"}})
                       .status);
    ApiUser viewer = addUser(org_, auth::Role::viewer);

    json::array users = listAll("/api/users?search=" + both.email.substr(0, 10), owner_);
    ApiResult viewer_list = get("/api/users", viewer);
    ApiResult self = get("/api/users/" + viewer.id, viewer);
    ApiResult bad_role = get("/api/users?role=emperor", owner_);

    ASSERT_EQ(1u, users.size());
    const json::array& memberships = users[0].at("memberships").as_array();
    ASSERT_EQ(1u, memberships.size());
    EXPECT_EQ(org_, text(memberships[0].at("organization_id")));
    EXPECT_TRUE(viewer_list.results().empty());
    EXPECT_EQ(200, self.status);
    EXPECT_EQ(404, get("/api/users/" + owner_.id, viewer).status);
    EXPECT_EQ("invalid_parameter", bad_role.errorCode());
    EXPECT_EQ(1u, listAll("/api/users?role=technician", owner_).size());
}

TEST_P(OrganizationsApiTest, NewUserGetsAOneTimePasswordShownOnce) {
    ApiResult created = call(
        "POST", "/api/users", owner_,
        json::object{{"email", "new.operator@example.com"}, {"name", "New"}, {"role", "operator"}});
    ApiResult with_password = call(
        "POST", "/api/users", owner_,
        json::object{
            {"email", "chosen@example.com"}, {"password", "long enough pw"}, {"role", "viewer"}});
    ApiResult again = call("POST", "/api/users", owner_,
                           json::object{{"email", "NEW.operator@example.com"}, {"role", "viewer"}});

    ASSERT_EQ(201, created.status) << created.raw.body;
    ASSERT_TRUE(created["one_time_password"].is_string());
    EXPECT_EQ("operator", text(created["memberships"].at(0).at("role")));
    ApiResult signed_in = call("POST", "/api/auth/login", owner_,
                               json::object{{"email", "new.operator@example.com"},
                                            {"password", created["one_time_password"]},
                                            {"mode", "token"}});
    EXPECT_EQ(200, signed_in.status) << signed_in.raw.body;
    ASSERT_EQ(201, with_password.status) << with_password.raw.body;
    EXPECT_TRUE(with_password["one_time_password"].is_null());
    EXPECT_FALSE(get("/api/users/" + text(created["id"]), owner_)
                     .json.as_object()
                     .contains("one_time_password"));
    EXPECT_EQ(409, again.status);
    EXPECT_EQ("email_taken", again.errorCode());
    EXPECT_EQ((std::vector<std::string>{"user.created"}),
              auditActions(text(created["id"]), owner_));
}

TEST_P(OrganizationsApiTest, CreatingAUserChecksRoleAndFields) {
    ApiUser admin = addUser(org_, auth::Role::admin);
    ApiUser viewer = addUser(org_, auth::Role::viewer);

    ApiResult owner_by_admin = call("POST", "/api/users", admin,
                                    json::object{{"email", "boss@example.com"}, {"role", "owner"}});
    ApiResult by_viewer = call("POST", "/api/users", viewer,
                               json::object{{"email", "v@example.com"}, {"role", "viewer"}});
    ApiResult invalid = call("POST", "/api/users", admin,
                             json::object{{"email", "not-an-email"},
                                          {"role", "king"},
                                          {"password", "short"},
                                          {"time_zone", "Mars/Olympus"}});
    ApiResult elsewhere =
        call("POST", "/api/users", admin,
             json::object{
                 {"email", "x@example.com"}, {"role", "viewer"}, {"organization_id", other_org_}});

    EXPECT_EQ(403, owner_by_admin.status);
    EXPECT_EQ("owner_required", owner_by_admin.errorCode());
    EXPECT_EQ("permission_denied", by_viewer.errorCode());
    ASSERT_EQ("validation_failed", invalid.errorCode());
    const json::object& fields = invalid["error"].at("fields").as_object();
    for (const char* field : {"email", "role", "password", "time_zone"}) {
        EXPECT_TRUE(fields.contains(field)) << field;
    }
    EXPECT_EQ(404, elsewhere.status);
    EXPECT_EQ("not_found", elsewhere.errorCode());
}

TEST_P(OrganizationsApiTest, UsersChangeTheirOwnNameButNotTheirActiveFlag) {
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    ApiUser other_viewer = addUser(org_, auth::Role::viewer);

    ApiResult renamed = call("PATCH", "/api/users/" + viewer.id, viewer,
                             json::object{{"name", "Vera"}, {"time_zone", "Europe/Berlin"}});
    ApiResult deactivate_self =
        call("PATCH", "/api/users/" + viewer.id, viewer, json::object{{"is_active", false}});
    ApiResult rename_other =
        call("PATCH", "/api/users/" + viewer.id, other_viewer, json::object{{"name", "X"}});
    ApiResult bad_zone = call("PATCH", "/api/users/" + viewer.id, viewer,
                              json::object{{"time_zone", "Nowhere/Town"}});

    ASSERT_EQ(200, renamed.status) << renamed.raw.body;
    EXPECT_EQ("Vera", text(renamed["name"]));
    EXPECT_EQ("Europe/Berlin", text(renamed["time_zone"]));
    EXPECT_EQ("own_account", deactivate_self.errorCode());
    EXPECT_EQ(404, rename_other.status);
    EXPECT_EQ("validation_failed", bad_zone.errorCode());
    EXPECT_TRUE(bad_zone["error"].at("fields").as_object().contains("time_zone"));
    EXPECT_EQ(std::vector<std::string>{"user.updated"}, auditActions(viewer.id, owner_));
}

TEST_P(OrganizationsApiTest, DeactivatedUsersCannotSignInWithTheirTokens) {
    ApiUser operator_user = addUser(org_, auth::Role::operator_);
    ApiUser admin = addUser(org_, auth::Role::admin);

    ApiResult by_operator =
        call("PATCH", "/api/users/" + admin.id, operator_user, json::object{{"is_active", false}});
    ApiResult deactivated =
        call("PATCH", "/api/users/" + operator_user.id, admin, json::object{{"is_active", false}});

    EXPECT_EQ("permission_denied", by_operator.errorCode());
    ASSERT_EQ(200, deactivated.status) << deactivated.raw.body;
    EXPECT_FALSE(deactivated["is_active"].as_bool());
    EXPECT_EQ(401, get("/api/organizations", operator_user).status);
    EXPECT_EQ((std::vector<std::string>{"user.deactivated"}),
              auditActions(operator_user.id, owner_));
}

TEST_P(OrganizationsApiTest, DeletingAUserRemovesItFromTheCallersOrganizationsOnly) {
    ApiUser staff = addStaff();
    ApiUser shared = addUser(org_, auth::Role::operator_);
    ASSERT_EQ(201, call("POST", "/api/memberships", other_owner_,
                        json::object{{"user_id", shared.id}, {"role", "viewer"}})
                       .status);

    ApiResult removed = call("DELETE", "/api/users/" + shared.id, owner_);
    ApiResult self = call("DELETE", "/api/users/" + owner_.id, owner_);

    EXPECT_EQ(204, removed.status) << removed.raw.body;
    EXPECT_EQ("own_account", self.errorCode());
    ApiResult seen_by_staff = get("/api/users/" + shared.id, staff);
    EXPECT_TRUE(seen_by_staff["is_active"].as_bool());
    ASSERT_EQ(1u, seen_by_staff["memberships"].as_array().size());
    EXPECT_EQ(other_org_, text(seen_by_staff["memberships"].at(0).at("organization_id")));
    EXPECT_EQ(404, get("/api/users/" + shared.id, owner_).status);

    ApiResult deactivated = call("DELETE", "/api/users/" + shared.id, staff);
    EXPECT_EQ(204, deactivated.status);
    EXPECT_FALSE(get("/api/users/" + shared.id, staff)["is_active"].as_bool());
}

TEST_P(OrganizationsApiTest, MembershipsGrantExistingUsersARole) {
    ApiUser outsider = addUser(other_org_, auth::Role::viewer);
    std::string site = addSite(org_, "North");
    std::string foreign_site = addSite(other_org_, "Elsewhere");

    ApiResult by_email =
        call("POST", "/api/memberships", owner_,
             json::object{{"email", outsider.email}, {"role", "technician"}, {"site_id", site}});
    ApiResult twice =
        call("POST", "/api/memberships", owner_,
             json::object{{"user_id", outsider.id}, {"role", "viewer"}, {"site_id", site}});
    ApiResult foreign =
        call("POST", "/api/memberships", owner_,
             json::object{{"user_id", outsider.id}, {"role", "viewer"}, {"site_id", foreign_site}});
    ApiResult both = call("POST", "/api/memberships", owner_,
                          json::object{{"user_id", outsider.id},
                                       {"role", "viewer"},
                                       {"site_id", site},
                                       {"device_id", addDevice(org_).id}});
    ApiResult nobody = call("POST", "/api/memberships", owner_,
                            json::object{{"email", "ghost@example.com"}, {"role", "viewer"}});

    ASSERT_EQ(201, by_email.status) << by_email.raw.body;
    EXPECT_EQ("site", text(by_email["scope"]));
    EXPECT_EQ(site, text(by_email["site_id"]));
    EXPECT_EQ(outsider.email, text(by_email["user_email"]));
    EXPECT_EQ(std::vector<std::string>{"membership.created"},
              auditActions(text(by_email["id"]), owner_));
    EXPECT_EQ("membership_exists", twice.errorCode());
    EXPECT_EQ("validation_failed", foreign.errorCode());
    EXPECT_TRUE(foreign["error"].at("fields").as_object().contains("site_id"));
    EXPECT_TRUE(both["error"].at("fields").as_object().contains("device_id"));
    EXPECT_TRUE(nobody["error"].at("fields").as_object().contains("email"));
    EXPECT_EQ(1u, listAll("/api/memberships?role=technician&site_id=" + site, owner_).size());
    EXPECT_EQ("invalid_parameter", get("/api/memberships?user_id=nope", owner_).errorCode());
}

TEST_P(OrganizationsApiTest, AnAdminCannotGrantOrTouchOwnership) {
    ApiUser admin = addUser(org_, auth::Role::admin);
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    std::string viewer_membership = membershipOf(viewer, org_);
    std::string owner_membership = membershipOf(owner_, org_);

    ApiResult grant = call("POST", "/api/memberships", admin,
                           json::object{{"user_id", other_owner_.id}, {"role", "owner"}});
    ApiResult promote = call("PATCH", "/api/memberships/" + viewer_membership, admin,
                             json::object{{"role", "owner"}});
    ApiResult demote = call("PATCH", "/api/memberships/" + owner_membership, admin,
                            json::object{{"role", "viewer"}});
    ApiResult remove = call("DELETE", "/api/memberships/" + owner_membership, admin);
    ApiResult to_operator = call("PATCH", "/api/memberships/" + viewer_membership, admin,
                                 json::object{{"role", "operator"}});

    for (const ApiResult* refused : {&grant, &promote, &demote, &remove}) {
        EXPECT_EQ(403, refused->status);
        EXPECT_EQ("owner_required", refused->errorCode());
    }
    ASSERT_EQ(200, to_operator.status) << to_operator.raw.body;
    EXPECT_EQ("operator", text(to_operator["role"]));
    EXPECT_EQ((std::vector<std::string>{"membership.updated"}),
              auditActions(viewer_membership, owner_));
}

TEST_P(OrganizationsApiTest, NobodyChangesTheirOwnRole) {
    ApiUser admin = addUser(org_, auth::Role::admin);
    std::string own = membershipOf(admin, org_);

    ApiResult promote =
        call("PATCH", "/api/memberships/" + own, admin, json::object{{"role", "owner"}});
    ApiResult widen =
        call("PATCH", "/api/memberships/" + own, admin, json::object{{"role", "viewer"}});
    ApiResult add = call(
        "POST", "/api/memberships", admin,
        json::object{{"user_id", admin.id}, {"role", "viewer"}, {"site_id", addSite(org_, "S")}});

    EXPECT_EQ("own_role", promote.errorCode());
    EXPECT_EQ("own_role", widen.errorCode());
    EXPECT_EQ("own_role", add.errorCode());
}

TEST_P(OrganizationsApiTest, TheLastOwnerCannotBeRemovedOrDemoted) {
    ApiUser staff = addStaff();
    std::string only_owner = membershipOf(owner_, org_);

    ApiResult demote =
        call("PATCH", "/api/memberships/" + only_owner, staff, json::object{{"role", "admin"}});
    ApiResult narrow = call("PATCH", "/api/memberships/" + only_owner, staff,
                            json::object{{"site_id", addSite(org_, "A")}});
    ApiResult remove = call("DELETE", "/api/memberships/" + only_owner, staff);
    ApiResult leave = call("DELETE", "/api/memberships/" + only_owner, owner_);
    ApiResult deactivate = call("DELETE", "/api/users/" + owner_.id, staff);

    for (const ApiResult* refused : {&demote, &remove, &leave, &deactivate}) {
        EXPECT_EQ(409, refused->status) << refused->raw.body;
        EXPECT_EQ("last_owner", refused->errorCode());
    }
    EXPECT_EQ("validation_failed", narrow.errorCode());

    // With a second owner, the first may step down.
    ApiUser second = addUser(org_, auth::Role::viewer);
    ASSERT_EQ(200, call("PATCH", "/api/memberships/" + membershipOf(second, org_), owner_,
                        json::object{{"role", "owner"}})
                       .status);
    ApiResult stepped_down =
        call("PATCH", "/api/memberships/" + only_owner, second, json::object{{"role", "admin"}});
    EXPECT_EQ(200, stepped_down.status) << stepped_down.raw.body;
    EXPECT_EQ("last_owner",
              call("DELETE", "/api/memberships/" + membershipOf(second, org_), second).errorCode());
}

TEST_P(OrganizationsApiTest, MembersLeaveAndAdminsRemoveWithAnAuditEntryEach) {
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    ApiUser technician = addUser(org_, auth::Role::technician);
    std::string viewer_membership = membershipOf(viewer, org_);
    std::string technician_membership = membershipOf(technician, org_);

    ApiResult left = call("DELETE", "/api/memberships/" + viewer_membership, viewer);
    ApiUser operator_user = addUser(org_, auth::Role::operator_);
    ApiResult by_operator =
        call("DELETE", "/api/memberships/" + technician_membership, operator_user);
    ApiResult removed = call("DELETE", "/api/memberships/" + technician_membership, owner_);

    EXPECT_EQ(204, left.status) << left.raw.body;
    EXPECT_EQ("permission_denied", by_operator.errorCode());
    EXPECT_EQ(204, removed.status);
    EXPECT_EQ(std::vector<std::string>{"membership.deleted"},
              auditActions(viewer_membership, owner_));
    EXPECT_EQ(std::vector<std::string>{"membership.deleted"},
              auditActions(technician_membership, owner_));
    EXPECT_TRUE(listAll("/api/organizations", viewer).empty());
}

TEST_P(OrganizationsApiTest, MembershipPagesWalkEveryMemberOnce) {
    std::set<std::string> expected{membershipOf(owner_, org_)};
    for (int i = 0; i < 12; ++i) {
        expected.insert(membershipOf(addUser(org_, auth::Role::viewer), org_));
    }
    // One creation time for all of them: only the id breaks the ties.
    ASSERT_TRUE(
        server_->store()
            .sql()
            .execute("UPDATE memberships SET created_at = 1000 WHERE organization_id = $1", {org_})
            .ok());

    for (const char* ordering : {"created_at", "-created_at", "email", "-email"}) {
        json::array rows =
            listAll(std::string("/api/memberships?limit=5&ordering=") + ordering, owner_);
        EXPECT_EQ(expected.size(), rows.size()) << ordering;
        EXPECT_EQ(expected, ids(rows)) << ordering;
    }
}

INSTANTIATE_TEST_SUITE_P(Stores, OrganizationsApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
