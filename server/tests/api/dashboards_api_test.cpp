// Dashboards over real HTTP: each user's own, shared ones of the organizations they see,
// validation of widgets, the owner's one default, and 404 for what is not theirs to see.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "core/crypto.h"
#include "support/api_fixture.h"

namespace esocore::testing {
namespace {

namespace json = boost::json;

json::object dashboardBody(const std::string& name, bool shared = false) {
    return json::object{{"name", name},
                        {"layout", json::object{{"columns", 12}}},
                        {"widgets", json::array{json::object{{"type", "chart"}, {"metric", "temp"}},
                                                json::object{{"type", "text"}, {"text", "Hello"}}}},
                        {"shared", shared}};
}

class DashboardsApiTest : public ApiTest {
protected:
    // Creates a dashboard as `user`; expects 201 and returns its id.
    std::string create(const ApiUser& user, const json::object& body) {
        ApiResult result = call("POST", "/api/dashboards", user, body);
        EXPECT_EQ(201, result.status) << result.raw.body;
        return result["id"].is_string() ? std::string(result["id"].as_string()) : "";
    }

    std::vector<std::string> auditActions(const std::string& target_id) {
        auto rows = server_->store().sql().query(
            "SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id", {target_id});
        std::vector<std::string> actions;
        for (const auto& row : *rows) {
            actions.push_back(row.text(0));
        }
        return actions;
    }

