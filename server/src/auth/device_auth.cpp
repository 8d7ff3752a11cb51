#include "auth/device_auth.h"

#include <algorithm>
#include <charconv>

#include "auth/device_keys.h"
#include "core/crypto.h"

namespace esocore::auth {

namespace {

constexpr Micros kSignatureWindow = 5 * 60 * 1'000'000LL;

bool startsWithIgnoreCase(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i]))) {
            return false;
        }
    }
    return true;
}

Error unauthorized(std::string code, std::string message) {
    return Error{401, std::move(code), std::move(message), {}};
}

}  // namespace

std::string presentedDeviceKey(const http::Request& request) {
    if (auto key = request.header("x-auth-key"); !key.empty()) {
        return std::string(key);
    }
    auto authorization = request.header("authorization");
    for (std::string_view scheme : {"Bearer ", "Api-Key "}) {
        if (startsWithIgnoreCase(authorization, scheme)) {
            return std::string(authorization.substr(scheme.size()));
        }
    }
    return std::string(request.header("x-api-key"));
}

Result<store::Device> DeviceAuthenticator::authenticate(const http::Request& request) {
    std::string device_ref(request.header("x-device-id"));
    if (isUuid(device_ref)) {
        // UUIDs are case-insensitive on input (RFC 4122 §3); the store keeps them in lower case.
        std::transform(device_ref.begin(), device_ref.end(), device_ref.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    std::string key = presentedDeviceKey(request);
    if (device_ref.empty() || key.empty()) {
        return unauthorized("missing_credentials",
                            "send X-Device-Id and the device key (X-Auth-Key, Authorization: "
                            "Bearer or Api-Key, or X-API-Key)");
    }
    auto device = store_.findDevice(device_ref);
    if (!device) {
        return device.takeError();
    }
    PresentedKey presented = splitDeviceKey(key);
    if (!*device || presented.prefix.empty()) {
        return unauthorized("invalid_credentials", "unknown device or wrong key");
    }
    auto keys = store_.activeDeviceKeys((*device)->id, nowMicros());
    if (!keys) {
        return keys.takeError();
    }
    std::string presented_hash = sha256Hex(presented.secret);
    bool matched = false;
    for (const auto& stored : *keys) {
        // Every candidate is compared so that timing does not tell which prefix exists.
        matched |= constantTimeEquals(stored.prefix, presented.prefix) &
                   constantTimeEquals(stored.secret_hash, presented_hash);
    }
    if (!matched) {
        return unauthorized("invalid_credentials", "unknown device or wrong key");
    }
    const std::string& status = (*device)->status;
    if (status == "unclaimed") {
        return Error{403, "device_unclaimed", "this device has not been claimed yet", {}};
    }
    if (status == "inactive") {
        return Error{403, "device_inactive", "this device is inactive", {}};
    }
    if (status == "decommissioned") {
        return Error{403, "device_decommissioned", "this device is decommissioned", {}};
    }
    return std::move(**device);
}

Result<void> DeviceAuthenticator::verifySignature(const http::Request& request, Micros now) {
    std::string_view timestamp = request.header("x-timestamp");
    std::string_view signature = request.header("x-signature");
    if (timestamp.empty() || signature.empty()) {
        return unauthorized("signature_required",
                            "this device must sign requests (X-Timestamp, X-Signature)");
    }
    std::int64_t seconds = 0;
    auto [end, ec] =
        std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), seconds);
    if (ec != std::errc() || end != timestamp.data() + timestamp.size()) {
        return unauthorized("invalid_signature", "X-Timestamp must be Unix seconds");
    }
    // Compared in seconds, so that no X-Timestamp overflows on its way to microseconds.
    std::int64_t window = kSignatureWindow / 1'000'000;
    if (seconds < now / 1'000'000 - window || seconds > now / 1'000'000 + window) {
        return unauthorized("signature_expired", "X-Timestamp is more than 5 minutes off");
    }
    constexpr std::string_view scheme = "sha256=";
    if (signature.substr(0, scheme.size()) != scheme) {
        return unauthorized("invalid_signature", "X-Signature must be sha256=<hex>");
    }
    std::string expected =
        hmacSha256Hex(presentedDeviceKey(request), std::string(timestamp) + "." + request.body);
    std::string given(signature.substr(scheme.size()));
    for (auto& c : given) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!constantTimeEquals(expected, given)) {
        return unauthorized("invalid_signature", "the request signature does not match");
    }
    if (!claimSignature(given, now)) {
        return unauthorized("replayed_signature", "this signature was already used");
    }
    return {};
}

bool DeviceAuthenticator::claimSignature(const std::string& signature, Micros now) {
    std::lock_guard lock(seen_mutex_);
    if (now >= next_sweep_) {
        std::erase_if(seen_signatures_, [now](const auto& entry) { return entry.second < now; });
        next_sweep_ = now + 60'000'000;
    }
    // A signature stays remembered as long as its timestamp could still be accepted.
    return seen_signatures_.emplace(signature, now + 2 * kSignatureWindow).second;
}

}  // namespace esocore::auth
