// /api/stats and /api/branding over real HTTP on both stores: what the home page's counts
// include for each caller and filter, when a device counts as online, and the public names.
#include "api/overview_api.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>

#include "core/crypto.h"
#include "support/api_fixture.h"
#include "support/openapi_check.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::ApiResult;
using testing::ApiUser;

constexpr Micros kMinute = 60'000'000;
constexpr Micros kHour = 60 * kMinute;

class OverviewApiTest : public testing::ApiTest {
protected:
    void execute(const std::string& sql, const store::SqlParams& params) {
        auto done = server_->store().sql().execute(sql, params);
        ASSERT_TRUE(done.ok()) << sql << ": " << (done.ok() ? "" : done.error().message);
    }

    void seen(const std::string& device_id, Micros at) {
        execute("UPDATE devices SET last_seen = $1 WHERE id = $2", {at, device_id});
    }

    void addEvent(const std::string& organization_id, const std::string& device_id,
                  const std::string& severity, const std::string& status = "active") {
        Micros now = nowMicros();
        execute(
            "INSERT INTO events (id, organization_id, device_id, ts, received_at, type, category, "
            "severity, status) VALUES ($1, $2, $3, $4, $5, $6, 'safety', $7, $8)",
            {newUuid(), organization_id, device_id, now, now, "door_forced_" + randomToken(4),
             severity, status});
    }

    void addPacket(const std::string& device_id, Micros received_at, std::int64_t points) {
        execute(
            "INSERT INTO packets (device_id, idempotency_key, body_sha256, received_at, accepted, "
            "duplicates, rejected, points, events) VALUES ($1, $2, 'x', $3, $4, 0, 0, $5, 0)",
            {device_id, newUuid(), received_at, points, points});
    }

    void addAsset(const std::string& organization_id, const std::string& site_id) {
        Micros now = nowMicros();
        execute(
            "INSERT INTO assets (id, organization_id, site_id, external_id, created_at, "
            "updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
            {newUuid(), organization_id, store::textOrNull(site_id), "A-" + randomToken(4), now,
             now});
    }

    // The fleet of org_: at `site_`, a device seen now with an active critical event and a
    // packet of 100 points; elsewhere, one seen an hour ago (offline, high event, 50 points),
    // one seen an hour ago whose own offline timeout is two hours (online), one never seen in
    // maintenance, and a decommissioned one. Other Works has one device seen now.
    void addFleet() {
        Micros now = nowMicros();
        site_ = addSite(org_, "Plant");
        std::string at_site = addDevice(org_, site_).id;
        std::string late = addDevice(org_).id;
        std::string patient = addDevice(org_).id;
        std::string resting = addDevice(org_).id;
        std::string retired = addDevice(org_).id;
        std::string theirs = addDevice(other_org_).id;
        seen(at_site, now);
        seen(late, now - kHour);
        seen(patient, now - kHour);
        seen(theirs, now);
        execute("UPDATE devices SET config_overrides = $1 WHERE id = $2",
                {std::string(R"({"offline_timeout_s": 7200})"), patient});
        execute("UPDATE devices SET status = 'maintenance' WHERE id = $1", {resting});
        execute("UPDATE devices SET status = 'decommissioned' WHERE id = $1", {retired});
        addEvent(org_, at_site, "critical");
        addEvent(org_, late, "high");
        addEvent(org_, late, "low", "resolved");
        addEvent(other_org_, theirs, "critical");
        addPacket(at_site, now - kHour, 100);
        addPacket(late, now - 2 * kHour, 50);
        addPacket(at_site, now - 25 * kHour, 999);
        addPacket(theirs, now, 7);
        addAsset(org_, site_);
        addAsset(org_, {});
        addAsset(other_org_, {});
    }

    std::int64_t at(const ApiResult& result, std::initializer_list<std::string_view> path) {
        const json::value* value = &result.json;
        for (std::string_view key : path) {
            value = &value->at(key);
        }
        return value->as_int64();
    }

    std::string site_;
};

TEST_P(OverviewApiTest, StatsCountWhatTheCallerSees) {
    addFleet();

    ApiResult stats = get("/api/stats", owner_);

    ASSERT_EQ(200, stats.status) << stats.raw.body;
    EXPECT_EQ(5, at(stats, {"devices", "total"}));
    EXPECT_EQ(2, at(stats, {"devices", "online"}));
    EXPECT_EQ(2, at(stats, {"devices", "offline"}));
    EXPECT_EQ(2, at(stats, {"devices", "never_seen"}));
    EXPECT_EQ(3, at(stats, {"devices", "by_status", "active"}));
    EXPECT_EQ(1, at(stats, {"devices", "by_status", "maintenance"}));
    EXPECT_EQ(1, at(stats, {"devices", "by_status", "decommissioned"}));
    EXPECT_EQ(0, at(stats, {"devices", "by_status", "unclaimed"}));
    EXPECT_EQ(2, at(stats, {"events", "active"}));
    EXPECT_EQ(1, at(stats, {"events", "by_severity", "critical"}));
    EXPECT_EQ(1, at(stats, {"events", "by_severity", "high"}));
    EXPECT_EQ(0, at(stats, {"events", "by_severity", "low"}));
    EXPECT_EQ(150, at(stats, {"telemetry", "points_24h"}));
    EXPECT_EQ(2, at(stats, {"telemetry", "packets_24h"}));
    EXPECT_EQ(1, at(stats, {"sites"}));
    EXPECT_EQ(2, at(stats, {"assets"}));
}

