#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace esocore::accounts {

using Key = std::array<std::uint8_t, 32>;

/// A key for one purpose ("jwt", "totp", ...) derived from ESOCORE_SECRET_KEY, so that one
/// leaked purpose key reveals neither the secret key nor the others.
Key deriveKey(std::string_view secret_key, std::string_view purpose);

/// `bytes` random bytes as lowercase hex.
std::string randomHex(std::size_t bytes);

/// HMAC-SHA256 of `text` under `key`, in hex: how short-lived credentials are stored.
std::string keyedHash(const Key& key, std::string_view text);

}  // namespace esocore::accounts
