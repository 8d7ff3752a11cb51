// TOTP secrets sealed under the secret key, and RFC 6238 codes.
#include "accounts/totp.h"

#include <gtest/gtest.h>
#include <liboath/oath.h>

#include "core/crypto.h"

namespace esocore {
namespace {

using accounts::Totp;

class TotpTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { initCrypto(); }
};

TEST_F(TotpTest, SealedSecretsOpenOnlyWithTheSameSecretKey) {
    std::string secret = Totp::newSecret();
    std::string sealed = Totp("key-one").seal(secret);

    auto opened = Totp("key-one").open(sealed);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(secret, *opened);
    EXPECT_FALSE(Totp("key-two").open(sealed).ok());
    EXPECT_FALSE(Totp("key-one").open("not sealed").ok());
    EXPECT_NE(sealed, Totp("key-one").seal(secret));  // a fresh nonce each time
}

// RFC 6238 appendix B, SHA-1 seed "12345678901234567890", last six digits.
TEST_F(TotpTest, MatchesTheRfc6238TestVectorsWithinOneStep) {
    const std::string seed = "12345678901234567890";
    EXPECT_EQ(std::uint64_t{1}, Totp::match(seed, "287082", Micros{59} * 1'000'000));
    EXPECT_EQ(std::uint64_t{37037036}, Totp::match(seed, "081804", Micros{1111111109} * 1'000'000));
    EXPECT_EQ(std::uint64_t{37037036},
              Totp::match(seed, "081 804", Micros{1111111109 + 30} * 1'000'000));
    EXPECT_EQ(std::nullopt, Totp::match(seed, "081804", Micros{1111111109 + 90} * 1'000'000));
    EXPECT_EQ(std::nullopt, Totp::match(seed, "12345", Micros{59} * 1'000'000));
}

TEST_F(TotpTest, TheUriCarriesTheBase32SecretAndIssuer) {
    std::string uri = Totp::uri("EsoCore Cloud", "ada@example.com", "12345678901234567890");

    EXPECT_EQ(
        "otpauth://totp/EsoCore%20Cloud:ada@example.com?secret="
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=EsoCore%20Cloud&algorithm=SHA1&digits=6&"
        "period=30",
        uri);
}

}  // namespace
}  // namespace esocore
