// Every cell of the permission table: role x scope x action.
#include "auth/permissions.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace esocore {
namespace {

using auth::Action;
using auth::Role;
using auth::Scope;

// The expected matrix, written per role as the product describes it (each role can do what
// the one below it can, and more), independently of the table's layout in permissions.cpp.
const std::set<std::string> kViewer{
    "organization.read", "site.read",        "device.read",    "config_profile.read",
    "asset.read",        "maintenance.read", "event.read",     "alert_rule.read",
    "telemetry.read",    "firmware.read",    "dashboard.read",
};
const std::set<std::string> kTechnicianAdds{
    "device.status",     "maintenance.write", "event.acknowledge", "event.resolve",
    "notification.read", "telemetry.export",  "dashboard.write",
};
const std::set<std::string> kOperatorAdds{
    "member.read",      "device.write", "device.claim",     "device.rotate_key",
    "device.configure", "asset.write",  "alert_rule.write", "rollout.manage",
};
const std::set<std::string> kAdminAdds{
    "organization.update",  "member.manage",   "site.write",
    "config_profile.write", "firmware.upload", "audit.read",
};
const std::set<std::string> kOwnerAdds{"organization.delete"};

// Actions that only an organization-wide membership may perform.
const std::set<std::string> kOrganizationWideOnly{
    "organization.update", "organization.delete", "member.read",         "member.manage",
    "site.write",          "device.claim",        "config_profile.read", "config_profile.write",
    "alert_rule.write",    "firmware.read",       "firmware.upload",     "rollout.manage",
    "audit.read",
};

std::set<std::string> expectedFor(Role role) {
    std::set<std::string> out = kViewer;
    const std::set<std::string>* steps[] = {&kTechnicianAdds, &kOperatorAdds, &kAdminAdds,
                                            &kOwnerAdds};
    int above_viewer = 4 - static_cast<int>(role);  // owner 4 steps above viewer
    for (int i = 0; i < above_viewer; ++i) {
        out.insert(steps[i]->begin(), steps[i]->end());
    }
    return out;
}

constexpr Role kRoles[] = {Role::owner, Role::admin, Role::operator_, Role::technician,
                           Role::viewer};
constexpr Scope kScopes[] = {Scope::organization, Scope::site, Scope::device};

TEST(PermissionsTest, EveryCellMatchesTheExpectedMatrix) {
    int cells = 0;
    for (Role role : kRoles) {
        std::set<std::string> granted = expectedFor(role);
        for (Scope scope : kScopes) {
            for (std::size_t a = 0; a < auth::kActionCount; ++a) {
                auto action = static_cast<Action>(a);
                std::string name(auth::actionName(action));
                bool expected = granted.contains(name) && (scope == Scope::organization ||
                                                           !kOrganizationWideOnly.contains(name));
                EXPECT_EQ(expected, auth::allowed(role, scope, action))
                    << auth::roleName(role) << " / " << auth::scopeName(scope) << " / " << name;
                ++cells;
            }
        }
    }
    EXPECT_EQ(static_cast<int>(5 * 3 * auth::kActionCount), cells);
}

TEST(PermissionsTest, TheExpectedMatrixNamesOnlyRealActions) {
    std::set<std::string> real;
    for (std::size_t a = 0; a < auth::kActionCount; ++a) {
        real.insert(std::string(auth::actionName(static_cast<Action>(a))));
    }
    for (const auto& name : expectedFor(Role::owner)) {
        EXPECT_TRUE(real.contains(name)) << name;
    }
    for (const auto& name : kOrganizationWideOnly) {
        EXPECT_TRUE(real.contains(name)) << name;
    }
    EXPECT_EQ(real, expectedFor(Role::owner));
}

TEST(PermissionsTest, RoleNamesRoundTrip) {
    for (Role role : kRoles) {
        EXPECT_EQ(role, auth::parseRole(auth::roleName(role)));
    }
    EXPECT_EQ(std::nullopt, auth::parseRole("superuser"));
}

}  // namespace
}  // namespace esocore
