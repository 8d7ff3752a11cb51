// Which memberships cover which objects, and the staff override.
#include "api/principal.h"

#include <gtest/gtest.h>

namespace esocore {
namespace {

using api::Principal;
using api::Target;
using auth::Action;

accounts::Membership membership(auth::Role role, auth::Scope scope, std::string site = "",
                                std::string device = "") {
    return accounts::Membership{"m1", "org-a", role, scope, std::move(site), std::move(device)};
}

Principal principalWith(std::vector<accounts::Membership> memberships) {
    Principal p;
    p.user.id = "u1";
    p.memberships = std::move(memberships);
    return p;
}

TEST(PrincipalTest, AnOrganizationMembershipCoversOnlyItsOrganization) {
    Principal p = principalWith({membership(auth::Role::viewer, auth::Scope::organization)});

    EXPECT_TRUE(api::mayPerform(p, Action::device_read, Target{"org-a", "site-1", "dev-1"}));
    EXPECT_FALSE(api::mayPerform(p, Action::device_read, Target{"org-b", "site-1", "dev-1"}));
    EXPECT_FALSE(api::mayPerform(p, Action::device_write, Target{"org-a", "site-1", "dev-1"}));
}

TEST(PrincipalTest, ASiteMembershipCoversOnlyObjectsAtThatSite) {
    Principal p = principalWith({membership(auth::Role::operator_, auth::Scope::site, "site-1")});

    EXPECT_TRUE(api::mayPerform(p, Action::device_write, Target{"org-a", "site-1", "dev-1"}));
    EXPECT_FALSE(api::mayPerform(p, Action::device_write, Target{"org-a", "site-2", "dev-2"}));
    EXPECT_FALSE(api::mayPerform(p, Action::device_write, Target{"org-a", "", ""}));
    EXPECT_FALSE(api::mayPerform(p, Action::device_claim, Target{"org-a", "site-1", "dev-1"}));
}

TEST(PrincipalTest, ADeviceMembershipCoversOnlyThatDevice) {
    Principal p =
        principalWith({membership(auth::Role::technician, auth::Scope::device, "", "dev-1")});

    EXPECT_TRUE(api::mayPerform(p, Action::event_acknowledge, Target{"org-a", "site-1", "dev-1"}));
    EXPECT_FALSE(api::mayPerform(p, Action::event_acknowledge, Target{"org-a", "site-1", "dev-2"}));
}

TEST(PrincipalTest, AnyCoveringMembershipIsEnough) {
    Principal p = principalWith({membership(auth::Role::viewer, auth::Scope::organization),
                                 membership(auth::Role::admin, auth::Scope::site, "site-1")});

    EXPECT_TRUE(api::mayPerform(p, Action::device_write, Target{"org-a", "site-1", "dev-1"}));
    EXPECT_FALSE(api::mayPerform(p, Action::device_write, Target{"org-a", "site-2", "dev-2"}));
}

TEST(PrincipalTest, StaffMayDoEverything) {
    Principal p = principalWith({});
    p.user.is_staff = true;

    EXPECT_TRUE(api::mayPerform(p, Action::organization_delete, Target{"org-z", "", ""}));
}

}  // namespace
}  // namespace esocore
