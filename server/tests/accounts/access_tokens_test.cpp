// JWT access tokens: lifetime, signature, algorithm pinning.
#include "accounts/access_tokens.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

namespace esocore {
namespace {

using accounts::AccessTokens;

constexpr Micros kNow = 1'780'000'000'000'000;

std::string base64url(const std::string& text) {
    std::string out(
        sodium_base64_encoded_len(text.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(text.data()),
                      text.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.find('\0'));
    return out;
}

TEST(AccessTokensTest, VerifiesItsOwnTokenUntilItExpires) {
    AccessTokens tokens("secret-one");
    auto token = tokens.issue("user-1", kNow);
    ASSERT_TRUE(token.ok());

    auto fresh = tokens.verify(*token, kNow + accounts::kAccessLifetime - 1'000'000);
    ASSERT_TRUE(fresh.ok()) << fresh.error().message;
    EXPECT_EQ("user-1", *fresh);

    auto expired = tokens.verify(*token, kNow + accounts::kAccessLifetime);
    ASSERT_FALSE(expired.ok());
    EXPECT_EQ("not_authenticated", expired.error().code);
}

TEST(AccessTokensTest, RefusesATokenSignedWithAnotherSecretKey) {
    auto token = AccessTokens("secret-one").issue("user-1", kNow);
    ASSERT_TRUE(token.ok());

    auto other = AccessTokens("secret-two").verify(*token, kNow);

    ASSERT_FALSE(other.ok());
    EXPECT_EQ("not_authenticated", other.error().code);
}

TEST(AccessTokensTest, RefusesAnUnsignedToken) {
    std::string header = base64url(R"({"alg":"none","typ":"JWT"})");
    std::string claims = base64url(R"({"sub":"user-1","iss":"esocore","typ":"access",)"
                                   R"("exp":4102444800})");

    auto unsigned_token = AccessTokens("secret-one").verify(header + "." + claims + ".", kNow);

    ASSERT_FALSE(unsigned_token.ok());
    EXPECT_EQ("not_authenticated", unsigned_token.error().code);
}

}  // namespace
}  // namespace esocore
