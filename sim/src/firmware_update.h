#pragma once

// The firmware update side of a device (DESIGN §8): the requests of the cycle, the offer the
// server makes, and the checks an image must pass before it is installed.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "device_api.h"

namespace esocore::sim {

/// What `ota/check` offered.
struct FirmwareOffer {
    std::string version;
    std::size_t size = 0;
    std::string sha256;      // lowercase hex
    std::string signature;   // base64 Ed25519 over the image
    std::string public_key;  // base64, as the server sent it
    std::string path;        // of the download link, from /api/iot/v1/
};

/// The offer in a `200 ota/check` answer; nothing when no update is available or the answer is
/// not one.
std::optional<FirmwareOffer> parseOffer(std::string_view body);

/// The `public_key` of an `ota/public-key` answer; empty when the answer is not one.
std::string parsePublicKey(std::string_view body);

/// `GET ota/check?version=<running>`.
HttpRequest otaCheckRequest(const DeviceCredentials& device, std::string_view base_path,
                            std::string_view running);

/// `GET ota/public-key`: the key that signs images, asked for once and then kept.
HttpRequest otaPublicKeyRequest(std::string_view base_path);

/// `GET` of the download link, from byte `from` on (`Range: bytes=<from>-`) when not zero.
HttpRequest otaDownloadRequest(std::string_view base_path, const FirmwareOffer& offer,
                               std::size_t from);

/// `POST ota/report` of `status` for `version`, with `error` when not empty.
HttpRequest otaReportRequest(const DeviceCredentials& device, std::string_view base_path,
                             std::string_view status, std::string_view version,
                             std::string_view error = {});

/// Empty when `image` is the offered one: its size and SHA-256 match and its Ed25519
/// signature verifies with `trusted_key` (base64), the key the device trusts. Otherwise what
/// is wrong, for the failure report.
std::string checkImage(std::string_view image, const FirmwareOffer& offer,
                       std::string_view trusted_key);

}  // namespace esocore::sim
