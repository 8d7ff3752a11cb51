// /api/firmware and /api/rollouts over real HTTP on both stores: uploads streamed to disk and
// signed, platform-wide bundles that only staff change, each organization's rollouts with
// their progress, pause, resume and cancel, the automatic pause with its events, and the
// rollout's progress on the live channel.
#include "api/firmware_api.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "core/crypto.h"
#include "ota/rollout_rules.h"
#include "support/api_fixture.h"
#include "support/device_client.h"
#include "support/openapi_check.h"
#include "support/websocket_client.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::ApiResult;
using testing::ApiUser;
using testing::DeviceClient;
using testing::TestDevice;

std::string fromBase64(std::string_view text) {
    std::string out(text.size(), '\0');
    std::size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        return {};
    }
    out.resize(length);
    return out;
}

// An image whose bytes differ for every version.
std::string imageOf(const std::string& version, std::size_t size = 8192) {
    std::string image(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        image[i] = static_cast<char>((i * 131 + version.size() * 17 + version.back()) & 0xff);
    }
    return image;
}

std::string text(const json::value& value) {
    return value.is_string() ? std::string(value.as_string()) : std::string();
}

class FirmwareApiTest : public testing::ApiTest {
protected:
    void SetUp() override {
        ApiTest::SetUp();
        staff_ = addStaff();
    }

    // The fixture again, on a server whose configuration `adjust` changes.
    void restart(std::function<void(Config&)> adjust) {
        server_ = std::make_unique<testing::TestServer>(GetParam(), std::move(adjust));
        org_ = addOrganization("Acme Doors");
        owner_ = addUser(org_, auth::Role::owner);
        other_org_ = addOrganization("Other Works");
        other_owner_ = addUser(other_org_, auth::Role::owner);
        staff_ = addStaff();
    }

    static std::string rollout(const std::string& id, const std::string& action = {}) {
        return "/api/rollouts/" + id + (action.empty() ? "" : "/" + action);
    }

    // POST /api/firmware with the image as the body, checked against the document.
    ApiResult upload(const ApiUser& user, const std::string& image, const std::string& query,
                     const std::string& content_type = "application/octet-stream") {
        testing::Headers headers = user.headers();
        headers.emplace_back("Content-Type", content_type);
        std::string path = "/api/firmware?" + query;
        ApiResult result;
        result.raw = server_->client().request("POST", path, image, headers);
        result.status = result.raw.status;
        json::error_code ec;
        result.json = json::parse(result.raw.body, ec);
        if (ec) {
            result.json = nullptr;
        }
        EXPECT_EQ(
            "", testing::checkAgainstDocument("POST", path, result.status,
                                              result.raw.header("content-type"), result.raw.body));
        return result;
    }

    std::string uploadBundle(const std::string& version, const std::string& channel = "stable",
                             const std::string& model = "esocore-edge") {
        ApiResult result = upload(staff_, imageOf(version),
                                  "version=" + version + "&channel=" + channel + "&model=" + model);
        EXPECT_EQ(201, result.status) << result.raw.body;
        return text(result["id"]);
    }

    ApiResult createRollout(const ApiUser& user, json::object body) {
        return call("POST", "/api/rollouts", user, body);
    }

    std::string startRollout(const std::string& bundle_id, json::object extra = {}) {
        json::object body{{"bundle_id", bundle_id}, {"kind", "immediate"}};
        for (const auto& [key, value] : extra) {
            body[key] = value;
        }
        ApiResult result = createRollout(owner_, body);
        EXPECT_EQ(201, result.status) << result.raw.body;
        return text(result["id"]);
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

    std::vector<std::filesystem::path> spooledFiles() {
        std::vector<std::filesystem::path> files;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(
                 server_->dataDir() / "firmware" / "incoming", ec)) {
            files.push_back(entry.path());
        }
        return files;
    }

    // A device of the organization that checks for the update and reports `statuses`.
    std::unique_ptr<DeviceClient> deviceAt(const std::string& organization_id) {
        return std::make_unique<DeviceClient>(*server_, addDevice(organization_id));
    }

    static void reportAll(DeviceClient& device, std::initializer_list<const char*> statuses) {
        ASSERT_EQ(200, device.get("ota/check?version=1.0.0").status);
        for (const char* status : statuses) {
            auto result =
                device.post("ota/report", json::serialize(json::object{{"status", status}}));
            ASSERT_EQ(200, result.status) << status << ": " << result.body;
        }
    }

