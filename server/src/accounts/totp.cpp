#include "accounts/totp.h"

#include <liboath/oath.h>
#include <sodium.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "core/crypto.h"

namespace esocore::accounts {

namespace {

constexpr std::size_t kSecretBytes = 20;
constexpr unsigned kStepSeconds = 30;
constexpr int kRecoveryCodes = 10;

void initOath() {
    static std::once_flag once;
    std::call_once(once, [] { oath_init(); });
}

std::string percentEncoded(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

// Codes are compared without case, spaces and dashes, as people type them.
std::string normalizedCode(std::string_view code) {
    std::string out;
    for (unsigned char c : code) {
        if (std::isalnum(c) != 0) {
            out += static_cast<char>(std::tolower(c));
        }
    }
    return out;
}

std::string newRecoveryCode() {
    std::string hex = randomHex(5);
    return hex.substr(0, 5) + "-" + hex.substr(5);
}

}  // namespace

std::string Totp::newSecret() {
    std::string secret(kSecretBytes, '\0');
    randombytes_buf(secret.data(), secret.size());
    return secret;
}

std::string Totp::base32(std::string_view secret) {
    initOath();
    char* out = nullptr;
    std::size_t length = 0;
    if (oath_base32_encode(secret.data(), secret.size(), &out, &length) != OATH_OK) {
        return {};
    }
    std::unique_ptr<char, decltype(&std::free)> owned(out, &std::free);
    std::string text(out, length);
    while (!text.empty() && text.back() == '=') {
        text.pop_back();
    }
    return text;
}

std::string Totp::uri(std::string_view issuer, std::string_view email, std::string_view secret) {
    return "otpauth://totp/" + percentEncoded(issuer) + ":" + percentEncoded(email) +
           "?secret=" + base32(secret) + "&issuer=" + percentEncoded(issuer) +
           "&algorithm=SHA1&digits=6&period=30";
}

std::optional<std::uint64_t> Totp::match(std::string_view secret, std::string_view code,
                                         Micros now) {
    initOath();
    std::string otp = normalizedCode(code);
    if (otp.size() != 6) {
        return std::nullopt;
    }
    int position = 0;
    std::uint64_t step = 0;
    int rc = oath_totp_validate3(secret.data(), secret.size(), static_cast<time_t>(now / 1'000'000),
                                 kStepSeconds, 0, 1, &position, &step, otp.c_str());
    if (rc < 0) {
        return std::nullopt;
    }
    return step;
}

std::string Totp::seal(std::string_view secret) const {
    std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + secret.size(), '\0');
    auto* nonce = reinterpret_cast<unsigned char*>(box.data());
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                          reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                          nonce, seal_key_.data());
    std::string text(
        sodium_base64_encoded_len(box.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(text.data(), text.size(), nonce, box.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    text.resize(std::strlen(text.c_str()));
    return text;
}

Result<std::string> Totp::open(std::string_view sealed) const {
    std::string box(sealed.size(), '\0');
    std::size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(box.data()), box.size(), sealed.data(),
                          sealed.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        length < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        return internalError("the stored TOTP secret is damaged");
    }
    const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
    std::size_t cipher = length - crypto_secretbox_NONCEBYTES;
    std::string secret(cipher - crypto_secretbox_MACBYTES, '\0');
    if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(secret.data()),
                                   nonce + crypto_secretbox_NONCEBYTES, cipher, nonce,
                                   seal_key_.data()) != 0) {
        return internalError("the stored TOTP secret does not open with this secret key");
    }
    return secret;
}

Result<std::vector<std::string>> Totp::replaceRecoveryCodes(store::SqlSession& sql,
                                                            const std::string& user_id,
                                                            Micros now) const {
    std::vector<std::string> codes;
    auto ok = sql.transaction([&](store::SqlSession& tx) -> Result<void> {
        auto removed = tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", {user_id});
        if (!removed) {
            return removed.takeError();
        }
        for (int i = 0; i < kRecoveryCodes; ++i) {
            std::string code = newRecoveryCode();
            auto added = tx.execute(
                "INSERT INTO recovery_codes(id, user_id, code_hash, created_at) "
                "VALUES($1, $2, $3, $4)",
                {newUuid(), user_id, keyedHash(recovery_key_, normalizedCode(code)), now});
            if (!added) {
                return added.takeError();
            }
            codes.push_back(std::move(code));
        }
        return {};
    });
    if (!ok) {
        return ok.takeError();
    }
    return codes;
}

Result<bool> Totp::useRecoveryCode(store::SqlSession& sql, const std::string& user_id,
                                   std::string_view code, Micros now) const {
    auto used = sql.execute(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND "
        "used_at IS NULL",
        {now, user_id, keyedHash(recovery_key_, normalizedCode(code))});
    if (!used) {
        return used.takeError();
    }
    return *used > 0;
}

Result<bool> claimTotpStep(store::SqlSession& sql, const std::string& user_id, std::uint64_t step) {
    auto claimed =
        sql.execute("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
                    {static_cast<std::int64_t>(step), user_id});
    if (!claimed) {
        return claimed.takeError();
    }
    return *claimed > 0;
}

}  // namespace esocore::accounts
