// /api/sites over real HTTP on both stores: validation (time zones, operating hours), names
// unique per organization, device counts, deletion rules, narrowed members, pagination with
// ties, and the audit log.
#include "api/sites_api.h"

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

class SitesApiTest : public testing::ApiTest {
protected:
    std::string text(const json::value& value) { return std::string(value.as_string()); }

    ApiResult create(const ApiUser& user, json::object body) {
        return call("POST", "/api/sites", user, body);
    }

    // The field names of a validation_failed answer.
    std::set<std::string> badFields(const ApiResult& result) {
        EXPECT_EQ("validation_failed", result.errorCode()) << result.raw.body;
        std::set<std::string> out;
        const json::value& error = result["error"];
        if (error.is_object() && error.as_object().contains("fields")) {
            for (const auto& [key, message] : error.at("fields").as_object()) {
                out.insert(std::string(key));
            }
        }
        return out;
    }

    std::set<std::string> ids(const json::array& rows) {
        std::set<std::string> out;
        for (const auto& row : rows) {
            out.insert(text(row.at("id")));
        }
        return out;
    }

    std::vector<std::string> auditActions(const std::string& target_id) {
        std::vector<std::string> actions;
        for (const auto& entry :
             listAll("/api/audit-log?ordering=created_at&target_id=" + target_id, owner_)) {
            actions.push_back(text(entry.at("action")));
        }
        return actions;
    }
};

TEST_P(SitesApiTest, CreateAnswersTheSiteWithItsDefaults) {
    ApiResult created = create(
        owner_,
        {{"name", "Plant 1"},
         {"address", "1 Main St"},
         {"time_zone", "Europe/Berlin"},
         {"operating_hours",
          {{"mon", json::array{json::array{"08:00", "12:00"}, json::array{"13:00", "24:00"}}},
           {"sun", json::array{}}}}});
    ApiResult minimal = create(owner_, {{"name", "Plant 2"}});

    ASSERT_EQ(201, created.status) << created.raw.body;
    EXPECT_EQ(org_, text(created["organization_id"]));
    EXPECT_EQ("Europe/Berlin", text(created["time_zone"]));
    EXPECT_EQ("13:00", text(created["operating_hours"].at("mon").at(1).at(0)));
    EXPECT_EQ(0, created["device_count"].as_int64());
    ASSERT_EQ(201, minimal.status) << minimal.raw.body;
    EXPECT_EQ("UTC", text(minimal["time_zone"]));
    EXPECT_TRUE(minimal["code"].is_null());
    EXPECT_EQ(json::object{}, minimal["operating_hours"].as_object());
}

TEST_P(SitesApiTest, ValidationNamesEachBadField) {
    ApiResult missing = create(owner_, {{"address", 5}, {"colour", "red"}});
    ApiResult bad_zone = create(owner_, {{"name", "A"}, {"time_zone", "Europe/Atlantis"}});

    EXPECT_EQ((std::set<std::string>{"name", "address", "colour"}), badFields(missing));
    EXPECT_EQ(std::set<std::string>{"time_zone"}, badFields(bad_zone));

    const json::value bad_hours[] = {
        json::object{{"monday", json::array{}}},
        json::object{{"mon", "08:00-17:00"}},
        json::object{{"mon", json::array{json::array{"08:00"}}}},
        json::object{{"tue", json::array{json::array{"8:00", "17:00"}}}},
        json::object{{"wed", json::array{json::array{"17:00", "08:00"}}}},
        json::object{{"thu", json::array{json::array{"24:00", "24:00"}}}},
        json::object{{"fri", json::array{json::array{"08:60", "09:00"}}}},
        json::object{
            {"sat", json::array{json::array{"08:00", "12:00"}, json::array{"11:00", "13:00"}}}},
        json::array{},
    };
    for (const auto& hours : bad_hours) {
        ApiResult refused = create(owner_, {{"name", "B"}, {"operating_hours", hours}});
        EXPECT_EQ(std::set<std::string>{"operating_hours"}, badFields(refused))
            << json::serialize(hours);
    }
}

TEST_P(SitesApiTest, NamesAreUniqueWithinAnOrganizationOnly) {
    ASSERT_EQ(201, create(owner_, {{"name", "Depot"}}).status);
    ApiResult second = create(owner_, {{"name", "Depot"}});
    ApiResult other = create(other_owner_, {{"name", "Depot"}});
    std::string renamed_id = text(create(owner_, {{"name", "Yard"}})["id"]);
    ApiResult rename =
        call("PATCH", "/api/sites/" + renamed_id, owner_, json::object{{"name", "Depot"}});

    EXPECT_EQ(409, second.status);
    EXPECT_EQ("name_taken", second.errorCode());
    EXPECT_EQ(201, other.status);
    EXPECT_EQ(409, rename.status);
    EXPECT_EQ("name_taken", rename.errorCode());
}

TEST_P(SitesApiTest, DetailAndListCountTheDevicesAtTheSite) {
    std::string site = addSite(org_, "Busy");
    addDevice(org_, site);
    addDevice(org_, site);
    addDevice(org_);

    ApiResult got = get("/api/sites/" + site, owner_);
    json::array listed = listAll("/api/sites?search=bus", owner_);

    ASSERT_EQ(200, got.status);
    EXPECT_EQ(2, got["device_count"].as_int64());
    ASSERT_EQ(1u, listed.size());
    EXPECT_EQ(2, listed[0].at("device_count").as_int64());
}