    json::object progress(const std::string& rollout_id) {
        ApiResult result = get(rollout(rollout_id), owner_);
        EXPECT_EQ(200, result.status) << result.raw.body;
        return result["progress"].is_object() ? result["progress"].as_object() : json::object{};
    }

    ApiUser staff_;
};

// ---- Bundles -------------------------------------------------------------------------------

TEST_P(FirmwareApiTest, UploadStoresTheImageSignedWithThePublishedKey) {
    std::string image = imageOf("1.10.0", 3 * 1024 * 1024 + 17);

    ApiResult result = upload(staff_, image,
                              "version=v1.10.0&channel=beta&model=esocore-edge&model=edge-x"
                              "&release_notes=Faster%20boot");

    ASSERT_EQ(201, result.status) << result.raw.body;
    EXPECT_EQ("1.10.0", text(result["version"]));
    EXPECT_EQ("beta", text(result["channel"]));
    EXPECT_EQ((json::array{"edge-x", "esocore-edge"}), result["models"]);
    EXPECT_EQ("Faster boot", text(result["release_notes"]));
    EXPECT_EQ(static_cast<std::int64_t>(image.size()), result["size"].as_int64());
    EXPECT_EQ(sha256Hex(image), text(result["sha256"]));
    std::string key = fromBase64(text(get("/api/firmware/public-key", owner_)["public_key"]));
    std::string signature = fromBase64(text(result["signature"]));
    ASSERT_EQ(crypto_sign_BYTES, signature.size());
    EXPECT_EQ(0, crypto_sign_verify_detached(
                     reinterpret_cast<const unsigned char*>(signature.data()),
                     reinterpret_cast<const unsigned char*>(image.data()), image.size(),
                     reinterpret_cast<const unsigned char*>(key.data())));
    std::string id = text(result["id"]);
    std::ifstream stored(server_->dataDir() / "firmware" / (id + ".bin"), std::ios::binary);
    std::stringstream bytes;
    bytes << stored.rdbuf();
    EXPECT_EQ(image, bytes.str());
    EXPECT_TRUE(spooledFiles().empty());
    EXPECT_EQ((std::vector<std::string>{"firmware.uploaded"}), auditActions(id));
    EXPECT_EQ(result.json, get("/api/firmware/" + id, owner_).json);
}

TEST_P(FirmwareApiTest, OnlyPlatformStaffUploadEditOrDelete) {
    std::string id = uploadBundle("1.10.0");

    ApiResult upload_result = upload(owner_, imageOf("1.11.0"), "version=1.11.0&model=e");
    ApiResult patch = call("PATCH", "/api/firmware/" + id, owner_, {{"release_notes", "x"}});
    ApiResult remove = call("DELETE", "/api/firmware/" + id, owner_);

    for (const ApiResult* result : {&upload_result, &patch, &remove}) {
        EXPECT_EQ(403, result->status) << result->raw.body;
        EXPECT_EQ("permission_denied", result->errorCode());
    }
    EXPECT_EQ(1u, listAll("/api/firmware", owner_).size());
}

TEST_P(FirmwareApiTest, UploadWithAnInvalidVersionIs422) {
    for (const char* query :
         {"version=1.9&model=e", "version=banana&model=e", "model=e", "version=1.02.0&model=e"}) {
        ApiResult result = upload(staff_, imageOf("x"), query);

        EXPECT_EQ(422, result.status) << query;
        EXPECT_EQ("invalid_version", result.errorCode()) << query;
    }
    EXPECT_TRUE(spooledFiles().empty());
}

TEST_P(FirmwareApiTest, UploadOfAVersionTheChannelHasIs409) {
    uploadBundle("1.10.0");

    ApiResult same = upload(staff_, imageOf("a"), "version=1.10.0&model=e");
    ApiResult build = upload(staff_, imageOf("b"), "version=1.10.0%2Bbuild.7&model=e");
    ApiResult beta = upload(staff_, imageOf("c"), "version=1.10.0&channel=beta&model=e");

    EXPECT_EQ(409, same.status);
    EXPECT_EQ("version_exists", same.errorCode());
    EXPECT_EQ(409, build.status);
    EXPECT_EQ("version_exists", build.errorCode());
    EXPECT_EQ(201, beta.status) << beta.raw.body;
}

