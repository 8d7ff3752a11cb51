#pragma once

// A fixture for management API tests over real HTTP: organizations, users with memberships
// and personal API tokens made directly in the store, and a client whose every answer is
// checked against the OpenAPI document.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>

#include "auth/permissions.h"
#include "support/test_server.h"

namespace esocore::testing {

/// A user of the API with a personal token.
struct ApiUser {
    std::string id;
    std::string email;
    std::string token;
    Headers headers() const { return {{"Authorization", "Token " + token}}; }
};

/// An answer with its body parsed (null when the body is not JSON).
struct ApiResult {
    long status = 0;
    boost::json::value json;
    HttpResult raw;

    /// The error code of an error answer, or empty.
    std::string errorCode() const;
    /// A member of an object body (null when absent).
    const boost::json::value& operator[](std::string_view key) const;
    /// The `results` of a list answer.
    const boost::json::array& results() const;
};

/// Parameterized by store kind: INSTANTIATE_TEST_SUITE_P(Stores, X,
/// ::testing::ValuesIn(storeKinds())).
class ApiTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override;

    /// A new organization; returns its id.
    std::string addOrganization(const std::string& name);
    /// A user with a membership in `organization_id` (narrowed to `site_id` or `device_id`
    /// when given) and an API token.
    ApiUser addUser(const std::string& organization_id, auth::Role role,
                    const std::string& site_id = {}, const std::string& device_id = {});
    /// Platform staff, without memberships.
    ApiUser addStaff();
    /// A site of the organization; returns its id.
    std::string addSite(const std::string& organization_id, const std::string& name);
    /// An active device of the organization, optionally at a site, with its key.
    TestDevice addDevice(const std::string& organization_id, const std::string& site_id = {});

    /// Calls the API as `user`; the answer is checked against the OpenAPI document (a
    /// mismatch fails the test).
    ApiResult call(const std::string& method, const std::string& path, const ApiUser& user,
                   const boost::json::value& body = nullptr, const Headers& extra = {});
    ApiResult get(const std::string& path, const ApiUser& user) { return call("GET", path, user); }

    /// Follows `next` until the end; all rows.
    boost::json::array listAll(const std::string& path, const ApiUser& user);

    std::unique_ptr<TestServer> server_;
    std::string org_;  // an organization with an owner (owner_)
    ApiUser owner_;
    std::string other_org_;  // a second organization with its own owner
    ApiUser other_owner_;
};

}  // namespace esocore::testing
