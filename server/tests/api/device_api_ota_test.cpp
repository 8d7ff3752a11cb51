// Firmware updates over the device API (DESIGN §5 and §8): check, download, report.
#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/json.hpp>
#include <fstream>
#include <memory>
#include <set>

#include "core/crypto.h"
#include "ota/firmware.h"
#include "ota/rollout_rules.h"
#include "support/device_test.h"
#include "support/openapi_check.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::DeviceClient;
using testing::HttpClient;
using testing::HttpResult;

constexpr Micros kSecond = 1'000'000;

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

class DeviceApiOtaTest : public testing::DeviceTest {
protected:
    // Registers an image of `size` bytes, different for every version.
    store::FirmwareBundle addBundle(const std::string& version,
                                    const std::string& channel = "stable",
                                    const std::string& model = "esocore-edge",
                                    std::size_t size = 4096) {
        std::string image(size, '\0');
        for (std::size_t i = 0; i < size; ++i) {
            image[i] = static_cast<char>((i * 31 + version.size() * 7 + version.back()) & 0xff);
        }
        auto file = scratch_.path() / (version + ".bin");
        std::ofstream(file, std::ios::binary) << image;
        images_[version] = image;
        ota::NewBundle bundle{file.string(), version, channel, {model}, "notes for " + version};
        auto added = server_->app().firmware().addBundle(bundle);
        EXPECT_TRUE(added.ok()) << (added ? "" : added.error().message);
        return added ? *added : store::FirmwareBundle{};
    }

    // A rollout of `bundle_id` in the organization of the test's device, made in the store.
    struct RolloutSpec {
        std::string kind = "immediate";
        std::int64_t percentage_bp = 10'000;
        std::string device_ids = "[]";
        std::string tag;
        std::int64_t threshold_bp = 1000;
        std::int64_t minimum = 3;
        std::string status = "active";
    };

    std::string rollOut(const std::string& bundle_id, const RolloutSpec& spec) {
        std::string id = newUuid();
        Micros now = nowMicros();
        auto made = server_->store().sql().execute(
            "INSERT INTO rollouts (id, organization_id, bundle_id, name, kind, percentage_bp, "
            "device_ids, tag, failure_threshold_bp, failure_minimum, status, created_at, "
            "updated_at) VALUES ($1, $2, $3, '', $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            {id, device_->device().organization_id, bundle_id, spec.kind, spec.percentage_bp,
             spec.device_ids, store::textOrNull(spec.tag), spec.threshold_bp, spec.minimum,
             spec.status, now, now});
        EXPECT_TRUE(made.ok()) << (made ? "" : made.error().message);
        return id;
    }
    std::string rollOut(const std::string& bundle_id) { return rollOut(bundle_id, RolloutSpec{}); }

    // A bundle with an immediate rollout to the organization.
    store::FirmwareBundle release(const std::string& version, const std::string& channel = "stable",
                                  const std::string& model = "esocore-edge") {
        store::FirmwareBundle bundle = addBundle(version, channel, model);
        rollout_ = rollOut(bundle.id);
        return bundle;
    }

    std::string rolloutStatus(const std::string& id) {
        auto rows = server_->store().sql().query("SELECT status FROM rollouts WHERE id = $1", {id});
        return rows && !rows->empty() ? rows->front().text(0) : "";
    }

    std::int64_t countRows(const std::string& sql, const store::SqlParams& params) {
        auto rows = server_->store().sql().query(sql, params);
        EXPECT_TRUE(rows.ok()) << (rows ? "" : rows.error().message);
        return rows && !rows->empty() ? rows->front().integer(0) : -1;
    }

    // Another active device of the same organization.
    std::unique_ptr<DeviceClient> addDevice(const std::string& overrides = "{}") {
        return std::make_unique<DeviceClient>(*server_, server_->createDevice("active", overrides));
    }

    // The answer matches its entry in the OpenAPI document.
    static HttpResult documented(const std::string& method, const std::string& path,
                                 HttpResult result) {
        EXPECT_EQ("", testing::checkAgainstDocument(method, path, result.status,
                                                    result.header("content-type"), result.body));
        return result;
    }

    json::object check(const std::string& version) {
        std::string endpoint = "ota/check?version=" + version;
        HttpResult result = documented("GET", std::string(testing::kDeviceApi).append(endpoint),
                                       device_->get(endpoint));
        EXPECT_EQ(200, result.status) << result.body;
        return testing::jsonObject(result);
    }

    // The download link of the offer made to a device running `version`.
    std::string offeredUrl(const std::string& version) {
        json::object offer = check(version);
        EXPECT_TRUE(offer.at("update_available").as_bool()) << offer;
        return std::string(offer.at("url").as_string());
    }

    HttpResult download(const std::string& url, const testing::Headers& headers = {}) {
        return documented("GET", url, HttpClient(server_->baseUrl()).get(url, headers));
    }

    HttpResult report(const std::string& status, const std::string& version) {
        return documented(
            "POST", std::string(testing::kDeviceApi) + "ota/report",
            device_->post("ota/report",
                          json::serialize(json::object{{"status", status}, {"version", version}})));
    }

    testing::TempDir scratch_;
    std::map<std::string, std::string> images_;
    std::string rollout_;  // the rollout of the last release()
};