TEST_P(FirmwareApiTest, UploadNeedsTheRawImageAModelAndAChannel) {
    ApiResult form =
        upload(staff_, "a=b", "version=1.0.0&model=e", "application/x-www-form-urlencoded");
    ApiResult no_model = upload(staff_, imageOf("1"), "version=1.0.0");
    ApiResult bad_model = upload(staff_, imageOf("1"), "version=1.0.0&model=has%20space");
    ApiResult bad_channel = upload(staff_, imageOf("1"), "version=1.0.0&model=e&channel=nightly");
    ApiResult empty = upload(staff_, "", "version=1.0.0&model=e");

    EXPECT_EQ(415, form.status);
    EXPECT_EQ("unsupported_media_type", form.errorCode());
    EXPECT_EQ(400, no_model.status);
    EXPECT_EQ("invalid_parameter", no_model.errorCode());
    EXPECT_EQ(400, bad_model.status);
    EXPECT_EQ(400, bad_channel.status);
    EXPECT_EQ("invalid_parameter", bad_channel.errorCode());
    EXPECT_EQ(422, empty.status);
    EXPECT_EQ("empty_image", empty.errorCode());
    EXPECT_TRUE(spooledFiles().empty());
}

TEST_P(FirmwareApiTest, UploadLargerThanTheLimitIs413AndLeavesNothing) {
    restart([](Config& config) { config.max_firmware_bytes = 64 * 1024; });

    ApiResult result = upload(staff_, imageOf("1.0.0", 64 * 1024 + 1), "version=1.0.0&model=e");
    ApiResult fits = upload(staff_, imageOf("1.0.0", 64 * 1024), "version=1.0.0&model=e");

    EXPECT_EQ(413, result.status);
    EXPECT_EQ("body_too_large", result.errorCode());
    EXPECT_EQ(201, fits.status) << fits.raw.body;
    EXPECT_TRUE(spooledFiles().empty());
}

TEST_P(FirmwareApiTest, ListFiltersByChannelModelVersionAndSearch) {
    uploadBundle("1.0.0", "stable", "esocore-edge");
    uploadBundle("1.1.0-beta.1", "beta", "esocore-edge");
    uploadBundle("2.0.0", "stable", "edge-x");
    auto versions = [&](const std::string& query) {
        std::set<std::string> out;
        for (const auto& row : listAll("/api/firmware" + query, owner_)) {
            out.insert(std::string(row.at("version").as_string()));
        }
        return out;
    };

    EXPECT_EQ((std::set<std::string>{"1.0.0", "2.0.0"}), versions("?channel=stable"));
    EXPECT_EQ((std::set<std::string>{"2.0.0"}), versions("?model=edge-x"));
    EXPECT_EQ((std::set<std::string>{"1.1.0-beta.1"}), versions("?version=v1.1.0-beta.1"));
    EXPECT_EQ((std::set<std::string>{"1.1.0-beta.1"}), versions("?search=BETA"));
    EXPECT_EQ(400, get("/api/firmware?channel=nightly", owner_).status);
}

TEST_P(FirmwareApiTest, ListPagesThroughBundlesSharingAnUploadTime) {
    for (int i = 0; i < 7; ++i) {
        uploadBundle("1.0." + std::to_string(i));
    }
    ASSERT_TRUE(server_->store().sql().execute("UPDATE firmware_bundles SET created_at = 5").ok());

    json::array rows = listAll("/api/firmware?limit=2", owner_);

    std::set<std::string> ids;
    for (const auto& row : rows) {
        ids.insert(std::string(row.at("id").as_string()));
    }
    EXPECT_EQ(7u, rows.size());
    EXPECT_EQ(7u, ids.size());
}

TEST_P(FirmwareApiTest, EveryMemberWhoReadsFirmwareSeesTheBundles) {
    std::string id = uploadBundle("1.10.0");
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    ApiUser outsider = addUser({}, auth::Role::viewer);

    EXPECT_EQ(200, get("/api/firmware/" + id, viewer).status);
    EXPECT_EQ(1u, listAll("/api/firmware", other_owner_).size());
    ApiResult refused = get("/api/firmware", outsider);
    EXPECT_EQ(403, refused.status);
    EXPECT_EQ("permission_denied", refused.errorCode());
}

TEST_P(FirmwareApiTest, MissingOrMalformedBundleIs404) {
    ApiResult missing = get("/api/firmware/" + newUuid(), owner_);
    ApiResult malformed = get("/api/firmware/not-an-id", owner_);

    EXPECT_EQ(404, missing.status);
    EXPECT_EQ("not_found", missing.errorCode());
    EXPECT_EQ(missing.raw.body, malformed.raw.body);
}

