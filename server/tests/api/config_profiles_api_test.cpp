// /api/config-profiles over real HTTP on both stores: one profile per organization and model,
// settings checked like device overrides, versions, and the devices' configuration ETags.
#include "api/config_profiles_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>
#include <set>

#include "core/crypto.h"
#include "support/api_fixture.h"
#include "support/device_client.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::ApiResult;
using testing::ApiUser;
using testing::DeviceClient;
using testing::TestDevice;

class ConfigProfilesApiTest : public testing::ApiTest {
protected:
    static std::string path(const std::string& id) { return "/api/config-profiles/" + id; }

    // A profile made through the API as `user`; answers its id.
    std::string createProfile(const ApiUser& user, const std::string& model,
                              json::object settings = {}) {
        ApiResult result = call("POST", "/api/config-profiles", user,
                                {{"model", model}, {"settings", std::move(settings)}});
        EXPECT_EQ(201, result.status) << result.raw.body;
        return result.json.is_object() ? std::string(result["id"].as_string()) : std::string();
    }

    // A device of `model` registered through the API as `user`, with its key.
    TestDevice deviceOfModel(const ApiUser& user, const std::string& model) {
        std::string serial = "PROF-" + randomToken(6);
        ApiResult made = call("POST", "/api/devices", user, {{"serial", serial}, {"model", model}});
        EXPECT_EQ(201, made.status) << made.raw.body;
        return TestDevice{std::string(made["device"].at("id").as_string()),
                          serial,
                          std::string(made["secret"].as_string()),
                          {}};
    }

    std::string configETag(const TestDevice& device) {
        auto result = DeviceClient(*server_, device).get("config");
        EXPECT_EQ(200, result.status) << result.body;
        return result.header("etag");
    }

    std::vector<std::string> auditActions(const std::string& target_id) {
        auto rows = server_->store().sql().query(
            "SELECT action FROM audit_log WHERE target_id = $1 ORDER BY id", {target_id});
        EXPECT_TRUE(rows.ok());
        std::vector<std::string> out;
        for (const auto& row : rows.ok() ? *rows : std::vector<store::SqlRow>{}) {
            out.push_back(row.text(0));
        }
        return out;
    }
};

TEST_P(ConfigProfilesApiTest, CreateAnswersTheProfileAtVersionOne) {
    deviceOfModel(owner_, "edge-x");

    ApiResult result = call("POST", "/api/config-profiles", owner_,
                            {{"model", "edge-x"}, {"settings", {{"upload_interval_s", 15}}}});

    ASSERT_EQ(201, result.status) << result.raw.body;
    EXPECT_EQ(org_, result["organization_id"].as_string());
    EXPECT_EQ("edge-x", result["model"].as_string());
    EXPECT_EQ(15, result["settings"].at("upload_interval_s").as_int64());
    EXPECT_EQ(1, result["version"].as_int64());
    EXPECT_EQ(1, result["device_count"].as_int64());
    std::string id(result["id"].as_string());
    EXPECT_EQ(result.json, get(path(id), owner_).json);
}

TEST_P(ConfigProfilesApiTest, ASecondProfileForTheSameModelIs409ProfileExists) {
    createProfile(owner_, "edge-x");

    ApiResult result = call("POST", "/api/config-profiles", owner_, {{"model", "edge-x"}});

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("profile_exists", result.errorCode());
    // Another organization has its own profile for the model.
    EXPECT_FALSE(createProfile(other_owner_, "edge-x").empty());
}

TEST_P(ConfigProfilesApiTest, RenamingOntoAnotherProfilesModelIs409) {
    createProfile(owner_, "edge-x");
    std::string other = createProfile(owner_, "edge-y");

    ApiResult result = call("PATCH", path(other), owner_, {{"model", "edge-x"}});

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("profile_exists", result.errorCode());
    EXPECT_EQ("edge-y", get(path(other), owner_)["model"].as_string());
}