TEST_P(DeviceApiOtaTest, CheckOffersTheNewestNewerVersion) {
    release("1.2.0");
    store::FirmwareBundle newest = release("1.10.0");
    release("1.9.0");

    json::object offer = check("1.9.0");

    ASSERT_TRUE(offer.at("update_available").as_bool()) << offer;
    EXPECT_EQ("1.10.0", offer.at("version").as_string());
    EXPECT_EQ("1.9.0", offer.at("current_version").as_string());
    EXPECT_EQ(newest.size, offer.at("size").as_int64());
    EXPECT_EQ(sha256Hex(images_["1.10.0"]), offer.at("sha256").as_string());
    EXPECT_EQ("ed25519", offer.at("signature_algorithm").as_string());
    EXPECT_EQ("notes for 1.10.0", offer.at("release_notes").as_string());
    EXPECT_EQ(0u, offer.at("url").as_string().find("/api/iot/v1/ota/download/"));
    auto expires = parseRfc3339(std::string(offer.at("expires_at").as_string()));
    ASSERT_TRUE(expires.has_value());
    EXPECT_GT(*expires, nowMicros());
}

TEST_P(DeviceApiOtaTest, CheckOffersNothingWhenUpToDate) {
    release("1.9.0");
    release("1.10.0");

    json::object offer = check("1.10.0");

    EXPECT_FALSE(offer.at("update_available").as_bool());
    EXPECT_EQ("1.10.0", offer.at("current_version").as_string());
    EXPECT_FALSE(offer.contains("url"));
}

TEST_P(DeviceApiOtaTest, CheckOffersOnlyTheDevicesModelAndChannel) {
    release("1.1.0");
    release("2.0.0", "stable", "other-model");
    release("3.0.0", "beta");

    json::object offer = check("1.0.0");

    EXPECT_EQ("1.1.0", offer.at("version").as_string());
}

TEST_P(DeviceApiOtaTest, ReleaseIsNewerThanItsPreRelease) {
    release("2.0.0-rc.1");

    EXPECT_EQ("2.0.0-rc.1", check("1.10.0").at("version").as_string());
    EXPECT_FALSE(check("2.0.0").at("update_available").as_bool());
    EXPECT_EQ("2.0.0-rc.1", check("2.0.0-beta.11").at("version").as_string());
}

TEST_P(DeviceApiOtaTest, CheckWithoutAVersionUsesTheDevicesFirmware) {
    release("1.10.0");
    ASSERT_EQ(200, device_->post("heartbeat", R"({"firmware_version":"1.10.0"})").status);

    HttpResult result = device_->get("ota/check");

    ASSERT_EQ(200, result.status);
    EXPECT_FALSE(testing::jsonObject(result).at("update_available").as_bool());
}

TEST_P(DeviceApiOtaTest, CheckReadsAPercentEncodedVersion) {
    release("1.10.0");

    json::object offer = check("1.10.0%2Bbuild.7");

    EXPECT_FALSE(offer.at("update_available").as_bool()) << offer;
    EXPECT_EQ("1.10.0+build.7", offer.at("current_version").as_string());
}