TEST_P(FirmwareApiTest, PatchChangesNotesModelsAndChannel) {
    std::string id = uploadBundle("1.10.0", "beta");

    ApiResult result = call("PATCH", "/api/firmware/" + id, staff_,
                            {{"release_notes", "# 1.10.0\nFixes."},
                             {"models", json::array{"edge-x"}},
                             {"channel", "stable"}});

    ASSERT_EQ(200, result.status) << result.raw.body;
    EXPECT_EQ("# 1.10.0\nFixes.", text(result["release_notes"]));
    EXPECT_EQ(json::array{"edge-x"}, result["models"]);
    EXPECT_EQ("stable", text(result["channel"]));
    EXPECT_EQ((std::vector<std::string>{"firmware.uploaded", "firmware.updated"}),
              auditActions(id));
}

TEST_P(FirmwareApiTest, PatchOntoAChannelWithThatVersionIs409AndBadFieldsAre400) {
    uploadBundle("1.10.0", "stable");
    std::string beta = uploadBundle("1.10.0", "beta");

    ApiResult moved = call("PATCH", "/api/firmware/" + beta, staff_, {{"channel", "stable"}});
    ApiResult invalid = call("PATCH", "/api/firmware/" + beta, staff_,
                             {{"models", json::array{}}, {"channel", "nightly"}, {"size", 1}});

    EXPECT_EQ(409, moved.status);
    EXPECT_EQ("version_exists", moved.errorCode());
    EXPECT_EQ(400, invalid.status);
    EXPECT_EQ("validation_failed", invalid.errorCode());
    const json::object& fields = invalid["error"].at("fields").as_object();
    for (const char* field : {"models", "channel", "size"}) {
        EXPECT_TRUE(fields.contains(field)) << field << " in " << invalid.raw.body;
    }
}

TEST_P(FirmwareApiTest, DeleteIsRefusedWhileARolloutUsesTheBundle) {
    std::string id = uploadBundle("1.10.0");
    std::string started = startRollout(id);

    ApiResult refused = call("DELETE", "/api/firmware/" + id, staff_);
    ASSERT_EQ(200, call("POST", rollout(started, "cancel"), owner_).status);
    ApiResult removed = call("DELETE", "/api/firmware/" + id, staff_);

    EXPECT_EQ(409, refused.status);
    EXPECT_EQ("bundle_in_use", refused.errorCode());
    EXPECT_EQ(204, removed.status) << removed.raw.body;
    EXPECT_EQ(404, get("/api/firmware/" + id, staff_).status);
    EXPECT_EQ(404, get(rollout(started), owner_).status);
    EXPECT_FALSE(std::filesystem::exists(server_->dataDir() / "firmware" / (id + ".bin")));
    EXPECT_EQ((std::vector<std::string>{"firmware.uploaded", "firmware.deleted"}),
              auditActions(id));
}

TEST_P(FirmwareApiTest, PublicKeyIsTheOneDevicesGet) {
    ApiResult key = get("/api/firmware/public-key", owner_);
    auto device = server_->client().get("/api/iot/v1/ota/public-key");

    ASSERT_EQ(200, key.status);
    EXPECT_EQ(key.json, json::parse(device.body));
    EXPECT_EQ(crypto_sign_PUBLICKEYBYTES, fromBase64(text(key["public_key"])).size());
}

// ---- Rollouts ------------------------------------------------------------------------------

TEST_P(FirmwareApiTest, ImmediateRolloutReachesTheOrganizationsDevices) {
    for (int i = 0; i < 3; ++i) {
        addDevice(org_);
    }
    addDevice(other_org_);
    std::string bundle = uploadBundle("1.10.0");

    ApiResult result =
        createRollout(owner_, {{"bundle_id", bundle}, {"kind", "immediate"}, {"name", "Spring"}});

    ASSERT_EQ(201, result.status) << result.raw.body;
    EXPECT_EQ(org_, text(result["organization_id"]));
    EXPECT_EQ("1.10.0", text(result["version"]));
    EXPECT_EQ("active", text(result["status"]));
    EXPECT_EQ(100, result["percentage"].as_int64());
    EXPECT_EQ(10, result["failure_threshold_percent"].as_int64());
    EXPECT_EQ(3, result["failure_minimum"].as_int64());
    EXPECT_EQ(owner_.id, text(result["created_by"]));
    EXPECT_EQ(3, result["progress"].at("targeted").as_int64());
    EXPECT_EQ(3, result["progress"].at("pending").as_int64());
    std::string id = text(result["id"]);
    EXPECT_EQ(result.json, get(rollout(id), owner_).json);
    EXPECT_EQ((std::vector<std::string>{"rollout.created"}), auditActions(id));
}

