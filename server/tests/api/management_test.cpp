// What every management area shares: keyset pagination over both stores, request body
// checks, and the visibility rules that decide between 404 and 403.
#include "api/management.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "api/pagination.h"
#include "api/request_body.h"
#include "core/crypto.h"
#include "support/test_server.h"

namespace esocore {
namespace {

namespace json = boost::json;
using api::Page;
using api::Principal;
using api::Target;

http::Request requestWithQuery(std::string query) {
    http::Request request;
    request.method = "GET";
    request.path = "/api/sites";
    request.query = std::move(query);
    return request;
}

class PaginationTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        server_ = std::make_unique<testing::TestServer>(GetParam());
        auto org = server_->store().ensureDefaultOrganization();
        ASSERT_TRUE(org.ok());
        org_ = org->id;
    }

    // `count` sites that all share one creation time.
    void addSites(int count, Micros created_at) {
        for (int i = 0; i < count; ++i) {
            std::string id = newUuid();
            ASSERT_TRUE(server_->store()
                            .sql()
                            .execute("INSERT INTO sites (id, organization_id, name, created_at, "
                                     "updated_at) VALUES ($1, $2, $3, $4, $5)",
                                     {id, org_, "site " + std::to_string(ids_.size()), created_at,
                                      created_at})
                            .ok());
            ids_.insert(id);
        }
    }

    // One page of sites after `cursor` in `ordering`.
    Result<json::object> page(const std::string& ordering, const std::string& cursor,
                              int limit = 5) {
        std::string query = "limit=" + std::to_string(limit) + "&ordering=" + ordering;
        if (!cursor.empty()) {
            query += "&cursor=" + cursor;
        }
        auto parsed = Page::parse(requestWithQuery(query),
                                  {{"created_at", "created_at", true}, {"name", "name"}},
                                  "-created_at", "id");
        if (!parsed) {
            return parsed.takeError();
        }
        store::SqlParams params{org_};
        std::string sql = "SELECT id, created_at FROM sites WHERE organization_id = $1" +
                          parsed->where(params) + parsed->orderAndLimit();
        auto rows = server_->store().sql().query(sql, params);
        if (!rows) {
            return rows.takeError();
        }
        json::array items;
        for (const auto& row : *rows) {
            items.emplace_back(json::string(row.text(0)));
        }
        return parsed->answer(std::move(items), *rows, 1, 0);
    }

    // Every id of a walk through all pages, in the order seen.
    std::vector<std::string> walk(const std::string& ordering, int limit) {
        std::vector<std::string> seen;
        std::string cursor;
        for (int guard = 0; guard < 1000; ++guard) {
            auto answer = page(ordering, cursor, limit);
            EXPECT_TRUE(answer.ok()) << (answer.ok() ? "" : answer.error().message);
            if (!answer) {
                break;
            }
            for (const auto& id : answer->at("results").as_array()) {
                seen.emplace_back(id.as_string());
            }
            if (answer->at("next").is_null()) {
                break;
            }
            cursor = std::string(answer->at("next").as_string());
        }
        return seen;
    }

    std::unique_ptr<testing::TestServer> server_;
    std::string org_;
    std::set<std::string> ids_;
};

