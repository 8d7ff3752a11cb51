#pragma once

#include <string>
#include <string_view>

#include "store/types.h"

namespace esocore::auth {

/// A new device key: `secret` is shown to the person once; `stored` is what the store keeps.
struct IssuedDeviceKey {
    std::string secret;
    store::DeviceKey stored;
};

/// Makes a key of the form `<prefix>.<secret>`; only the SHA-256 of the secret part is kept.
IssuedDeviceKey issueDeviceKey(const std::string& device_id);

/// Splits a presented key; an empty prefix means the key is malformed.
struct PresentedKey {
    std::string prefix;
    std::string secret;
};
PresentedKey splitDeviceKey(std::string_view key);

}  // namespace esocore::auth
