#include "accounts/keys.h"

#include <sodium.h>

#include <vector>

#include "core/crypto.h"

namespace esocore::accounts {

Key deriveKey(std::string_view secret_key, std::string_view purpose) {
    Sha256 root = sha256(secret_key);
    std::string label = "esocore-key:" + std::string(purpose);
    Key key{};
    crypto_auth_hmacsha256(key.data(), reinterpret_cast<const unsigned char*>(label.data()),
                           label.size(), root.data());
    return key;
}

std::string randomHex(std::size_t bytes) {
    std::vector<std::uint8_t> buffer(bytes);
    randombytes_buf(buffer.data(), buffer.size());
    return toHex(buffer.data(), buffer.size());
}

std::string keyedHash(const Key& key, std::string_view text) {
    Key mac{};
    crypto_auth_hmacsha256(mac.data(), reinterpret_cast<const unsigned char*>(text.data()),
                           text.size(), key.data());
    return toHex(mac.data(), mac.size());
}

}  // namespace esocore::accounts