TEST_P(FirmwareApiTest, CreateValidatesEachKind) {
    std::string bundle = uploadBundle("1.10.0");
    TestDevice foreign = addDevice(other_org_);
    struct Case {
        json::object body;
        const char* field;
    };
    std::vector<Case> cases = {
        {{{"bundle_id", bundle}, {"kind", "staged"}}, "percentage"},
        {{{"bundle_id", bundle}, {"kind", "staged"}, {"percentage", 100.5}}, "percentage"},
        {{{"bundle_id", bundle}, {"kind", "staged"}, {"percentage", 12.345}}, "percentage"},
        {{{"bundle_id", bundle}, {"kind", "immediate"}, {"percentage", 50}}, "percentage"},
        {{{"bundle_id", bundle}, {"kind", "manual"}}, "device_ids"},
        {{{"bundle_id", bundle}, {"kind", "immediate"}, {"tag", "pilot"}}, "tag"},
        {{{"bundle_id", bundle}, {"kind", "manual"}, {"device_ids", json::array{foreign.id}}},
         "device_ids"},
        {{{"bundle_id", newUuid()}, {"kind", "immediate"}}, "bundle_id"},
        {{{"bundle_id", bundle}, {"kind", "sometimes"}}, "kind"},
        {{{"kind", "immediate"}}, "bundle_id"},
        {{{"bundle_id", bundle}, {"kind", "immediate"}, {"failure_threshold_percent", 0}},
         "failure_threshold_percent"},
        {{{"bundle_id", bundle}, {"kind", "immediate"}, {"failure_minimum", 0}}, "failure_minimum"},
        {{{"bundle_id", bundle}, {"kind", "immediate"}, {"speed", "fast"}}, "speed"},
    };
    for (const auto& c : cases) {
        ApiResult result = createRollout(owner_, c.body);

        EXPECT_EQ(400, result.status) << json::serialize(c.body);
        EXPECT_EQ("validation_failed", result.errorCode()) << result.raw.body;
        const json::value& fields = result["error"].at("fields");
        EXPECT_TRUE(fields.is_object() && fields.as_object().contains(c.field))
            << c.field << " in " << result.raw.body;
    }
    EXPECT_TRUE(listAll("/api/rollouts", owner_).empty());
}

TEST_P(FirmwareApiTest, SecondOpenRolloutOfABundleIs409) {
    std::string bundle = uploadBundle("1.10.0");
    startRollout(bundle);

    ApiResult again = createRollout(owner_, {{"bundle_id", bundle}, {"kind", "immediate"}});
    ApiResult elsewhere =
        createRollout(other_owner_, {{"bundle_id", bundle}, {"kind", "immediate"}});

    EXPECT_EQ(409, again.status);
    EXPECT_EQ("rollout_exists", again.errorCode());
    EXPECT_EQ(201, elsewhere.status) << elsewhere.raw.body;
}

TEST_P(FirmwareApiTest, RolesThatMayNotManageRolloutsAre403) {
    std::string bundle = uploadBundle("1.10.0");
    std::string id = startRollout(bundle);
    ApiUser viewer = addUser(org_, auth::Role::viewer);
    ApiUser technician = addUser(org_, auth::Role::technician);
    ApiUser operator_user = addUser(org_, auth::Role::operator_);

    for (const ApiUser* user : {&viewer, &technician}) {
        ApiResult create = createRollout(*user, {{"bundle_id", bundle}, {"kind", "immediate"}});
        ApiResult pause = call("POST", rollout(id, "pause"), *user);

        EXPECT_EQ(403, create.status);
        EXPECT_EQ("permission_denied", create.errorCode());
        EXPECT_EQ(403, pause.status);
        EXPECT_EQ(200, get(rollout(id), *user).status);
    }
    EXPECT_EQ(200, call("POST", rollout(id, "pause"), operator_user).status);
}

