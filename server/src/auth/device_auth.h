#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/result.h"
#include "http/message.h"
#include "store/store.h"

namespace esocore::auth {

/// The key a device presented, from the first of X-Auth-Key, `Authorization: Bearer`,
/// `Authorization: Api-Key` and X-API-Key; empty when none.
std::string presentedDeviceKey(const http::Request& request);

/// Authenticates device requests (DESIGN §5): device id + key, constant-time comparison,
/// lifecycle status, and the request signature for devices whose profile requires it.
class DeviceAuthenticator {
public:
    explicit DeviceAuthenticator(store::Store& store) : store_(store) {}

    /// The device, or 401 (`missing_credentials`, `invalid_credentials`) or 403
    /// (`device_unclaimed`, `device_inactive`, `device_decommissioned`).
    Result<store::Device> authenticate(const http::Request& request);

    /// Checks X-Timestamp and X-Signature against the raw body; refuses replays.
    Result<void> verifySignature(const http::Request& request, Micros now);

private:
    bool claimSignature(const std::string& signature, Micros now);

    store::Store& store_;
    std::mutex seen_mutex_;
    std::unordered_map<std::string, Micros> seen_signatures_;  // signature -> expiry
    Micros next_sweep_ = 0;
};

}  // namespace esocore::auth