    std::set<std::string> listedIds(const ApiUser& user, const std::string& query = "") {
        std::set<std::string> ids;
        for (const auto& d : listAll("/api/dashboards" + query, user)) {
            ids.insert(std::string(d.at("id").as_string()));
        }
        return ids;
    }
};

TEST_P(DashboardsApiTest, CreateAnswersTheDashboardAndAuditsIt) {
    ApiResult result = call("POST", "/api/dashboards", owner_, dashboardBody("Plant overview"));

    ASSERT_EQ(201, result.status) << result.raw.body;
    EXPECT_EQ("Plant overview", result["name"]);
    EXPECT_EQ(json::value(org_), result["organization_id"]);
    EXPECT_EQ(json::value(owner_.id), result["owner_id"]);
    EXPECT_TRUE(result["site_id"].is_null());
    EXPECT_EQ((json::object{{"columns", 12}}), result["layout"]);
    EXPECT_EQ(2u, result["widgets"].as_array().size());
    EXPECT_EQ(false, result["shared"]);
    EXPECT_EQ(false, result["is_default"]);
    std::string id(result["id"].as_string());
    EXPECT_EQ(result.json, get("/api/dashboards/" + id, owner_).json);
    EXPECT_EQ(std::vector<std::string>{"dashboard.created"}, auditActions(id));
}

TEST_P(DashboardsApiTest, ValidationNamesEachBadField) {
    json::object body{{"layout", json::array()},
                      {"widgets", json::array{json::object{{"type", "pie"}}}},
                      {"shared", "yes"},
                      {"colour", "red"}};

    ApiResult result = call("POST", "/api/dashboards", owner_, body);

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("validation_failed", result.errorCode());
    const json::object& fields = result["error"].at("fields").as_object();
    for (const char* field : {"name", "layout", "widgets", "shared", "colour"}) {
        EXPECT_TRUE(fields.contains(field)) << field << " in " << result.raw.body;
    }
}

TEST_P(DashboardsApiTest, ASiteOfAnotherOrganizationIsRefused) {
    std::string theirs = addSite(other_org_, "Elsewhere");
    std::string ours = addSite(org_, "North");
    json::object body = dashboardBody("Site board");

    body["site_id"] = theirs;
    ApiResult refused = call("POST", "/api/dashboards", owner_, body);
    body["site_id"] = ours;
    ApiResult accepted = call("POST", "/api/dashboards", owner_, body);

    EXPECT_EQ(400, refused.status);
    EXPECT_EQ("validation_failed", refused.errorCode());
    EXPECT_TRUE(refused["error"].at("fields").as_object().contains("site_id"));
    EXPECT_EQ(201, accepted.status) << accepted.raw.body;
    EXPECT_EQ(json::value(ours), accepted["site_id"]);
}

TEST_P(DashboardsApiTest, ListShowsOwnAndSharedButNotOtherUsersPrivateOnes) {
    ApiUser colleague = addUser(org_, auth::Role::operator_);
    std::string mine = create(owner_, dashboardBody("Mine"));
    std::string shared = create(colleague, dashboardBody("Team", true));
    std::string private_one = create(colleague, dashboardBody("Private"));
    std::string foreign = create(other_owner_, dashboardBody("Foreign", true));

    std::set<std::string> listed = listedIds(owner_);

    EXPECT_EQ((std::set<std::string>{mine, shared}), listed);
    EXPECT_EQ((std::set<std::string>{mine}), listedIds(owner_, "?mine=true"));
    EXPECT_EQ((std::set<std::string>{shared}), listedIds(owner_, "?search=tEa"));
    EXPECT_EQ((std::set<std::string>{foreign}), listedIds(other_owner_));
    EXPECT_EQ((std::set<std::string>{shared, private_one}), listedIds(colleague));
}

TEST_P(DashboardsApiTest, AnotherUsersPrivateDashboardIsNotFoundLikeAMissingOne) {
    ApiUser colleague = addUser(org_, auth::Role::admin);
    std::string id = create(colleague, dashboardBody("Private"));
    json::object rename{{"name", "Mine now"}};

    for (const char* method : {"GET", "PATCH", "DELETE"}) {
        json::value body = std::string(method) == "PATCH" ? json::value(rename) : nullptr;

        ApiResult theirs = call(method, "/api/dashboards/" + id, owner_, body);
        ApiResult missing = call(method, "/api/dashboards/" + newUuid(), owner_, body);
        ApiResult malformed = call(method, "/api/dashboards/nope", owner_, body);

        EXPECT_EQ(404, theirs.status) << method;
        EXPECT_EQ("not_found", theirs.errorCode()) << method;
        EXPECT_EQ(missing.raw.body, theirs.raw.body) << method;
        EXPECT_EQ(missing.raw.body, malformed.raw.body) << method;
    }
    EXPECT_EQ("Private", get("/api/dashboards/" + id, colleague)["name"]);
}

TEST_P(DashboardsApiTest, AnotherOrganizationsSharedDashboardIsNotFoundLikeAMissingOne) {
    std::string id = create(owner_, dashboardBody("Shared here", true));
    json::object rename{{"name", "Taken"}};

    for (const char* method : {"GET", "PATCH", "DELETE"}) {
        json::value body = std::string(method) == "PATCH" ? json::value(rename) : nullptr;

        ApiResult theirs = call(method, "/api/dashboards/" + id, other_owner_, body);
        ApiResult missing = call(method, "/api/dashboards/" + newUuid(), other_owner_, body);

        EXPECT_EQ(404, theirs.status) << method;
        EXPECT_EQ(missing.raw.body, theirs.raw.body) << method;
    }
    EXPECT_EQ("Shared here", get("/api/dashboards/" + id, owner_)["name"]);
}

TEST_P(DashboardsApiTest, ASharedDashboardIsChangedByThoseWhoMayWriteDashboards) {
    std::string id = create(owner_, dashboardBody("Team", true));
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    ApiUser operator_user = addUser(org_, auth::Role::operator_);

    ApiResult by_viewer =
        call("PATCH", "/api/dashboards/" + id, viewer, json::object{{"name", "V"}});
    ApiResult by_operator =
        call("PATCH", "/api/dashboards/" + id, operator_user,
             json::object{{"name", "Team board"},
                          {"widgets", json::array{json::object{{"type", "stat"}}}}});
    ApiResult unshare =
        call("PATCH", "/api/dashboards/" + id, operator_user, json::object{{"shared", false}});

    EXPECT_EQ(200, get("/api/dashboards/" + id, viewer).status);
    EXPECT_EQ(403, by_viewer.status);
    EXPECT_EQ("permission_denied", by_viewer.errorCode());
    ASSERT_EQ(200, by_operator.status) << by_operator.raw.body;
    EXPECT_EQ("Team board", by_operator["name"]);
    EXPECT_EQ(json::value(owner_.id), by_operator["owner_id"]);
    EXPECT_EQ(1u, by_operator["widgets"].as_array().size());
    EXPECT_EQ(403, unshare.status);
    EXPECT_EQ("permission_denied", unshare.errorCode());
    EXPECT_EQ((std::vector<std::string>{"dashboard.created", "dashboard.updated"}),
              auditActions(id));
}

TEST_P(DashboardsApiTest, TheOwnersNewDefaultReplacesTheOldOne) {
    json::object first = dashboardBody("First");
    first["is_default"] = true;
    std::string old_default = create(owner_, first);
    std::string second = create(owner_, dashboardBody("Second"));

    ApiResult changed =
        call("PATCH", "/api/dashboards/" + second, owner_, json::object{{"is_default", true}});

    ASSERT_EQ(200, changed.status) << changed.raw.body;
    EXPECT_EQ(true, changed["is_default"]);
    EXPECT_EQ(false, get("/api/dashboards/" + old_default, owner_)["is_default"]);
}

TEST_P(DashboardsApiTest, DeleteAnswers204AndIsAudited) {
    std::string id = create(owner_, dashboardBody("Short-lived"));

    ApiResult deleted = call("DELETE", "/api/dashboards/" + id, owner_);

    EXPECT_EQ(204, deleted.status);
    EXPECT_EQ(404, get("/api/dashboards/" + id, owner_).status);
    EXPECT_EQ((std::vector<std::string>{"dashboard.created", "dashboard.deleted"}),
              auditActions(id));
}

TEST_P(DashboardsApiTest, PagesOfDashboardsSharingANameWalkEachOnce) {
    std::set<std::string> made;
    for (int i = 0; i < 9; ++i) {
        made.insert(create(owner_, dashboardBody("Same name")));
    }

    json::array all = listAll("/api/dashboards?limit=2&ordering=-name", owner_);

    std::set<std::string> walked;
    for (const auto& d : all) {
        walked.insert(std::string(d.at("id").as_string()));
    }
    EXPECT_EQ(9u, all.size());
    EXPECT_EQ(made, walked);
}

INSTANTIATE_TEST_SUITE_P(Stores, DashboardsApiTest, ::testing::ValuesIn(storeKinds()));

}  // namespace
}  // namespace esocore::testing