TEST_P(FirmwareApiTest, AnotherOrganizationsRolloutIs404LikeAMissingOne) {
    std::string id = startRollout(uploadBundle("1.10.0"));
    std::string missing = newUuid();
    struct Request {
        const char* method;
        std::string action;
        json::value body;
    };
    std::vector<Request> requests = {
        {"GET", "", nullptr},        {"PATCH", "", json::object{{"name", "x"}}},
        {"POST", "pause", nullptr},  {"POST", "resume", nullptr},
        {"POST", "cancel", nullptr}, {"GET", "devices", nullptr}};
    for (const auto& r : requests) {
        ApiResult foreign = call(r.method, rollout(id, r.action), other_owner_, r.body);
        ApiResult absent = call(r.method, rollout(missing, r.action), other_owner_, r.body);
        ApiResult malformed = call(r.method, rollout("42", r.action), other_owner_, r.body);

        EXPECT_EQ(404, foreign.status) << r.method << " " << r.action;
        EXPECT_EQ("not_found", foreign.errorCode());
        EXPECT_EQ(absent.raw.body, foreign.raw.body) << r.method << " " << r.action;
        EXPECT_EQ(absent.raw.body, malformed.raw.body) << r.method << " " << r.action;
    }
    EXPECT_EQ("active", text(get(rollout(id), owner_)["status"]));
}

TEST_P(FirmwareApiTest, ListShowsTheCallersOrganizationsAndFilters) {
    std::string first = uploadBundle("1.10.0");
    std::string second = uploadBundle("1.11.0");
    std::string mine = startRollout(first);
    std::string staged = startRollout(second, {{"kind", "staged"}, {"percentage", 5}});
    ASSERT_EQ(201,
              createRollout(other_owner_, {{"bundle_id", first}, {"kind", "immediate"}}).status);
    ASSERT_EQ(200, call("POST", rollout(mine, "pause"), owner_).status);
    auto ids = [&](const std::string& query, const ApiUser& user) {
        std::set<std::string> out;
        for (const auto& row : listAll("/api/rollouts" + query, user)) {
            out.insert(std::string(row.at("id").as_string()));
        }
        return out;
    };

    EXPECT_EQ((std::set<std::string>{mine, staged}), ids("", owner_));
    EXPECT_EQ((std::set<std::string>{mine}), ids("?status=paused", owner_));
    EXPECT_EQ((std::set<std::string>{staged}), ids("?kind=staged,manual", owner_));
    EXPECT_EQ((std::set<std::string>{staged}), ids("?bundle_id=" + second, owner_));
    EXPECT_EQ((std::set<std::string>{staged}), ids("?search=1.11", owner_));
    EXPECT_TRUE(ids("?organization_id=" + org_, other_owner_).empty());
    EXPECT_EQ(3u, ids("", staff_).size());
    EXPECT_EQ(400, get("/api/rollouts?status=sleeping", owner_).status);
    EXPECT_EQ(400, get("/api/rollouts?bundle_id=x", owner_).status);
}

TEST_P(FirmwareApiTest, ListPagesThroughRolloutsSharingACreationTime) {
    for (int i = 0; i < 5; ++i) {
        startRollout(uploadBundle("2.0." + std::to_string(i)));
    }
    ASSERT_TRUE(server_->store().sql().execute("UPDATE rollouts SET created_at = 7").ok());

    json::array rows = listAll("/api/rollouts?limit=2", owner_);

    std::set<std::string> ids;
    for (const auto& row : rows) {
        ids.insert(std::string(row.at("id").as_string()));
    }
    EXPECT_EQ(5u, rows.size());
    EXPECT_EQ(5u, ids.size());
}

TEST_P(FirmwareApiTest, RaisingAStagedRolloutOnlyAddsDevices) {
    std::vector<TestDevice> devices;
    for (int i = 0; i < 40; ++i) {
        devices.push_back(addDevice(org_));
    }
    std::string id = startRollout(uploadBundle("1.10.0"), {{"kind", "staged"}, {"percentage", 25}});
    auto reached = [&] {
        std::set<std::string> out;
        for (const auto& row : listAll(rollout(id, "devices"), owner_)) {
            out.insert(std::string(row.at("device_id").as_string()));
        }
        return out;
    };
    auto expected = [&](std::int64_t bp) {
        std::set<std::string> out;
        for (const auto& d : devices) {
            if (ota::bucketOf(d.id) < bp) {
                out.insert(d.id);
            }
        }
        return out;
    };
    std::set<std::string> first = reached();
    ASSERT_EQ(expected(2500), first);

    ApiResult raised = call("PATCH", rollout(id), owner_, {{"percentage", 62.5}});

    ASSERT_EQ(200, raised.status) << raised.raw.body;
    EXPECT_EQ(62.5, raised["percentage"].as_double());
    std::set<std::string> second = reached();
    EXPECT_EQ(expected(6250), second);
    EXPECT_TRUE(std::includes(second.begin(), second.end(), first.begin(), first.end()));
    EXPECT_EQ(static_cast<std::int64_t>(second.size()),
              raised["progress"].at("targeted").as_int64());
    EXPECT_EQ((std::vector<std::string>{"rollout.created", "rollout.updated"}), auditActions(id));
}

