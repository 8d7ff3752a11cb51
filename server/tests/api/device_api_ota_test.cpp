// Firmware updates over the device API (DESIGN §5 and §8): check, download, report.
#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/json.hpp>
#include <fstream>

#include "core/crypto.h"
#include "ota/firmware.h"
#include "support/device_test.h"

namespace esocore {
namespace {

namespace json = boost::json;
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

    json::object check(const std::string& version) {
        HttpResult result = device_->get("ota/check?version=" + version);
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
        return HttpClient(server_->baseUrl()).get(url, headers);
    }

    HttpResult report(const std::string& status, const std::string& version) {
        return device_->post(
            "ota/report", json::serialize(json::object{{"status", status}, {"version", version}}));
    }

    testing::TempDir scratch_;
    std::map<std::string, std::string> images_;
};

TEST_P(DeviceApiOtaTest, CheckOffersTheNewestNewerVersion) {
    addBundle("1.2.0");
    store::FirmwareBundle newest = addBundle("1.10.0");
    addBundle("1.9.0");

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
    addBundle("1.9.0");
    addBundle("1.10.0");

    json::object offer = check("1.10.0");

    EXPECT_FALSE(offer.at("update_available").as_bool());
    EXPECT_EQ("1.10.0", offer.at("current_version").as_string());
    EXPECT_FALSE(offer.contains("url"));
}

TEST_P(DeviceApiOtaTest, CheckOffersOnlyTheDevicesModelAndChannel) {
    addBundle("1.1.0");
    addBundle("2.0.0", "stable", "other-model");
    addBundle("3.0.0", "beta");

    json::object offer = check("1.0.0");

    EXPECT_EQ("1.1.0", offer.at("version").as_string());
}

TEST_P(DeviceApiOtaTest, ReleaseIsNewerThanItsPreRelease) {
    addBundle("2.0.0-rc.1");

    EXPECT_EQ("2.0.0-rc.1", check("1.10.0").at("version").as_string());
    EXPECT_FALSE(check("2.0.0").at("update_available").as_bool());
    EXPECT_EQ("2.0.0-rc.1", check("2.0.0-beta.11").at("version").as_string());
}

TEST_P(DeviceApiOtaTest, CheckWithoutAVersionUsesTheDevicesFirmware) {
    addBundle("1.10.0");
    ASSERT_EQ(200, device_->post("heartbeat", R"({"firmware_version":"1.10.0"})").status);

    HttpResult result = device_->get("ota/check");

    ASSERT_EQ(200, result.status);
    EXPECT_FALSE(testing::jsonObject(result).at("update_available").as_bool());
}

TEST_P(DeviceApiOtaTest, CheckReadsAPercentEncodedVersion) {
    addBundle("1.10.0");

    json::object offer = check("1.10.0%2Bbuild.7");

    EXPECT_FALSE(offer.at("update_available").as_bool()) << offer;
    EXPECT_EQ("1.10.0+build.7", offer.at("current_version").as_string());
}

TEST_P(DeviceApiOtaTest, HandshakeSaysAnUpdateIsWaiting) {
    ASSERT_EQ(200, device_->post("heartbeat", R"({"firmware_version":"1.9.0"})").status);
    addBundle("1.10.0");

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
    addBundle("1.10.0");

    HttpResult result = download(offeredUrl("1.9.0"));

    ASSERT_EQ(200, result.status);
    EXPECT_EQ(images_["1.10.0"], result.body);
    EXPECT_EQ("bytes", result.header("accept-ranges"));
    EXPECT_EQ("application/octet-stream", result.header("content-type"));
}

TEST_P(DeviceApiOtaTest, DownloadServesARange) {
    addBundle("1.10.0");
    const std::string& image = images_["1.10.0"];

    HttpResult result = download(offeredUrl("1.9.0"), {{"Range", "bytes=100-199"}});

    EXPECT_EQ(206, result.status);
    EXPECT_EQ("bytes 100-199/4096", result.header("content-range"));
    EXPECT_EQ(image.substr(100, 100), result.body);
}

TEST_P(DeviceApiOtaTest, DownloadServesASuffixRange) {
    addBundle("1.10.0");
    const std::string& image = images_["1.10.0"];

    HttpResult result = download(offeredUrl("1.9.0"), {{"Range", "bytes=-96"}});

    EXPECT_EQ(206, result.status);
    EXPECT_EQ("bytes 4000-4095/4096", result.header("content-range"));
    EXPECT_EQ(image.substr(4000), result.body);
}

TEST_P(DeviceApiOtaTest, DownloadServesAnOpenEndedRangeAndClampsTheEnd) {
    addBundle("1.10.0");
    const std::string& image = images_["1.10.0"];
    std::string url = offeredUrl("1.9.0");

    HttpResult open = download(url, {{"Range", "bytes=4000-"}});
    HttpResult clamped = download(url, {{"Range", "bytes=4000-99999"}});

    EXPECT_EQ(206, open.status);
    EXPECT_EQ(image.substr(4000), open.body);
    EXPECT_EQ(206, clamped.status);
    EXPECT_EQ("bytes 4000-4095/4096", clamped.header("content-range"));
}

TEST_P(DeviceApiOtaTest, RangeOutsideTheImageIs416) {
    addBundle("1.10.0");
    std::string url = offeredUrl("1.9.0");

    for (const char* range : {"bytes=4096-", "bytes=5000-6000", "bytes=-0"}) {
        HttpResult result = download(url, {{"Range", range}});

        EXPECT_EQ(416, result.status) << range;
        EXPECT_EQ("range_not_satisfiable", testing::errorCode(result)) << range;
        EXPECT_EQ("bytes */4096", result.header("content-range")) << range;
    }
}

TEST_P(DeviceApiOtaTest, TamperedLinkIs403) {
    addBundle("1.10.0");
    std::string url = offeredUrl("1.9.0");
    std::string forged_mac = url;
    forged_mac.back() = forged_mac.back() == '0' ? '1' : '0';
    std::string other_bundle = addBundle("1.11.0").id;
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
    store::FirmwareBundle bundle = addBundle("1.10.0");
    std::string token =
        server_->app().firmware().downloadToken(bundle.id, deviceId(), nowMicros() - kSecond);

    HttpResult result = download("/api/iot/v1/ota/download/" + token);

    EXPECT_EQ(403, result.status);
    EXPECT_EQ("link_expired", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, LinkWithAnExtendedExpiryIs403) {
    store::FirmwareBundle bundle = addBundle("1.10.0");
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
    addBundle("1.10.0");
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
    addBundle("1.10.0");
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
    addBundle("1.10.0");
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
    EXPECT_EQ("high", events[0].severity);
    EXPECT_NE(std::string::npos, events[0].description.find("checksum mismatch"));
}

TEST_P(DeviceApiOtaTest, RolledBackReportRaisesAnEvent) {
    addBundle("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, report("installing", "1.10.0").status);

    ASSERT_EQ(200, report("rolled_back", "1.10.0").status);

    auto events = rows_->events(deviceId());
    ASSERT_EQ(1u, events.size());
    EXPECT_EQ("ota_rolled_back", events[0].type);
}

TEST_P(DeviceApiOtaTest, FailedDownloadMayBeRetried) {
    addBundle("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, report("failed", "1.10.0").status);

    EXPECT_EQ(200, report("downloading", "1.10.0").status);
}

TEST_P(DeviceApiOtaTest, InvalidTransitionIs409) {
    addBundle("1.10.0");
    offeredUrl("1.9.0");
    ASSERT_EQ(200, report("completed", "1.10.0").status);

    HttpResult result = report("downloading", "1.10.0");

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("invalid_transition", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, RollbackBeforeInstallingIs409) {
    addBundle("1.10.0");
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
    addBundle("1.10.0");
    offeredUrl("1.9.0");

    HttpResult result = report("downloading", "1.11.0");

    EXPECT_EQ(409, result.status);
    EXPECT_EQ("no_update_in_progress", testing::errorCode(result));
}

TEST_P(DeviceApiOtaTest, ReportWithAnUnknownStatusIs422) {
    addBundle("1.10.0");
    offeredUrl("1.9.0");

    HttpResult result = report("exploded", "1.10.0");

    EXPECT_EQ(422, result.status);
    EXPECT_EQ("invalid_status", testing::errorCode(result));
}

INSTANTIATE_TEST_SUITE_P(Stores, DeviceApiOtaTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