TEST_P(OverviewApiTest, StatsNarrowToASite) {
    addFleet();

    ApiResult stats = get("/api/stats?site_id=" + site_, owner_);

    ASSERT_EQ(200, stats.status) << stats.raw.body;
    EXPECT_EQ(1, at(stats, {"devices", "total"}));
    EXPECT_EQ(1, at(stats, {"devices", "online"}));
    EXPECT_EQ(1, at(stats, {"events", "active"}));
    EXPECT_EQ(100, at(stats, {"telemetry", "points_24h"}));
    EXPECT_EQ(1, at(stats, {"sites"}));
    EXPECT_EQ(1, at(stats, {"assets"}));
}

TEST_P(OverviewApiTest, ASiteMemberCountsOnlyItsSite) {
    addFleet();
    ApiUser technician = addUser(org_, auth::Role::technician, site_);

    ApiResult stats = get("/api/stats", technician);

    ASSERT_EQ(200, stats.status) << stats.raw.body;
    EXPECT_EQ(1, at(stats, {"devices", "total"}));
    EXPECT_EQ(1, at(stats, {"events", "by_severity", "critical"}));
    EXPECT_EQ(100, at(stats, {"telemetry", "points_24h"}));
    EXPECT_EQ(1, at(stats, {"sites"}));
    EXPECT_EQ(1, at(stats, {"assets"}));
}

TEST_P(OverviewApiTest, AnotherOrganizationFilteredCountsNothing) {
    addFleet();

    ApiResult theirs = get("/api/stats", other_owner_);
    ApiResult ours = get("/api/stats?organization_id=" + org_, other_owner_);

    ASSERT_EQ(200, theirs.status);
    EXPECT_EQ(1, at(theirs, {"devices", "total"}));
    EXPECT_EQ(7, at(theirs, {"telemetry", "points_24h"}));
    ASSERT_EQ(200, ours.status);
    for (auto path : {std::initializer_list<std::string_view>{"devices", "total"},
                      {"events", "active"},
                      {"telemetry", "points_24h"},
                      {"sites"},
                      {"assets"}}) {
        EXPECT_EQ(0, at(ours, path));
    }
}

TEST_P(OverviewApiTest, BadFiltersAreRefused) {
    ApiResult bad = get("/api/stats?site_id=plant-1", owner_);

    EXPECT_EQ(400, bad.status);
    EXPECT_EQ("invalid_parameter", bad.errorCode());
}

// GET /api/branding without credentials, checked against the document.
json::value branding(testing::TestServer& server) {
    testing::HttpResult raw = server.client().get("/api/branding");
    EXPECT_EQ(200, raw.status) << raw.body;
    EXPECT_EQ("", testing::checkAgainstDocument("GET", "/api/branding", raw.status,
                                                raw.header("content-type"), raw.body));
    return json::parse(raw.body);
}

TEST_P(OverviewApiTest, BrandingIsPublicWithDefaultNames) {
    json::value names = branding(*server_);

    EXPECT_EQ("EsoCore", names.at("brand_name").as_string());
    EXPECT_EQ("EsoCore Cloud", names.at("product_name").as_string());
    EXPECT_EQ("EsoCore Cloud Admin", names.at("admin_title").as_string());
}

TEST_P(OverviewApiTest, BrandingComesFromTheEnvironment) {
    setenv("BRAND_NAME", "Acme", 1);
    setenv("PRODUCT_NAME", "Acme Watch", 1);
    setenv("ADMIN_TITLE", "Acme Watch Admin", 1);
    Config loaded = loadConfig();
    unsetenv("BRAND_NAME");
    unsetenv("PRODUCT_NAME");
    unsetenv("ADMIN_TITLE");
    testing::TestServer branded(GetParam(), [&](Config& config) {
        config.brand_name = loaded.brand_name;
        config.product_name = loaded.product_name;
        config.admin_title = loaded.admin_title;
    });

    json::value names = branding(branded);

    EXPECT_EQ("Acme", names.at("brand_name").as_string());
    EXPECT_EQ("Acme Watch", names.at("product_name").as_string());
    EXPECT_EQ("Acme Watch Admin", names.at("admin_title").as_string());
}

INSTANTIATE_TEST_SUITE_P(Stores, OverviewApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