TEST_P(FirmwareApiTest, PatchRefusesFieldsOfOtherKinds) {
    std::string id = startRollout(uploadBundle("1.10.0"));

    ApiResult result =
        call("PATCH", rollout(id), owner_, {{"percentage", 50}, {"device_ids", json::array{}}});

    EXPECT_EQ(400, result.status);
    EXPECT_EQ("validation_failed", result.errorCode());
    EXPECT_TRUE(result["error"].at("fields").as_object().contains("percentage"));
}

TEST_P(FirmwareApiTest, PauseResumeAndCancel) {
    std::string id = startRollout(uploadBundle("1.10.0"));

    ApiResult paused =
        call("POST", rollout(id, "pause"), owner_, json::object{{"reason", "watching 1.10"}});
    ApiResult again = call("POST", rollout(id, "pause"), owner_);
    ApiResult resumed = call("POST", rollout(id, "resume"), owner_);
    ApiResult cancelled = call("POST", rollout(id, "cancel"), owner_);
    ApiResult late_pause = call("POST", rollout(id, "pause"), owner_);
    ApiResult late_patch = call("PATCH", rollout(id), owner_, {{"name", "late"}});

    EXPECT_EQ("paused", text(paused["status"]));
    EXPECT_EQ("watching 1.10", text(paused["paused_reason"]));
    EXPECT_TRUE(paused["paused_at"].is_string());
    EXPECT_EQ(200, again.status);
    EXPECT_EQ("watching 1.10", text(again["paused_reason"]));
    EXPECT_EQ("active", text(resumed["status"]));
    EXPECT_TRUE(resumed["paused_reason"].is_null());
    EXPECT_EQ("cancelled", text(cancelled["status"]));
    EXPECT_EQ(409, late_pause.status);
    EXPECT_EQ("rollout_closed", late_pause.errorCode());
    EXPECT_EQ(409, late_patch.status);
    EXPECT_EQ("rollout_closed", late_patch.errorCode());
    EXPECT_EQ((std::vector<std::string>{"rollout.created", "rollout.paused", "rollout.resumed",
                                        "rollout.cancelled"}),
              auditActions(id));
}

TEST_P(FirmwareApiTest, PauseWithoutAReasonNamesWhoPaused) {
    std::string id = startRollout(uploadBundle("1.10.0"));

    ApiResult paused = call("POST", rollout(id, "pause"), owner_);

    EXPECT_EQ("paused by " + owner_.email, text(paused["paused_reason"]));
}

TEST_P(FirmwareApiTest, ProgressFollowsTheDevicesReports) {
    std::vector<std::unique_ptr<DeviceClient>> devices;
    for (int i = 0; i < 5; ++i) {
        devices.push_back(deviceAt(org_));
    }
    std::string id = startRollout(uploadBundle("1.10.0"), {{"failure_threshold_percent", 90}});
    reportAll(*devices[0], {});
    reportAll(*devices[1], {"downloading"});
    reportAll(*devices[2], {"downloading", "installing"});
    reportAll(*devices[3], {"downloading", "installing", "completed"});

    json::object p = progress(id);

    EXPECT_EQ(5, p.at("targeted").as_int64());
    EXPECT_EQ(1, p.at("pending").as_int64());
    EXPECT_EQ(1, p.at("offered").as_int64());
    EXPECT_EQ(1, p.at("downloading").as_int64());
    EXPECT_EQ(1, p.at("installing").as_int64());
    EXPECT_EQ(1, p.at("completed").as_int64());
    EXPECT_EQ(0, p.at("failed").as_int64());
    ApiResult device = get("/api/devices/" + devices[3]->device().id, owner_);
    EXPECT_EQ("1.10.0", text(device["firmware_version"])) << device.raw.body;
    json::array completed = listAll(rollout(id, "devices") + "?status=completed", owner_);
    ASSERT_EQ(1u, completed.size());
    EXPECT_EQ(devices[3]->device().id, completed[0].at("device_id").as_string());
    EXPECT_EQ("1.0.0", completed[0].at("from_version").as_string());
}

