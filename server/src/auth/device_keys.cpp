#include "auth/device_keys.h"

#include "core/crypto.h"

namespace esocore::auth {

IssuedDeviceKey issueDeviceKey(const std::string& device_id) {
    std::string prefix = randomToken(6);
    std::string secret = randomToken(32);
    store::DeviceKey stored;
    stored.device_id = device_id;
    stored.prefix = prefix;
    stored.secret_hash = sha256Hex(secret);
    stored.created_at = nowMicros();
    return IssuedDeviceKey{prefix + "." + secret, std::move(stored)};
}

PresentedKey splitDeviceKey(std::string_view key) {
    auto dot = key.find('.');
    if (dot == std::string_view::npos || dot == 0 || dot + 1 >= key.size()) {
        return {};
    }
    return PresentedKey{std::string(key.substr(0, dot)), std::string(key.substr(dot + 1))};
}

}  // namespace esocore::auth