TEST_P(PaginationTest, RowsSharingTheSortValueAreNeitherSkippedNorRepeated) {
    addSites(23, 1'700'000'000'000'000);
    addSites(14, 1'700'000'100'000'000);

    for (const std::string ordering : {"created_at", "-created_at"}) {
        for (int limit : {1, 5, 7, 50}) {
            std::vector<std::string> seen = walk(ordering, limit);
            EXPECT_EQ(ids_.size(), seen.size()) << ordering << " limit " << limit;
            EXPECT_EQ(ids_, std::set<std::string>(seen.begin(), seen.end()))
                << ordering << " limit " << limit;
        }
    }
}

TEST_P(PaginationTest, ARowAddedBeforeTheCursorDoesNotShiftLaterPages) {
    addSites(12, 1'700'000'000'000'000);
    auto first = page("created_at", "", 5);
    ASSERT_TRUE(first.ok());
    std::set<std::string> seen;
    for (const auto& id : first->at("results").as_array()) {
        seen.emplace(id.as_string());
    }
    addSites(1, 1'600'000'000'000'000);  // sorts before everything already shown

    std::string cursor(first->at("next").as_string());
    for (int guard = 0; guard < 10 && !cursor.empty(); ++guard) {
        auto next = page("created_at", cursor, 5);
        ASSERT_TRUE(next.ok());
        for (const auto& id : next->at("results").as_array()) {
            EXPECT_TRUE(seen.emplace(id.as_string()).second) << "repeated " << id;
        }
        cursor = next->at("next").is_null() ? "" : std::string(next->at("next").as_string());
    }
    EXPECT_EQ(12u, seen.size());
}

TEST_P(PaginationTest, ACursorOfAnotherOrderingOrForgedIsRefused) {
    addSites(8, 1'700'000'000'000'000);
    auto first = page("created_at", "", 3);
    ASSERT_TRUE(first.ok());
    std::string cursor(first->at("next").as_string());

    auto other = page("-created_at", cursor);
    ASSERT_FALSE(other.ok());
    EXPECT_EQ("invalid_cursor", other.error().code);

    auto forged = page("created_at", base64UrlEncode(R"(["created_at", 1, "x'; DROP"])"));
    ASSERT_FALSE(forged.ok());
    EXPECT_EQ("invalid_cursor", forged.error().code);

    auto garbage = page("created_at", "!!!");
    ASSERT_FALSE(garbage.ok());
    EXPECT_EQ("invalid_cursor", garbage.error().code);
}

TEST(PageTest, LimitAndOrderingAreChecked) {
    auto parse = [](std::string query) {
        return Page::parse(requestWithQuery(std::move(query)), {{"name", "name"}}, "name", "id");
    };
    EXPECT_EQ("invalid_parameter", parse("limit=0").error().code);
    EXPECT_EQ("invalid_parameter", parse("limit=501").error().code);
    EXPECT_EQ("invalid_parameter", parse("limit=ten").error().code);
    EXPECT_EQ("invalid_parameter", parse("ordering=password_hash").error().code);
    EXPECT_TRUE(parse("limit=500&ordering=-name").ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, PaginationTest, ::testing::ValuesIn(testing::storeKinds()));

TEST(BodyReaderTest, NamesEveryBadFieldInOneAnswer) {
    json::object body{{"name", 42},
                      {"time_zone", "Mars/Olympus"},
                      {"count", 1000},
                      {"mode", "fast"},
                      {"extra", true}};
    api::BodyReader reader(body);
    EXPECT_FALSE(reader.text("name", {.required = true}));
    EXPECT_FALSE(reader.timeZone("time_zone"));
    EXPECT_FALSE(reader.integer("count", {.min = 1, .max = 100}));
    EXPECT_FALSE(reader.choice("mode", {"slow", "careful"}));
    EXPECT_FALSE(reader.text("address", {.required = true}));
    reader.rejectUnknown({"name", "time_zone", "count", "mode", "address"});

    auto result = reader.result();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ("validation_failed", result.error().code);
    std::set<std::string> fields;
    for (const auto& [field, message] : result.error().fields) {
        fields.insert(field);
    }
    EXPECT_EQ((std::set<std::string>{"name", "time_zone", "count", "mode", "address", "extra"}),
              fields);
}

TEST(BodyReaderTest, AcceptsWellFormedFields) {
    json::object body{{"name", "Hall 3"},
                      {"time_zone", "Europe/Berlin"},
                      {"count", 7},
                      {"at", "2026-03-29T01:30:00+01:00"},
                      {"tags", json::array{"a", "b"}},
                      {"site_id", "0b6f1c3e-8a59-4a0e-9d0c-2f6f9c1b7a11"}};
    api::BodyReader reader(body);
    EXPECT_EQ("Hall 3", reader.text("name").value_or(""));
    EXPECT_EQ("Europe/Berlin", reader.timeZone("time_zone").value_or(""));
    EXPECT_EQ(7, reader.integer("count", {.min = 1, .max = 100}).value_or(0));
    EXPECT_EQ(1'774'744'200'000'000, reader.time("at").value_or(0));
    EXPECT_EQ(R"(["a","b"])", reader.stringArray("tags").value_or(""));
    EXPECT_TRUE(reader.id("site_id").has_value());
    EXPECT_TRUE(reader.result().ok());
}

Principal principal(std::vector<accounts::Membership> memberships, bool staff = false) {
    Principal p;
    p.user.id = "u1";
    p.user.is_staff = staff;
    p.memberships = std::move(memberships);
    return p;
}

TEST(VisibilityTest, AnotherOrganizationsObjectIsAbsentNotForbidden) {
    Principal viewer =
        principal({{"m1", "org-a", auth::Role::viewer, auth::Scope::organization, "", ""}});

    auto foreign =
        api::require(viewer, auth::Action::device_read, Target{"org-b", "", "d1"}, "device");
    ASSERT_FALSE(foreign.ok());
    EXPECT_EQ(404, foreign.error().status);
    EXPECT_EQ("device not found", foreign.error().message);

    auto disallowed =
        api::require(viewer, auth::Action::device_write, Target{"org-a", "", "d1"}, "device");
    ASSERT_FALSE(disallowed.ok());
    EXPECT_EQ(403, disallowed.error().status);
    EXPECT_TRUE(
        api::require(viewer, auth::Action::device_read, Target{"org-a", "", "d1"}, "device"));
}

TEST(VisibilityTest, ASiteMembershipSeesItsSiteAndTheOrganizationButNotOtherSites) {
    Principal tech =
        principal({{"m1", "org-a", auth::Role::technician, auth::Scope::site, "site-1", ""}});

    EXPECT_TRUE(api::maySee(tech, Target{"org-a", "site-1", "d1"}));
    EXPECT_TRUE(api::maySee(tech, Target{"org-a", "", ""}));
    EXPECT_FALSE(api::maySee(tech, Target{"org-a", "site-2", "d2"}));
    EXPECT_EQ(
        403,
        api::require(tech, auth::Action::member_read, Target{"org-a", "", ""}, "x").error().status);
}

TEST(VisibilityTest, AllowedRowsBindsOneAlternativePerMembershipThatAllowsTheAction) {
    Principal p = principal({
        {"m1", "org-a", auth::Role::viewer, auth::Scope::organization, "", ""},
        {"m2", "org-b", auth::Role::operator_, auth::Scope::site, "site-9", ""},
        {"m3", "org-c", auth::Role::technician, auth::Scope::device, "", "dev-3"},
    });
    api::ScopeColumns columns{"d.organization_id", "d.site_id", "d.id"};

    store::SqlParams params{std::string("first")};
    EXPECT_EQ("(d.organization_id = $2 OR d.site_id = $3 OR d.id = $4)",
              api::allowedRows(p, auth::Action::device_read, columns, params));
    EXPECT_EQ(4u, params.size());

    store::SqlParams write_params;
    EXPECT_EQ("(d.site_id = $1)",
              api::allowedRows(p, auth::Action::device_write, columns, write_params));

    store::SqlParams none;
    EXPECT_EQ("1 = 0", api::allowedRows(p, auth::Action::audit_read, columns, none));
    EXPECT_EQ("1 = 1",
              api::allowedRows(principal({}, true), auth::Action::audit_read, columns, none));
}

}  // namespace
}  // namespace esocore