TEST_P(DeviceApiOtaTest, HandshakeSaysAnUpdateIsWaiting) {
    ASSERT_EQ(200, device_->post("heartbeat", R"({"firmware_version":"1.9.0"})").status);
    release("1.10.0");

    HttpResult result = device_->post("auth/handshake", "{}");

    ASSERT_EQ(200, result.status);
    EXPECT_TRUE(testing::jsonObject(result).at("update_available").as_bool());
}

TEST_P(DeviceApiOtaTest, CheckWithoutCredentialsIs401) {
    HttpResult result = HttpClient(server_->baseUrl()).get("/api/iot/v1/ota/check?version=1.0.0");

    EXPECT_EQ(401, result.status);
    EXPECT_EQ("missing_credentials", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, DownloadServesTheImage) {
    release("1.10.0");

    HttpResult result = download(offeredUrl("1.9.0"));

    ASSERT_EQ(200, result.status);
    EXPECT_EQ(images_["1.10.0"], result.body);
    EXPECT_EQ("bytes", result.header("accept-ranges"));
    EXPECT_EQ("application/octet-stream", result.header("content-type"));
}

TEST_P(DeviceApiOtaTest, DownloadServesARange) {
    release("1.10.0");
    const std::string& image = images_["1.10.0"];

    HttpResult result = download(offeredUrl("1.9.0"), {{"Range", "bytes=100-199"}});

    EXPECT_EQ(206, result.status);
    EXPECT_EQ("bytes 100-199/4096", result.header("content-range"));
    EXPECT_EQ(image.substr(100, 100), result.body);
}

TEST_P(DeviceApiOtaTest, DownloadServesASuffixRange) {
    release("1.10.0");
    const std::string& image = images_["1.10.0"];

    HttpResult result = download(offeredUrl("1.9.0"), {{"Range", "bytes=-96"}});

    EXPECT_EQ(206, result.status);
    EXPECT_EQ("bytes 4000-4095/4096", result.header("content-range"));
    EXPECT_EQ(image.substr(4000), result.body);
}

TEST_P(DeviceApiOtaTest, DownloadServesAnOpenEndedRangeAndClampsTheEnd) {
    release("1.10.0");
    const std::string& image = images_["1.10.0"];
    std::string url = offeredUrl("1.9.0");

    HttpResult open = download(url, {{"Range", "bytes=4000-"}});
    HttpResult clamped = download(url, {{"Range", "bytes=4000-99999"}});

    EXPECT_EQ(206, open.status);
    EXPECT_EQ(image.substr(4000), open.body);
    EXPECT_EQ(206, clamped.status);
    EXPECT_EQ("bytes 4000-4095/4096", clamped.header("content-range"));
}

TEST_P(DeviceApiOtaTest, LargeImageStreamsWholeAndFromAnOffset) {
    store::FirmwareBundle bundle =
        addBundle("1.10.0", "stable", "esocore-edge", 3 * 1024 * 1024 + 5);
    rollOut(bundle.id);
    const std::string& image = images_["1.10.0"];
    std::string url = offeredUrl("1.9.0");

    HttpResult whole = download(url);
    HttpResult rest = download(url, {{"Range", "bytes=1000000-"}});

    ASSERT_EQ(200, whole.status);
    EXPECT_EQ("chunked", whole.header("transfer-encoding")) << "not held in memory whole";
    EXPECT_TRUE(whole.body == image);
    ASSERT_EQ(206, rest.status);
    EXPECT_EQ("bytes 1000000-3145732/3145733", rest.header("content-range"));
    EXPECT_TRUE(rest.body == image.substr(1'000'000));
}

TEST_P(DeviceApiOtaTest, RangeOutsideTheImageIs416) {
    release("1.10.0");
    std::string url = offeredUrl("1.9.0");

    for (const char* range : {"bytes=4096-", "bytes=5000-6000", "bytes=-0"}) {
        HttpResult result = download(url, {{"Range", range}});

        EXPECT_EQ(416, result.status) << range;
        EXPECT_EQ("range_not_satisfiable", testing::errorCode(result)) << range;
        EXPECT_EQ("bytes */4096", result.header("content-range")) << range;
    }
}

TEST_P(DeviceApiOtaTest, TamperedLinkIs403) {
    release("1.10.0");
    std::string url = offeredUrl("1.9.0");
    std::string forged_mac = url;
    forged_mac.back() = forged_mac.back() == '0' ? '1' : '0';
    std::string other_bundle = release("1.11.0").id;
    std::string forged_bundle = url;
    std::size_t token = forged_bundle.rfind('/') + 1;
    forged_bundle.replace(token, other_bundle.size(), other_bundle);

    for (const std::string& forged :
         {forged_mac, forged_bundle, std::string("/api/iot/v1/ota/download/abc"),
          std::string("/api/iot/v1/ota/download/a.b.c.d.e")}) {
        HttpResult result = download(forged);

        EXPECT_EQ(403, result.status) << forged;
        EXPECT_EQ("invalid_link", testing::errorCode(result)) << forged;
    }
}

TEST_P(DeviceApiOtaTest, ExpiredLinkIs403) {
    store::FirmwareBundle bundle = release("1.10.0");
    std::string token =
        server_->app().firmware().downloadToken(bundle.id, deviceId(), nowMicros() - kSecond);

    HttpResult result = download("/api/iot/v1/ota/download/" + token);

    EXPECT_EQ(403, result.status);
    EXPECT_EQ("link_expired", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, LinkWithAnExtendedExpiryIs403) {
    store::FirmwareBundle bundle = release("1.10.0");
    std::string token =
        server_->app().firmware().downloadToken(bundle.id, deviceId(), nowMicros() - kSecond);
    std::string expiry = std::to_string(nowMicros() / kSecond - 1);
    std::size_t at = token.find(expiry);
    ASSERT_NE(std::string::npos, at);
    token.replace(at, expiry.size(), std::to_string(nowMicros() / kSecond + 3600));

    HttpResult result = download("/api/iot/v1/ota/download/" + token);

    EXPECT_EQ(403, result.status);
    EXPECT_EQ("invalid_link", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, SignatureVerifiesWithThePublishedKey) {
    release("1.10.0");
    json::object offer = check("1.9.0");
    std::string image = download(std::string(offer.at("url").as_string())).body;
    std::string signature = fromBase64(offer.at("signature").as_string());
    std::string public_key = fromBase64(offer.at("public_key").as_string());
    ASSERT_EQ(crypto_sign_BYTES, signature.size());
    ASSERT_EQ(crypto_sign_PUBLICKEYBYTES, public_key.size());
    auto verify = [&](const std::string& bytes) {
        return crypto_sign_verify_detached(
            reinterpret_cast<const unsigned char*>(signature.data()),
            reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
            reinterpret_cast<const unsigned char*>(public_key.data()));
    };

    EXPECT_EQ(0, verify(image));
    image[17] = static_cast<char>(image[17] ^ 1);
    EXPECT_NE(0, verify(image));
}

TEST_P(DeviceApiOtaTest, CompletedReportSetsTheDevicesFirmware) {
    release("1.10.0");
    offeredUrl("1.9.0");

    for (const char* status : {"downloading", "installing", "completed"}) {
        HttpResult result = report(status, "1.10.0");

        ASSERT_EQ(200, result.status) << status << ": " << result.body;
        EXPECT_EQ(status, testing::jsonObject(result).at("status").as_string());
    }

    auto device = server_->store().findDevice(deviceId());
    ASSERT_TRUE(device.ok() && device->has_value());
    EXPECT_EQ("1.10.0", (*device)->firmware_version);
    auto update = server_->store().latestDeviceUpdate(deviceId());
    ASSERT_TRUE(update.ok() && update->has_value());
    EXPECT_EQ("completed", (*update)->status);
    EXPECT_EQ("1.9.0", (*update)->from_version);
    HttpResult after = device_->get("ota/check");
    EXPECT_FALSE(testing::jsonObject(after).at("update_available").as_bool());
}

TEST_P(DeviceApiOtaTest, FailedReportRaisesAnEventAndStopsTheOffer) {
    release("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, report("downloading", "1.10.0").status);

    HttpResult result = device_->post(
        "ota/report", R"({"status":"failed","version":"1.10.0","error":"checksum mismatch"})");

    ASSERT_EQ(200, result.status) << result.body;
    EXPECT_FALSE(check("1.9.0").at("update_available").as_bool());
    auto device = server_->store().findDevice(deviceId());
    ASSERT_TRUE(device.ok() && device->has_value());
    EXPECT_EQ("", (*device)->firmware_version);
    auto events = rows_->events(deviceId());
    ASSERT_EQ(1u, events.size());
    EXPECT_EQ("ota_failed", events[0].type);
    EXPECT_EQ("ota", events[0].category);
    EXPECT_EQ("medium", events[0].severity);
    EXPECT_NE(std::string::npos, events[0].description.find("checksum mismatch"));
}

TEST_P(DeviceApiOtaTest, RolledBackReportRaisesAnEvent) {
    release("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, report("installing", "1.10.0").status);

    ASSERT_EQ(200, report("rolled_back", "1.10.0").status);

    auto events = rows_->events(deviceId());
    ASSERT_EQ(1u, events.size());
    EXPECT_EQ("ota_rolled_back", events[0].type);
    EXPECT_EQ("high", events[0].severity);
}

TEST_P(DeviceApiOtaTest, FailedDownloadMayBeRetried) {
    release("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, report("failed", "1.10.0").status);

    EXPECT_EQ(200, report("downloading", "1.10.0").status);
}

TEST_P(DeviceApiOtaTest, InvalidTransitionIs409) {
    release("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, report("completed", "1.10.0").status);

    HttpResult result = report("downloading", "1.10.0");

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("invalid_transition", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, RollbackBeforeInstallingIs409) {
    release("1.10.0");
    offeredUrl("1.9.0");

    HttpResult result = report("rolled_back", "1.10.0");

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("invalid_transition", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, ReportWithoutAnOfferIs409) {
    HttpResult result = report("downloading", "1.10.0");

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("no_update_in_progress", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, ReportForAnotherVersionIs409) {
    release("1.10.0");
    offeredUrl("1.9.0");

    HttpResult result = report("downloading", "1.11.0");

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("no_update_in_progress", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, ReportWithAnUnknownStatusIs422) {
    release("1.10.0");
    offeredUrl("1.9.0");

    HttpResult result = report("exploded", "1.10.0");

    EXPECT_EQ(422, result.status);
    EXPECT_EQ("invalid_status", testing::errorCode(result));
}

// ---- Rollouts ------------------------------------------------------------------------------

TEST_P(DeviceApiOtaTest, BundleWithoutARolloutIsNotOffered) {
    addBundle("1.10.0");

    EXPECT_FALSE(check("1.9.0").at("update_available").as_bool());
}

TEST_P(DeviceApiOtaTest, PausedCancelledAndCompletedRolloutsOfferNothing) {
    std::string bundle = addBundle("1.10.0").id;
    for (const char* status : {"paused", "cancelled", "completed"}) {
        rollOut(bundle, RolloutSpec{.status = status});
    }

    EXPECT_FALSE(check("1.9.0").at("update_available").as_bool());
}

TEST_P(DeviceApiOtaTest, RolloutOfAnotherOrganizationOffersNothing) {
    std::string bundle = addBundle("1.10.0").id;
    std::string other = newUuid();
    Micros now = nowMicros();
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("INSERT INTO organizations (id, name, created_at, updated_at) "
                             "VALUES ($1, 'Other Works', $2, $3)",
                             {other, now, now})
                    .ok());
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("INSERT INTO rollouts (id, organization_id, bundle_id, kind, "
                             "percentage_bp, failure_threshold_bp, failure_minimum, status, "
                             "created_at, updated_at) VALUES ($1, $2, $3, 'immediate', 10000, "
                             "1000, 3, 'active', $4, $5)",
                             {newUuid(), other, bundle, now, now})
                    .ok());

    EXPECT_FALSE(check("1.9.0").at("update_available").as_bool());
}

TEST_P(DeviceApiOtaTest, CheckWithABadVersionIs400) {
    release("1.10.0");

    for (const char* version : {"1.9", "banana", "1.09.0", "1.2.3-"}) {
        HttpResult result = device_->get(std::string("ota/check?version=") + version);

        EXPECT_EQ(400, result.status) << version;
        EXPECT_EQ("invalid_version", testing::errorCode(result)) << version;
    }
}

TEST_P(DeviceApiOtaTest, CheckNamesTheRollout) {
    release("1.10.0");

    EXPECT_EQ(rollout_, check("1.9.0").at("rollout_id").as_string());
}

TEST_P(DeviceApiOtaTest, StagedRolloutReachesTheBucketsBelowItsPercentageAndRaisingOnlyAdds) {
    std::string bundle = addBundle("1.10.0").id;
    std::string rollout = rollOut(bundle, RolloutSpec{.kind = "staged", .percentage_bp = 3000});
    std::vector<std::unique_ptr<DeviceClient>> devices;
    for (int i = 0; i < 30; ++i) {
        devices.push_back(addDevice());
    }
    auto offered = [&](DeviceClient& device) {
        HttpResult result = device.get("ota/check?version=1.9.0");
        EXPECT_EQ(200, result.status) << result.body;
        return testing::jsonObject(result).at("update_available").as_bool();
    };
    std::set<std::string> first_wave;
    for (auto& device : devices) {
        bool expected = ota::bucketOf(device->device().id) < 3000;
        EXPECT_EQ(expected, offered(*device)) << device->device().id;
        if (expected) {
            first_wave.insert(device->device().id);
        }
    }
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("UPDATE rollouts SET percentage_bp = 7000 WHERE id = $1", {rollout})
                    .ok());

    for (auto& device : devices) {
        bool expected = ota::bucketOf(device->device().id) < 7000;
        EXPECT_EQ(expected, offered(*device)) << device->device().id;
        EXPECT_TRUE(!first_wave.contains(device->device().id) || expected);
    }
}

TEST_P(DeviceApiOtaTest, ManualRolloutReachesListedDevicesAndTaggedOnes) {
    auto listed = addDevice();
    auto tagged = addDevice();
    auto other = addDevice();
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("UPDATE devices SET tags = $1 WHERE id = $2",
                             {std::string(R"(["pilot","north"])"), tagged->device().id})
                    .ok());
    std::string bundle = addBundle("1.10.0").id;
    rollOut(bundle, RolloutSpec{.kind = "manual",
                                .device_ids = "[\"" + listed->device().id + "\"]",
                                .tag = "pilot"});

    auto offered = [](DeviceClient& device) {
        return testing::jsonObject(device.get("ota/check?version=1.9.0"))
            .at("update_available")
            .as_bool();
    };
    EXPECT_TRUE(offered(*listed));
    EXPECT_TRUE(offered(*tagged));
    EXPECT_FALSE(offered(*other));
    EXPECT_FALSE(offered(*device_));
}

TEST_P(DeviceApiOtaTest, ChannelsGiveStableDevicesStableBetaDevicesBetaAndDevDevicesAll) {
    release("1.10.0", "stable");
    release("1.11.0-beta.1", "beta");
    release("1.12.0-dev.3", "dev");
    auto onChannel = [&](const std::string& channel) {
        EXPECT_TRUE(server_->store()
                        .sql()
                        .execute("UPDATE devices SET firmware_channel = $1 WHERE id = $2",
                                 {channel, deviceId()})
                        .ok());
        return std::string(check("1.9.0").at("version").as_string());
    };

    EXPECT_EQ("1.10.0", onChannel("stable"));
    EXPECT_EQ("1.11.0-beta.1", onChannel("beta"));
    EXPECT_EQ("1.12.0-dev.3", onChannel("dev"));
}

TEST_P(DeviceApiOtaTest, BetaDeviceTakesAStableReleaseNewerThanTheBeta) {
    release("2.0.0-beta.2", "beta");
    release("2.0.0", "stable");
    ASSERT_TRUE(
        server_->store()
            .sql()
            .execute("UPDATE devices SET firmware_channel = 'beta' WHERE id = $1", {deviceId()})
            .ok());

    EXPECT_EQ("2.0.0", check("1.9.0").at("version").as_string());
}

// ---- Reports -------------------------------------------------------------------------------

TEST_P(DeviceApiOtaTest, ReportsMoveTheUpdateThroughEveryState) {
    release("1.10.0");
    offeredUrl("1.9.0");
    auto state = [&] {
        auto update = server_->store().latestDeviceUpdate(deviceId());
        return update.ok() && update->has_value() ? (*update)->status : std::string();
    };
    EXPECT_EQ("offered", state());

    for (const char* status : {"downloading", "downloading", "installing", "installing",
                               "completed", "completed", "rolled_back", "rolled_back"}) {
        HttpResult result = report(status, "1.10.0");

        EXPECT_EQ(200, result.status) << status << ": " << result.body;
        EXPECT_EQ(status, state());
    }
    for (const char* status : {"downloading", "installing", "completed", "failed"}) {
        HttpResult result = report(status, "1.10.0");

        EXPECT_EQ(409, result.status) << status;
        EXPECT_EQ("invalid_transition", testing::errorCode(result)) << status;
    }
}

TEST_P(DeviceApiOtaTest, RepeatedFailedReportRaisesOneEvent) {
    release("1.10.0");
    offeredUrl("1.9.0");

    ASSERT_EQ(200, report("failed", "1.10.0").status);
    ASSERT_EQ(200, report("failed", "1.10.0").status);

    EXPECT_EQ(1u, rows_->events(deviceId()).size());
}

TEST_P(DeviceApiOtaTest, ReportWithoutAVersionMovesTheLatestUpdate) {
    release("1.10.0");
    offeredUrl("1.9.0");

    HttpResult result = device_->post("ota/report", R"({"status":"downloading"})");

    ASSERT_EQ(200, result.status) << result.body;
    EXPECT_EQ("1.10.0", testing::jsonObject(result).at("version").as_string());
}

TEST_P(DeviceApiOtaTest, FailedUpdateIsNotOfferedAgainInItsRolloutButANewRolloutOffersIt) {
    store::FirmwareBundle bundle = release("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, report("failed", "1.10.0").status);
    EXPECT_FALSE(check("1.9.0").at("update_available").as_bool());
    ASSERT_TRUE(server_->store()
                    .sql()
                    .execute("UPDATE rollouts SET status = 'cancelled' WHERE id = $1", {rollout_})
                    .ok());

    std::string retry = rollOut(bundle.id);

    json::object offer = check("1.9.0");
    ASSERT_TRUE(offer.at("update_available").as_bool());
    EXPECT_EQ(retry, offer.at("rollout_id").as_string());
}

TEST_P(DeviceApiOtaTest, NewerRolloutWithdrawsAnOfferTheDeviceNeverStarted) {
    release("1.10.0");
    std::string first = rollout_;
    offeredUrl("1.9.0");
    release("1.11.0");

    EXPECT_EQ("1.11.0", check("1.9.0").at("version").as_string());
    EXPECT_EQ(0, countRows("SELECT count(*) FROM device_updates WHERE rollout_id = $1", {first}));
}

TEST_P(DeviceApiOtaTest, StartedUpdateIsOfferedUntilItFinishes) {
    release("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, report("downloading", "1.10.0").status);
    release("1.11.0");

    EXPECT_EQ("1.10.0", check("1.9.0").at("version").as_string());
    ASSERT_EQ(200, report("completed", "1.10.0").status);
    EXPECT_EQ("1.11.0", check("1.10.0").at("version").as_string());
}

TEST_P(DeviceApiOtaTest, FailuresPauseTheRolloutAtTheThresholdWithEvents) {
    std::string bundle = addBundle("1.10.0").id;
    std::string rollout = rollOut(bundle, RolloutSpec{.threshold_bp = 5000, .minimum = 2});
    std::vector<std::unique_ptr<DeviceClient>> devices;
    for (int i = 0; i < 4; ++i) {
        devices.push_back(addDevice());
        ASSERT_EQ(200, devices.back()->get("ota/check?version=1.9.0").status);
    }
    auto send = [](DeviceClient& device, const char* status) {
        return device
            .post("ota/report",
                  json::serialize(json::object{{"status", status}, {"version", "1.10.0"}}))
            .status;
    };
    ASSERT_EQ(200, send(*devices[0], "completed"));
    ASSERT_EQ(200, send(*devices[1], "failed"));
    EXPECT_EQ("active", rolloutStatus(rollout)) << "one failure is below the minimum of two";

    ASSERT_EQ(200, send(*devices[2], "failed"));

    EXPECT_EQ("paused", rolloutStatus(rollout));
    EXPECT_EQ(1, countRows("SELECT count(*) FROM events WHERE type = 'rollout_paused' "
                           "AND organization_id = $1 AND device_id IS NULL AND severity = 'high'",
                           {device_->device().organization_id}));
    EXPECT_EQ(2, countRows("SELECT count(*) FROM events WHERE type = 'ota_failed' "
                           "AND organization_id = $1",
                           {device_->device().organization_id}));
    EXPECT_EQ(1, countRows("SELECT count(*) FROM audit_log WHERE action = 'rollout.paused' "
                           "AND target_id = $1 AND user_id IS NULL",
                           {rollout}));
    auto reason =
        server_->store().sql().query("SELECT paused_reason FROM rollouts WHERE id = $1", {rollout});
    ASSERT_TRUE(reason.ok() && !reason->empty());
    EXPECT_NE(std::string::npos, reason->front().text(0).find("2 of 3"));
    EXPECT_FALSE(testing::jsonObject(device_->get("ota/check?version=1.9.0"))
                     .at("update_available")
                     .as_bool());
    EXPECT_EQ(200, send(*devices[3], "completed")) << "devices already offered still report";
}

TEST_P(DeviceApiOtaTest, FailuresBelowTheShareDoNotPause) {
    std::string bundle = addBundle("1.10.0").id;
    std::string rollout = rollOut(bundle, RolloutSpec{.threshold_bp = 5000, .minimum = 1});
    std::vector<std::unique_ptr<DeviceClient>> devices;
    for (int i = 0; i < 3; ++i) {
        devices.push_back(addDevice());
        ASSERT_EQ(200, devices.back()->get("ota/check?version=1.9.0").status);
    }
    ASSERT_EQ(200, devices[0]->post("ota/report", R"({"status":"completed"})").status);
    ASSERT_EQ(200, devices[1]->post("ota/report", R"({"status":"completed"})").status);
    ASSERT_EQ(200, devices[2]->post("ota/report", R"({"status":"failed"})").status);

    EXPECT_NE("paused", rolloutStatus(rollout)) << "1 failure of 3 is 33 %, below 50 %";
}

TEST_P(DeviceApiOtaTest, LastUpdateToFinishCompletesTheRollout) {
    auto second = addDevice();
    release("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, second->get("ota/check?version=1.9.0").status);
    ASSERT_EQ(200, report("completed", "1.10.0").status);
    EXPECT_EQ("active", rolloutStatus(rollout_)) << "the second device has not finished";

    ASSERT_EQ(200, second->post("ota/report", R"({"status":"completed"})").status);

    EXPECT_EQ("completed", rolloutStatus(rollout_));
    EXPECT_EQ(1, countRows("SELECT count(*) FROM audit_log WHERE action = 'rollout.completed' "
                           "AND target_id = $1",
                           {rollout_}));
}

TEST_P(DeviceApiOtaTest, RolloutWaitsForDevicesNotYetOffered) {
    auto second = addDevice();
    release("1.10.0");
    offeredUrl("1.9.0");

    ASSERT_EQ(200, report("completed", "1.10.0").status);

    EXPECT_EQ("active", rolloutStatus(rollout_)) << second->device().id << " is still pending";
}

TEST_P(DeviceApiOtaTest, PublicKeyRouteGivesTheKeyOfTheOffers) {
    release("1.10.0");

    HttpResult result = HttpClient(server_->baseUrl()).get("/api/iot/v1/ota/public-key");

    ASSERT_EQ(200, result.status);
    json::object key = testing::jsonObject(result);
    EXPECT_EQ(check("1.9.0").at("public_key"), key.at("public_key"));
    EXPECT_EQ("ed25519", key.at("algorithm").as_string());
}

INSTANTIATE_TEST_SUITE_P(Stores, DeviceApiOtaTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
