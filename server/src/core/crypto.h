#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace esocore {

/// Initializes libsodium; call once at start-up before any other function here.
void initCrypto();

/// A random UUID version 4 in its canonical lowercase text form.
std::string newUuid();

/// True for the canonical 8-4-4-4-12 hex form (either case).
bool isUuid(std::string_view text);

/// `bytes` random bytes encoded as unpadded base64url.
std::string randomToken(std::size_t bytes);

/// Bytes as unpadded base64url, and back (nothing when `text` is not such an encoding).
std::string base64UrlEncode(std::string_view data);
std::optional<std::string> base64UrlDecode(std::string_view text);

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);
std::string sha256Hex(std::string_view data);
std::string toHex(const std::uint8_t* data, std::size_t size);
std::string hmacSha256Hex(std::string_view key, std::string_view message);

/// Compares in time independent of where the inputs differ.
bool constantTimeEquals(std::string_view a, std::string_view b);

/// Argon2id, in libsodium's self-describing string form.
std::string hashPassword(std::string_view password);
bool verifyPassword(std::string_view hash, std::string_view password);

}  // namespace esocore
