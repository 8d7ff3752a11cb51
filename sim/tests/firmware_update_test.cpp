#include "firmware_update.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <boost/json/serialize.hpp>

#include "batch_builder.h"

namespace esocore::sim {
namespace {

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

// A signing key of the test's own, and an offer of `image` signed with it.
class FirmwareUpdateTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        crypto_sign_keypair(public_key_.data(), secret_key_.data());
    }

    std::string publicKey() const { return base64(public_key_.data(), public_key_.size()); }

    FirmwareOffer offerOf(const std::string& image) const {
        std::array<unsigned char, crypto_sign_BYTES> signature{};
        crypto_sign_detached(signature.data(), nullptr,
                             reinterpret_cast<const unsigned char*>(image.data()), image.size(),
                             secret_key_.data());
        return FirmwareOffer{"2.0.0",          image.size(),
                             sha256Hex(image), base64(signature.data(), signature.size()),
                             publicKey(),      "ota/download/token"};
    }

    std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> public_key_{};
    std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret_key_{};
};

TEST_F(FirmwareUpdateTest, ParsesAnOfferAndKeepsTheLinksPath) {
    const std::string body = boost::json::serialize(boost::json::object{
        {"update_available", true},
        {"current_version", "1.4.2"},
        {"version", "2.0.0"},
        {"size", 4096},
        {"sha256", "ab"},
        {"signature", "c2ln"},
        {"public_key", "a2V5"},
        {"url", "https://cloud.example.com/api/iot/v1/ota/download/b.d.1.mac"}});

    const auto offer = parseOffer(body);

    ASSERT_TRUE(offer.has_value());
    EXPECT_EQ("2.0.0", offer->version);
    EXPECT_EQ(4096u, offer->size);
    EXPECT_EQ("ota/download/b.d.1.mac", offer->path);
    EXPECT_EQ("a2V5", offer->public_key);
}

TEST_F(FirmwareUpdateTest, NoOfferWithoutAnUpdateOrWithAMalformedAnswer) {
    EXPECT_FALSE(parseOffer(R"({"update_available":false,"current_version":"1.0.0"})"));
    EXPECT_FALSE(parseOffer("not json"));
    EXPECT_FALSE(parseOffer(R"({"update_available":true,"version":"2.0.0","size":10})"));
    EXPECT_FALSE(parseOffer(
        R"({"update_available":true,"version":"2.0.0","size":0,"url":"/api/iot/v1/ota/download/x"})"));
}

TEST_F(FirmwareUpdateTest, AcceptsTheSignedImage) {
    const std::string image(10'000, 'f');

    EXPECT_EQ("", checkImage(image, offerOf(image), publicKey()));
}

TEST_F(FirmwareUpdateTest, RefusesAChangedImageAWrongHashOrAnotherKey) {
    const std::string image(10'000, 'f');
    const FirmwareOffer offer = offerOf(image);
    std::string flipped = image;
    flipped[5000] = 'g';
    FirmwareOffer rehashed = offer;
    rehashed.sha256 = sha256Hex(flipped);
    std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> other{};
    std::array<unsigned char, crypto_sign_SECRETKEYBYTES> other_secret{};
    crypto_sign_keypair(other.data(), other_secret.data());

    EXPECT_EQ("sha256 mismatch", checkImage(flipped, offer, publicKey()));
    EXPECT_EQ("signature does not verify", checkImage(flipped, rehashed, publicKey()));
    EXPECT_EQ("signature does not verify",
              checkImage(image, offer, base64(other.data(), other.size())));
    EXPECT_NE("", checkImage(image.substr(1), offer, publicKey()));
    EXPECT_NE("", checkImage(image, offer, "not base64!"));
}

TEST_F(FirmwareUpdateTest, ResumesADownloadWithARange) {
    const FirmwareOffer offer = offerOf("image");

    EXPECT_EQ("", std::string(otaDownloadRequest("", offer, 0)["Range"]));
    EXPECT_EQ("bytes=1024-", std::string(otaDownloadRequest("", offer, 1024)["Range"]));
    EXPECT_EQ("/prefix/api/iot/v1/ota/download/token",
              std::string(otaDownloadRequest("/prefix", offer, 0).target()));
}

TEST_F(FirmwareUpdateTest, ChecksWithTheRunningVersionEncoded) {
    DeviceCredentials device{"id", "SIM-1", "key"};

    HttpRequest request = otaCheckRequest(device, "", "1.4.2+build.7");

    EXPECT_EQ("/api/iot/v1/ota/check?version=1.4.2%2Bbuild.7", std::string(request.target()));
    EXPECT_EQ("key", std::string(request["X-Auth-Key"]));
}

}  // namespace
}  // namespace esocore::sim
