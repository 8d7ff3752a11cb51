#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/sql.h"
#include "store/store.h"

namespace esocore::ota {

struct NewBundle {
    std::string file;
    std::string version;
    std::string channel = "stable";
    std::vector<std::string> models;
    std::string release_notes;
    /// The file is a spooled upload: it is moved into the firmware directory, not copied.
    bool move_file = false;
};

struct DownloadClaims {
    std::string bundle_id;
    std::string device_id;
    Micros expires_at = 0;
};

/// Work done in the transaction that stores a new bundle (its audit entry).
using BundleHook =
    std::function<Result<void>(store::SqlSession& tx, const store::FirmwareBundle& bundle)>;

/// Firmware images: stored beside the database, signed with the server's Ed25519 key, offered
/// to devices and handed out through signed, expiring links. Bundles are platform-wide; which
/// devices get one is the business of rollouts (ota/update_service.h).
class FirmwareService {
public:
    /// The signing key is derived from the server's secret key, so every instance that shares
    /// the secret signs with the same key.
    FirmwareService(store::Store& store, std::string data_dir, const std::string& secret_key);

    /// The Ed25519 public key, base64, for devices to verify images.
    std::string publicKey() const;

    /// Checks, hashes, signs and stores an image. 422 `invalid_version` (not a semantic
    /// version), `invalid_channel`, `invalid_models` (none given), `empty_image`; 409
    /// `version_exists` when the channel already has a bundle of that version (build
    /// metadata aside). The version is stored without a leading `v`. `also` runs inside the
    /// transaction that records the bundle.
    Result<store::FirmwareBundle> addBundle(const NewBundle& bundle, const BundleHook& also = {});

    /// Where uploads are written while they arrive, on the same file system as the images.
    std::string spoolDirectory() const;

    std::string downloadToken(const std::string& bundle_id, const std::string& device_id,
                              Micros expires_at) const;
    /// 403 `invalid_link` or `link_expired` when the token is forged or old.
    Result<DownloadClaims> checkToken(std::string_view token, Micros now) const;

    /// Ed25519 detached signature over the image bytes, base64.
    std::string sign(std::string_view image) const;

private:
    Result<void> checkNewVersion(const std::string& version, const std::string& channel);
    Result<std::string> placeImage(const NewBundle& request, const std::string& id);
    Result<void> recordBundle(const store::FirmwareBundle& bundle, const BundleHook& also);

    store::Store& store_;
    std::string data_dir_;
    std::string token_key_;
    std::array<unsigned char, 64> secret_key_{};
    std::array<unsigned char, 32> public_key_{};
};

/// A version in the form bundles keep it: as given, without a leading `v`.
std::string canonicalVersion(std::string_view version);

}  // namespace esocore::ota