TEST_P(ConfigProfilesApiTest, SettingsAreValidatedLikeOverrides) {
    ApiResult result = call("POST", "/api/config-profiles", owner_,
                            {{"model", "bad model!"},
                             {"settings",
                              {{"offline_timeout_s", 5},
                               {"batch_max_records", 10'001},
                               {"ntp_servers", json::array{"pool.ntp.org", "has space"}},
                               {"mystery", 1}}}});

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("validation_failed", result.errorCode());
    const json::object& fields = result["error"].at("fields").as_object();
    for (const char* field : {"model", "settings.offline_timeout_s", "settings.batch_max_records",
                              "settings.ntp_servers", "settings.mystery"}) {
        EXPECT_TRUE(fields.contains(field)) << field << " in " << result.raw.body;
    }
    ApiResult not_object =
        call("POST", "/api/config-profiles", owner_, {{"model", "edge-x"}, {"settings", 3}});
    EXPECT_EQ("validation_failed", not_object.errorCode());
    EXPECT_TRUE(not_object["error"].at("fields").as_object().contains("settings"));
    EXPECT_TRUE(listAll("/api/config-profiles", owner_).empty());
}

TEST_P(ConfigProfilesApiTest, EachChangeRaisesTheVersion) {
    std::string id = createProfile(owner_, "edge-x", {{"window_s", 10}});

    ApiResult first = call("PATCH", path(id), owner_, {{"settings", {{"window_s", 20}}}});
    ApiResult second = call("PATCH", path(id), owner_, {{"model", "edge-z"}});
    ApiResult nothing = call("PATCH", path(id), owner_, json::object{});

    ASSERT_EQ(200, first.status) << first.raw.body;
    EXPECT_EQ(2, first["version"].as_int64());
    EXPECT_EQ(20, first["settings"].at("window_s").as_int64());
    EXPECT_EQ(3, second["version"].as_int64());
    EXPECT_EQ("edge-z", second["model"].as_string());
    EXPECT_EQ(20, second["settings"].at("window_s").as_int64());
    EXPECT_EQ(3, nothing["version"].as_int64());
}

TEST_P(ConfigProfilesApiTest, ChangingAProfileChangesTheETagOfEveryDeviceOfItsModel) {
    TestDevice first = deviceOfModel(owner_, "edge-x");
    TestDevice second = deviceOfModel(owner_, "edge-x");
    TestDevice other_model = deviceOfModel(owner_, "edge-y");
    TestDevice other_org = deviceOfModel(other_owner_, "edge-x");
    std::map<std::string, std::string> before;
    for (const auto* device : {&first, &second, &other_model, &other_org}) {
        before[device->id] = configETag(*device);
    }

    std::string id = createProfile(owner_, "edge-x", {{"upload_interval_s", 30}});

    std::map<std::string, std::string> created;
    for (const auto* device : {&first, &second, &other_model, &other_org}) {
        created[device->id] = configETag(*device);
    }
    EXPECT_NE(before[first.id], created[first.id]);
    EXPECT_NE(before[second.id], created[second.id]);
    EXPECT_EQ(before[other_model.id], created[other_model.id]);
    EXPECT_EQ(before[other_org.id], created[other_org.id]);

    ASSERT_EQ(200,
              call("PATCH", path(id), owner_, {{"settings", {{"upload_interval_s", 60}}}}).status);
    std::string patched = configETag(first);
    EXPECT_NE(created[first.id], patched);
    EXPECT_EQ(patched, configETag(second));
    EXPECT_EQ(before[other_model.id], configETag(other_model));
    auto served =
        DeviceClient(*server_, first).get("config", {{"If-None-Match", created[first.id]}});
    EXPECT_EQ(200, served.status);
    EXPECT_EQ(60, testing::jsonObject(served).at("upload_interval_s").as_int64());

    ASSERT_EQ(204, call("DELETE", path(id), owner_).status);
    EXPECT_EQ(before[first.id], configETag(first));
}

TEST_P(ConfigProfilesApiTest, AnotherOrganizationsProfileAnswersLikeAMissingOne) {
    std::string id = createProfile(owner_, "edge-x", {{"window_s", 10}});

    for (const auto& [method, body] : std::vector<std::pair<std::string, json::value>>{
             {"GET", nullptr},
             {"PATCH", json::object{{"settings", {{"window_s", 99}}}}},
             {"DELETE", nullptr}}) {
        ApiResult foreign = call(method, path(id), other_owner_, body);
        ApiResult missing = call(method, path(newUuid()), owner_, body);
        ApiResult malformed = call(method, path("42"), owner_, body);

        EXPECT_EQ(404, foreign.status) << method;
        EXPECT_EQ("not_found", foreign.errorCode()) << method;
        EXPECT_EQ(missing.raw.body, foreign.raw.body) << method;
        EXPECT_EQ(missing.raw.body, malformed.raw.body) << method;
    }
    ApiResult mine = get(path(id), owner_);
    EXPECT_EQ(10, mine["settings"].at("window_s").as_int64());
    EXPECT_EQ(1, mine["version"].as_int64());
}

TEST_P(ConfigProfilesApiTest, ListsShowOnlyTheCallersOrganization) {
    createProfile(owner_, "edge-x");
    createProfile(owner_, "edge-y");
    createProfile(other_owner_, "edge-x");

    json::array mine = listAll("/api/config-profiles", owner_);
    json::array filtered = listAll("/api/config-profiles?organization_id=" + org_, other_owner_);
    json::array by_model = listAll("/api/config-profiles?model=edge-y", owner_);
    json::array searched = listAll("/api/config-profiles?search=X", owner_);

    EXPECT_EQ(2u, mine.size());
    for (const auto& row : mine) {
        EXPECT_EQ(org_, row.at("organization_id").as_string());
    }
    EXPECT_TRUE(filtered.empty());
    ASSERT_EQ(1u, by_model.size());
    EXPECT_EQ("edge-y", by_model.at(0).at("model").as_string());
    ASSERT_EQ(1u, searched.size());
    EXPECT_EQ("edge-x", searched.at(0).at("model").as_string());
    EXPECT_EQ("invalid_parameter",
              get("/api/config-profiles?organization_id=x", owner_).errorCode());
    EXPECT_EQ("invalid_parameter",
              get("/api/config-profiles?ordering=version", owner_).errorCode());
}

TEST_P(ConfigProfilesApiTest, PagesWalkProfilesSharingAnUpdateTimeExactlyOnce) {
    std::set<std::string> made;
    for (int i = 0; i < 9; ++i) {
        made.insert(createProfile(owner_, "model-" + std::to_string(i)));
    }
    ASSERT_TRUE(
        server_->store()
            .sql()
            .execute("UPDATE config_profiles SET updated_at = 5 WHERE organization_id = $1", {org_})
            .ok());

    for (const char* ordering : {"updated_at", "-updated_at", "model", "-model"}) {
        json::array rows =
            listAll(std::string("/api/config-profiles?limit=2&ordering=") + ordering, owner_);
        std::set<std::string> seen;
        for (const auto& row : rows) {
            seen.insert(std::string(row.at("id").as_string()));
        }
        EXPECT_EQ(made.size(), rows.size()) << ordering;
        EXPECT_EQ(made, seen) << ordering;
    }
}

TEST_P(ConfigProfilesApiTest, OnlyOwnersAndAdminsWriteProfiles) {
    std::string id = createProfile(owner_, "edge-x");
    ApiUser operator_user = addUser(org_, auth::Role::operator_);
    ApiUser viewer = addUser(org_, auth::Role::viewer);

    ApiResult create = call("POST", "/api/config-profiles", operator_user, {{"model", "edge-q"}});
    ApiResult patch = call("PATCH", path(id), operator_user, {{"settings", json::object{}}});
    ApiResult remove = call("DELETE", path(id), viewer);

    EXPECT_EQ(403, create.status);
    EXPECT_EQ("permission_denied", create.errorCode());
    EXPECT_EQ("permission_denied", patch.errorCode());
    EXPECT_EQ("permission_denied", remove.errorCode());
    EXPECT_EQ(200, get(path(id), viewer).status);
    EXPECT_EQ(1u, listAll("/api/config-profiles", viewer).size());
}

TEST_P(ConfigProfilesApiTest, EveryKindOfChangeIsAudited) {
    std::string id = createProfile(owner_, "edge-x");
    call("PATCH", path(id), owner_, {{"settings", {{"window_s", 5}}}});
    call("DELETE", path(id), owner_);

    EXPECT_EQ((std::vector<std::string>{"config_profile.created", "config_profile.updated",
                                        "config_profile.deleted"}),
              auditActions(id));
}

INSTANTIATE_TEST_SUITE_P(Stores, ConfigProfilesApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