TEST_P(SitesApiTest, PatchChangesOnlyTheFieldsGiven) {
    std::string id =
        text(create(owner_, {{"name", "Old"}, {"code", "P7"}, {"address", "Here"}})["id"]);
    ApiUser viewer = addUser(org_, auth::Role::viewer);

    ApiResult patched = call(
        "PATCH", "/api/sites/" + id, owner_,
        json::object{{"name", "New"},
                     {"code", nullptr},
                     {"operating_hours", {{"fri", json::array{json::array{"06:00", "14:00"}}}}}});
    ApiResult by_viewer = call("PATCH", "/api/sites/" + id, viewer, json::object{{"name", "V"}});

    ASSERT_EQ(200, patched.status) << patched.raw.body;
    EXPECT_EQ("New", text(patched["name"]));
    EXPECT_TRUE(patched["code"].is_null());
    EXPECT_EQ("Here", text(patched["address"]));
    EXPECT_EQ("06:00", text(patched["operating_hours"].at("fri").at(0).at(0)));
    EXPECT_EQ(403, by_viewer.status);
    EXPECT_EQ("permission_denied", by_viewer.errorCode());
}

TEST_P(SitesApiTest, DeleteRefusesASiteWithDevicesAndTakesItsNarrowedMembers) {
    std::string busy = addSite(org_, "Busy");
    addDevice(org_, busy);
    std::string empty = addSite(org_, "Empty");
    ApiUser narrowed = addUser(org_, auth::Role::technician, empty);

    ApiResult refused = call("DELETE", "/api/sites/" + busy, owner_);
    ApiResult deleted = call("DELETE", "/api/sites/" + empty, owner_);

    EXPECT_EQ(409, refused.status);
    EXPECT_EQ("site_not_empty", refused.errorCode());
    EXPECT_EQ(204, deleted.status) << deleted.raw.body;
    EXPECT_EQ(404, get("/api/sites/" + empty, owner_).status);
    EXPECT_TRUE(listAll("/api/memberships?user_id=" + narrowed.id, owner_).empty());
}

TEST_P(SitesApiTest, EveryKindOfChangeIsAudited) {
    std::string id = text(create(owner_, {{"name", "Audited"}})["id"]);
    ASSERT_EQ(200,
              call("PATCH", "/api/sites/" + id, owner_, json::object{{"address", "x"}}).status);
    ASSERT_EQ(204, call("DELETE", "/api/sites/" + id, owner_).status);

    EXPECT_EQ((std::vector<std::string>{"site.created", "site.updated", "site.deleted"}),
              auditActions(id));
}

TEST_P(SitesApiTest, AnotherOrganizationsSiteAnswersLikeAMissingOne) {
    std::string site = addSite(org_, "Secret");

    for (const char* method : {"GET", "PATCH", "DELETE"}) {
        json::value body = std::string(method) == "PATCH" ? json::value(json::object{{"name", "Z"}})
                                                          : json::value(nullptr);
        ApiResult other = call(method, "/api/sites/" + site, other_owner_, body);
        ApiResult missing = call(method, "/api/sites/" + newUuid(), other_owner_, body);
        ApiResult malformed = call(method, "/api/sites/12345", other_owner_, body);
        EXPECT_EQ(404, other.status) << method;
        EXPECT_EQ("not_found", other.errorCode()) << method;
        EXPECT_EQ(missing.raw.body, other.raw.body) << method;
        EXPECT_EQ(missing.raw.body, malformed.raw.body) << method;
    }
    EXPECT_EQ(200, get("/api/sites/" + site, owner_).status);
}

TEST_P(SitesApiTest, ListsShowNothingOfAnotherOrganization) {
    addSite(org_, "Mine");
    addSite(other_org_, "Theirs");

    EXPECT_TRUE(listAll("/api/sites?organization_id=" + org_, other_owner_).empty());
    json::array theirs = listAll("/api/sites", other_owner_);
    ASSERT_EQ(1u, theirs.size());
    EXPECT_EQ("Theirs", text(theirs[0].at("name")));
    EXPECT_EQ("invalid_parameter", get("/api/sites?organization_id=acme", owner_).errorCode());
    EXPECT_EQ("invalid_parameter", get("/api/sites?ordering=address", owner_).errorCode());
}

TEST_P(SitesApiTest, ANarrowedMemberSeesOnlyItsSite) {
    std::string north = addSite(org_, "North");
    std::string south = addSite(org_, "South");
    ApiUser technician = addUser(org_, auth::Role::technician, north);

    json::array visible = listAll("/api/sites", technician);
    ApiResult own = get("/api/sites/" + north, technician);
    ApiResult other = get("/api/sites/" + south, technician);
    ApiResult create_here = create(technician, {{"name", "Mine"}, {"organization_id", org_}});

    EXPECT_EQ(std::set<std::string>{north}, ids(visible));
    EXPECT_EQ(200, own.status);
    EXPECT_EQ(404, other.status);
    EXPECT_EQ(get("/api/sites/" + newUuid(), technician).raw.body, other.raw.body);
    EXPECT_EQ(403, create_here.status);
}

TEST_P(SitesApiTest, PagesWalkEverySiteOnceWhenCreationTimesTie) {
    std::set<std::string> expected;
    for (int i = 0; i < 23; ++i) {
        expected.insert(addSite(org_, "Site " + std::to_string(i % 7) + "-" + newUuid()));
    }
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("UPDATE sites SET created_at = 1700000000000000, "
                             "updated_at = 1700000000000000 WHERE organization_id = $1",
                             {org_})
                    .ok());

    for (const char* ordering : {"created_at", "-created_at", "updated_at", "name", "-name"}) {
        json::array rows = listAll(std::string("/api/sites?limit=5&ordering=") + ordering, owner_);
        EXPECT_EQ(23u, rows.size()) << ordering;
        EXPECT_EQ(expected, ids(rows)) << ordering;
    }
}

INSTANTIATE_TEST_SUITE_P(Stores, SitesApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
