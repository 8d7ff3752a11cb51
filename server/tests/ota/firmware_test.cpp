// FirmwareService on both stores: what it accepts as a bundle, where the image goes, the
// signature, and the download links' expiry and tamper checks.
#include "ota/firmware.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>

#include "core/crypto.h"
#include "support/test_server.h"

namespace esocore::ota {
namespace {

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

class FirmwareServiceTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        server_ = std::make_unique<testing::TestServer>(GetParam());
        service_ = std::make_unique<FirmwareService>(server_->store(), dir_.path().string(),
                                                     "a secret of the server");
    }

    std::string writeImage(const std::string& name, const std::string& bytes) {
        auto path = dir_.path() / name;
        std::ofstream(path, std::ios::binary) << bytes;
        return path.string();
    }

    Result<store::FirmwareBundle> add(const std::string& version, const std::string& bytes,
                                      bool move = false, std::vector<std::string> models = {"e"}) {
        return service_->addBundle(
            NewBundle{writeImage(version + ".img", bytes), version, "stable", models, "", move});
    }

    testing::TempDir dir_;
    std::unique_ptr<testing::TestServer> server_;
    std::unique_ptr<FirmwareService> service_;
};

TEST_P(FirmwareServiceTest, StoresTheImageWithItsHashSizeAndSignature) {
    std::string image(5000, 'x');
    image[10] = 'y';

    auto bundle = add("v1.2.3", image);

    ASSERT_TRUE(bundle.ok()) << bundle.error().message;
    EXPECT_EQ("1.2.3", bundle->version) << "stored without the leading v";
    EXPECT_EQ(5000, bundle->size);
    EXPECT_EQ(sha256Hex(image), bundle->sha256);
    std::string key = fromBase64(service_->publicKey());
    std::string signature = fromBase64(bundle->signature);
    EXPECT_EQ(0, crypto_sign_verify_detached(
                     reinterpret_cast<const unsigned char*>(signature.data()),
                     reinterpret_cast<const unsigned char*>(image.data()), image.size(),
                     reinterpret_cast<const unsigned char*>(key.data())));
    EXPECT_TRUE(std::filesystem::exists(bundle->path));
    EXPECT_TRUE(std::filesystem::exists(dir_.path() / "v1.2.3.img")) << "the file is copied";
}

TEST_P(FirmwareServiceTest, MovesASpooledUpload) {
    auto bundle = add("1.0.0", "image bytes", true);

    ASSERT_TRUE(bundle.ok()) << bundle.error().message;
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "1.0.0.img"));
    EXPECT_EQ(std::filesystem::path(dir_.path() / "firmware" / (bundle->id + ".bin")).string(),
              bundle->path);
}

TEST_P(FirmwareServiceTest, RefusesWhatIsNoBundle) {
    auto version = add("1.2", "x");
    auto empty = add("1.0.0", "");
    auto models = add("1.0.1", "x", false, {});

    ASSERT_FALSE(version.ok());
    EXPECT_EQ("invalid_version", version.error().code);
    EXPECT_EQ(422, version.error().status);
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ("empty_image", empty.error().code);
    ASSERT_FALSE(models.ok());
    EXPECT_EQ("invalid_models", models.error().code);
}

TEST_P(FirmwareServiceTest, RefusesAVersionOfTheSamePrecedenceOnTheChannel) {
    ASSERT_TRUE(add("1.0.0", "a").ok());

    auto same = add("1.0.0", "b");
    auto build = add("1.0.0+build.9", "c");

    ASSERT_FALSE(same.ok());
    EXPECT_EQ("version_exists", same.error().code);
    ASSERT_FALSE(build.ok());
    EXPECT_EQ("version_exists", build.error().code);
    EXPECT_TRUE(add("1.0.1-rc.1", "d").ok());
}

TEST_P(FirmwareServiceTest, KeyFollowsTheServersSecret) {
    FirmwareService same(server_->store(), dir_.path().string(), "a secret of the server");
    FirmwareService other(server_->store(), dir_.path().string(), "another secret");

    EXPECT_EQ(service_->publicKey(), same.publicKey());
    EXPECT_NE(service_->publicKey(), other.publicKey());
}

TEST_P(FirmwareServiceTest, LinkCarriesItsClaimsUntilItExpires) {
    Micros now = 1'900'000'000 * kSecond;
    std::string token = service_->downloadToken("bundle", "device", now + 60 * kSecond);

    auto fresh = service_->checkToken(token, now);
    auto expired = service_->checkToken(token, now + 61 * kSecond);

    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ("bundle", fresh->bundle_id);
    EXPECT_EQ("device", fresh->device_id);
    ASSERT_FALSE(expired.ok());
    EXPECT_EQ(403, expired.error().status);
    EXPECT_EQ("link_expired", expired.error().code);
}

TEST_P(FirmwareServiceTest, AnyChangeToALinkMakesItInvalid) {
    Micros now = 1'900'000'000 * kSecond;
    std::string token = service_->downloadToken("b1", "d1", now + 60 * kSecond);
    FirmwareService other(server_->store(), dir_.path().string(), "another secret");
    std::string later = std::to_string(now / kSecond + 3600);
    std::string original = std::to_string(now / kSecond + 60);
    std::string extended = token;
    extended.replace(extended.find(original), original.size(), later);

    for (const std::string& forged :
         {std::string("b2") + token.substr(2), token.substr(0, 3) + "d2" + token.substr(5),
          extended, token.substr(0, token.size() - 1) + (token.back() == '0' ? "1" : "0"),
          other.downloadToken("b1", "d1", now + 60 * kSecond), std::string("b1.d1"),
          std::string("")}) {
        auto checked = service_->checkToken(forged, now);

        ASSERT_FALSE(checked.ok()) << forged;
        EXPECT_EQ("invalid_link", checked.error().code) << forged;
    }
}

INSTANTIATE_TEST_SUITE_P(Stores, FirmwareServiceTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore::ota
