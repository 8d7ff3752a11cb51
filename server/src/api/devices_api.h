#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/management.h"

namespace esocore::api {

/// /api/devices: the fleet list, registration, detail and changes, claiming (by token or by
/// the QR code's claim code), claim codes for stickers, key rotation with a grace period,
/// lifecycle status and the per-device configuration overrides.
void addDeviceRoutes(http::Router& router, const ApiContext& context);

/// What a claim QR code carries: `esocore-claim:1:<serial>:<claim token>`.
std::string claimCode(const std::string& serial, const std::string& token);

/// The serial number and claim token of a claim code; nothing when `code` is not one.
struct ClaimCodeParts {
    std::string serial;
    std::string token;
};
std::optional<ClaimCodeParts> parseClaimCode(std::string_view code);

/// `payload` as a QR code (error correction M) in SVG, four modules of quiet zone around it,
/// dark modules drawn as one path of `M<x> <y>h<n>v1h-<n>z` runs.
Result<std::string> qrCodeSvg(const std::string& payload);

}  // namespace esocore::api