TEST_P(FirmwareApiTest, DevicesOfARolloutPageBySerialAndFilter) {
    for (int i = 0; i < 7; ++i) {
        addDevice(org_);
    }
    std::string id = startRollout(uploadBundle("1.10.0"));

    json::array rows = listAll(rollout(id, "devices") + "?limit=3", owner_);

    std::set<std::string> serials;
    for (const auto& row : rows) {
        serials.insert(std::string(row.at("serial").as_string()));
        EXPECT_EQ("pending", row.at("state").as_string());
    }
    EXPECT_EQ(7u, rows.size());
    EXPECT_EQ(7u, serials.size());
    EXPECT_TRUE(listAll(rollout(id, "devices") + "?status=failed", owner_).empty());
    EXPECT_EQ("invalid_parameter",
              get(rollout(id, "devices") + "?status=lost", owner_).errorCode());
    EXPECT_EQ("invalid_cursor", get(rollout(id, "devices") + "?cursor=%25%25", owner_).errorCode());
}

TEST_P(FirmwareApiTest, FailuresPauseTheRolloutAndTheEventsShow) {
    std::vector<std::unique_ptr<DeviceClient>> devices;
    for (int i = 0; i < 4; ++i) {
        devices.push_back(deviceAt(org_));
    }
    std::string id = startRollout(uploadBundle("1.10.0"),
                                  {{"failure_threshold_percent", 50}, {"failure_minimum", 2}});
    reportAll(*devices[0], {"downloading", "failed"});
    EXPECT_EQ("active", text(get(rollout(id), owner_)["status"]));

    reportAll(*devices[1], {"downloading", "installing", "rolled_back"});

    ApiResult paused = get(rollout(id), owner_);
    EXPECT_EQ("paused", text(paused["status"]));
    EXPECT_NE(std::string::npos, text(paused["paused_reason"]).find("2 of 2"));
    EXPECT_EQ(1, paused["progress"].at("failed").as_int64());
    EXPECT_EQ(1, paused["progress"].at("rolled_back").as_int64());
    json::array pause_events = listAll("/api/events?type=rollout_paused", owner_);
    ASSERT_EQ(1u, pause_events.size());
    EXPECT_EQ("high", pause_events[0].at("severity").as_string());
    EXPECT_EQ("ota", pause_events[0].at("category").as_string());
    EXPECT_EQ(id, pause_events[0].at("metadata").at("rollout_id").as_string());
    EXPECT_EQ(1u, listAll("/api/events?type=ota_failed", owner_).size());
    EXPECT_EQ(1u, listAll("/api/events?type=ota_rolled_back", owner_).size());
    EXPECT_TRUE(listAll("/api/events?type=rollout_paused", other_owner_).empty());
    EXPECT_EQ((std::vector<std::string>{"rollout.created", "rollout.paused"}), auditActions(id));
    auto offer = devices[2]->get("ota/check?version=1.0.0");
    EXPECT_FALSE(testing::jsonObject(offer).at("update_available").as_bool());
}

TEST_P(FirmwareApiTest, RolloutProgressIsPublishedOnTheDevicesChannel) {
    auto device = deviceAt(org_);
    std::string id = startRollout(uploadBundle("1.10.0"));
    std::string base = server_->baseUrl();
    auto port = static_cast<unsigned short>(std::stoi(base.substr(base.rfind(':') + 1)));
    testing::WebSocketClient socket(port, "/ws", {other_owner_.headers()});
    testing::WebSocketClient watcher(port, "/ws", {owner_.headers()});
    ASSERT_EQ(101, watcher.handshakeStatus());
    for (auto* client : {&socket, &watcher}) {
        client->send(json::object{{"type", "subscribe"}, {"channel", "devices"}});
        ASSERT_EQ("subscribed", text(client->nextJson()["type"]));
    }

    reportAll(*device, {"downloading"});

    std::vector<std::string> seen;
    for (int i = 0; i < 10; ++i) {
        json::object message = watcher.nextJson(std::chrono::seconds(2));
        if (message.empty()) {
            break;
        }
        if (text(message["type"]) == "rollout.progress") {
            const json::value& data = message["data"];
            EXPECT_EQ(id, data.at("rollout_id").as_string());
            seen.push_back(std::to_string(data.at("progress").at("downloading").as_int64()));
        }
    }
    EXPECT_EQ((std::vector<std::string>{"0", "1"}), seen) << "offered, then downloading";
    EXPECT_FALSE(socket.next(std::chrono::milliseconds(300)).has_value())
        << "another organization hears nothing";
}

INSTANTIATE_TEST_SUITE_P(Stores, FirmwareApiTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
