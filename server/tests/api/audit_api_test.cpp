// /api/audit-log over real HTTP on both stores: who reads which entries, the filters, and
// pages that walk entries sharing one time exactly once.
#include "api/audit_api.h"

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

class AuditApiTest : public testing::ApiTest {
protected:
    std::string text(const json::value& value) { return std::string(value.as_string()); }

    // An entry written straight to the log.
    void addEntry(const std::string& organization_id, const std::string& action, Micros at,
                  const std::string& user_id = {}) {
        auto done = server_->store().sql().execute(
            "INSERT INTO audit_log (user_id, organization_id, action, target_type, target_id, "
            "created_at) VALUES ($1, $2, $3, 'site', 'S-1', $4)",
            {store::textOrNull(user_id), store::textOrNull(organization_id), action, at});
        ASSERT_TRUE(done.ok());
    }

    std::multiset<std::string> actions(const std::string& path, const ApiUser& user) {
        std::multiset<std::string> out;
        for (const auto& entry : listAll(path, user)) {
            out.insert(text(entry.at("action")));
        }
        return out;
    }
};

TEST_P(AuditApiTest, OwnersReadTheirOrganizationsEntriesOnly) {
    ApiUser staff = addStaff();
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    ApiUser admin = addUser(org_, auth::Role::admin);
    addEntry(org_, "site.created", 1000, owner_.id);
    addEntry(other_org_, "site.deleted", 2000);
    addEntry({}, "sign_in.failed", 3000);

    EXPECT_EQ(std::multiset<std::string>{"site.created"}, actions("/api/audit-log", owner_));
    EXPECT_EQ(std::multiset<std::string>{"site.created"}, actions("/api/audit-log", admin));
    EXPECT_TRUE(listAll("/api/audit-log", viewer).empty());
    // Naming an organization: another one is absent, one's own without the right refused.
    EXPECT_EQ("not_found", get("/api/audit-log?organization_id=" + other_org_, owner_).errorCode());
    EXPECT_EQ("permission_denied",
              get("/api/audit-log?organization_id=" + org_, viewer).errorCode());
    EXPECT_EQ((std::multiset<std::string>{"site.created", "site.deleted", "sign_in.failed"}),
              actions("/api/audit-log", staff));
}

TEST_P(AuditApiTest, AnEntryNamesWhoDidWhatFromWhere) {
    ApiResult created = call("POST", "/api/sites", owner_, json::object{{"name", "Logged"}},
                             {{"User-Agent", "audit-test/1.0"}});
    ASSERT_EQ(201, created.status);

    ApiResult page = get("/api/audit-log?action=site.created", owner_);

    ASSERT_EQ(1u, page.results().size());
    const json::value& entry = page.results()[0];
    EXPECT_EQ(owner_.id, text(entry.at("user_id")));
    EXPECT_EQ(owner_.email, text(entry.at("user_email")));
    EXPECT_EQ(org_, text(entry.at("organization_id")));
    EXPECT_EQ("site", text(entry.at("target_type")));
    EXPECT_EQ(text(created["id"]), text(entry.at("target_id")));
    EXPECT_EQ("audit-test/1.0", text(entry.at("user_agent")));
    EXPECT_EQ("127.0.0.1", text(entry.at("ip_address")));
}

TEST_P(AuditApiTest, FiltersNarrowTheLog) {
    ApiUser admin = addUser(org_, auth::Role::admin);
    addEntry(org_, "site.created", 1'000'000, owner_.id);
    addEntry(org_, "site.updated", 2'000'000, admin.id);
    addEntry(org_, "sign_in", 3'000'000, admin.id);
    addEntry(org_, "signXin", 4'000'000, admin.id);

    EXPECT_EQ((std::multiset<std::string>{"site.created", "site.updated"}),
              actions("/api/audit-log?action=site.", owner_));
    EXPECT_EQ(std::multiset<std::string>{"sign_in"},
              actions("/api/audit-log?action=sign_in", owner_));
    EXPECT_EQ((std::multiset<std::string>{"site.updated", "sign_in", "signXin"}),
              actions("/api/audit-log?user_id=" + admin.id, owner_));
    EXPECT_EQ(
        (std::multiset<std::string>{"site.updated", "sign_in"}),
        actions("/api/audit-log?since=1970-01-01T00:00:02Z&until=1970-01-01T00:00:04Z", owner_));
    EXPECT_EQ(4u, listAll("/api/audit-log?target_type=site&target_id=S-1", owner_).size());
    EXPECT_TRUE(listAll("/api/audit-log?target_id=S-2", owner_).empty());
    EXPECT_EQ("invalid_parameter", get("/api/audit-log?since=yesterday", owner_).errorCode());
    EXPECT_EQ("invalid_parameter", get("/api/audit-log?user_id=7", owner_).errorCode());
}

TEST_P(AuditApiTest, PagesWalkEntriesSharingOneTimeOnce) {
    for (int i = 0; i < 23; ++i) {
        addEntry(org_, "tie." + std::to_string(i), 5'000'000);
    }

    for (const char* ordering : {"created_at", "-created_at"}) {
        json::array rows =
            listAll(std::string("/api/audit-log?limit=5&ordering=") + ordering, owner_);
        std::set<std::string> ids;
        for (const auto& row : rows) {
            ids.insert(text(row.at("id")));
        }
        EXPECT_EQ(23u, rows.size()) << ordering;
        EXPECT_EQ(23u, ids.size()) << ordering;
    }
}

INSTANTIATE_TEST_SUITE_P(Stores, AuditApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
