#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace esocore::ota {

struct NewBundle {
    std::string file;
    std::string version;
    std::string channel = "stable";
    std::vector<std::string> models;
    std::string release_notes;
};

struct DownloadClaims {
    std::string bundle_id;
    std::string device_id;
    Micros expires_at = 0;
};

/// Firmware images: stored beside the database, signed with the server's Ed25519 key, offered
/// to devices and handed out through signed, expiring links.
class FirmwareService {
public:
    /// The signing key is derived from the server's secret key, so every instance that shares
    /// the secret signs with the same key.
    FirmwareService(store::Store& store, std::string data_dir, const std::string& secret_key);

    /// The Ed25519 public key, base64, for devices to verify images.
    std::string publicKey() const;

    Result<store::FirmwareBundle> addBundle(const NewBundle& bundle);

    /// The newest bundle for the device's model and channel that is newer than `running`.
    Result<std::optional<store::FirmwareBundle>> offerFor(const store::Device& device,
                                                          const std::string& running);

    std::string downloadToken(const std::string& bundle_id, const std::string& device_id,
                              Micros expires_at) const;
    /// 403 `invalid_link` or `link_expired` when the token is forged or old.
    Result<DownloadClaims> checkToken(std::string_view token, Micros now) const;

    /// Ed25519 detached signature over the image bytes, base64.
    std::string sign(std::string_view image) const;

private:
    store::Store& store_;
    std::string data_dir_;
    std::string token_key_;
    std::array<unsigned char, 64> secret_key_{};
    std::array<unsigned char, 32> public_key_{};
};

}  // namespace esocore::ota
