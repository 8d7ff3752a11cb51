#include "ota/firmware.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>

#include "core/crypto.h"
#include "ota/semver.h"

namespace esocore::ota {

namespace {

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::char_traits<char>::length(out.c_str()));
    return out;
}

std::vector<std::string_view> splitDots(std::string_view token) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    while (parts.size() < 5) {
        std::size_t dot = token.find('.', start);
        parts.push_back(token.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
    return parts;
}

// Calls `use` with the image's bytes mapped read-only: hashing and signing a large image never
// copies it into the heap.
Result<void> withImage(const std::string& path, const std::function<void(std::string_view)>& use) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return Error{400, "file_not_found", "cannot read " + path, {}};
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0 || info.st_size <= 0) {
        ::close(fd);
        return Error{422, "empty_image", "the firmware image is empty", {}};
    }
    auto size = static_cast<std::size_t>(info.st_size);
    void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (mapped == MAP_FAILED) {
        return internalError("cannot map " + path);
    }
    use(std::string_view(static_cast<const char*>(mapped), size));
    ::munmap(mapped, size);
    return {};
}

Error versionExists(const std::string& version, const std::string& channel) {
    return Error{
        409, "version_exists", "firmware " + version + " already exists on channel " + channel, {}};
}

Result<void> checkRequest(const NewBundle& request) {
    if (!parseVersion(request.version)) {
        return Error{
            422, "invalid_version", "'" + request.version + "' is not a semantic version", {}};
    }
    if (request.channel != "stable" && request.channel != "beta" && request.channel != "dev") {
        return Error{422, "invalid_channel", "channel must be stable, beta or dev", {}};
    }
    if (request.models.empty()) {
        return Error{422, "invalid_models", "name at least one model the image is for", {}};
    }
    return {};
}

std::string modelsJson(const std::vector<std::string>& list) {
    boost::json::array models;
    for (const auto& model : list) {
        models.emplace_back(model);
    }
    return boost::json::serialize(models);
}

}  // namespace

FirmwareService::FirmwareService(store::Store& store, std::string data_dir,
                                 const std::string& secret_key)
    : store_(store), data_dir_(std::move(data_dir)) {
    Sha256 seed = sha256("esocore ota signing key\n" + secret_key);
    crypto_sign_seed_keypair(public_key_.data(), secret_key_.data(), seed.data());
    token_key_ = "esocore ota download\n" + secret_key;
}

std::string FirmwareService::publicKey() const {
    return base64(public_key_.data(), public_key_.size());
}

std::string FirmwareService::sign(std::string_view image) const {
    unsigned char signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(image.data()),
                         image.size(), secret_key_.data());
    return base64(signature, sizeof signature);
}

std::string FirmwareService::spoolDirectory() const {
    return (std::filesystem::path(data_dir_) / "firmware" / "incoming").string();
}

// 409 when the channel has a bundle of the same precedence: `1.2.0+b7` beside `1.2.0` would
// make "the newest" ambiguous.
Result<void> FirmwareService::checkNewVersion(const std::string& version,
                                              const std::string& channel) {
    auto parsed = parseVersion(version);
    auto rows =
        store_.sql().query("SELECT version FROM firmware_bundles WHERE channel = $1", {channel});
    if (!rows) {
        return rows.takeError();
    }
    for (const auto& row : *rows) {
        auto other = parseVersion(row.text(0));
        if (other && compareVersions(*other, *parsed) == 0) {
            return versionExists(row.text(0), channel);
        }
    }
    return {};
}

// The image's place in the firmware directory: the spooled upload moved there, or a copy.
Result<std::string> FirmwareService::placeImage(const NewBundle& request, const std::string& id) {
    std::filesystem::path dir = std::filesystem::path(data_dir_) / "firmware";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::string path = (dir / (id + ".bin")).string();
    if (request.move_file) {
        std::filesystem::rename(request.file, path, ec);
    }
    if (!request.move_file || ec) {
        ec.clear();
        std::filesystem::copy_file(request.file, path, ec);
    }
    if (ec) {
        return internalError("cannot store the image as " + path + ": " + ec.message());
    }
    return path;
}

// The bundle's row, and whatever else the caller records with it, in one transaction.
Result<void> FirmwareService::recordBundle(const store::FirmwareBundle& bundle,
                                           const BundleHook& also) {
    return store_.sql().transaction([&](store::SqlSession& tx) -> Result<void> {
        auto inserted = tx.execute(
            "INSERT INTO firmware_bundles (id, version, channel, models, release_notes, size, "
            "sha256, signature, path, created_at, updated_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
            "ON CONFLICT (version, channel) DO NOTHING",
            {bundle.id, bundle.version, bundle.channel, bundle.models_json, bundle.release_notes,
             bundle.size, bundle.sha256, bundle.signature, bundle.path, bundle.created_at,
             bundle.created_at});
        if (!inserted) {
            return inserted.takeError();
        }
        if (*inserted == 0) {
            return versionExists(bundle.version, bundle.channel);
        }
        return also ? also(tx, bundle) : Result<void>{};
    });
}

Result<store::FirmwareBundle> FirmwareService::addBundle(const NewBundle& request,
                                                         const BundleHook& also) {
    if (auto valid = checkRequest(request); !valid) {
        return valid.takeError();
    }
    store::FirmwareBundle bundle;
    bundle.id = newUuid();
    bundle.version = canonicalVersion(request.version);
    bundle.channel = request.channel;
    if (auto fresh = checkNewVersion(bundle.version, bundle.channel); !fresh) {
        return fresh.takeError();
    }
    auto read = withImage(request.file, [&](std::string_view image) {
        bundle.size = static_cast<std::int64_t>(image.size());
        bundle.sha256 = sha256Hex(image);
        bundle.signature = sign(image);
    });
    if (!read) {
        return read.takeError();
    }
    bundle.models_json = modelsJson(request.models);
    bundle.release_notes = request.release_notes;
    bundle.created_at = nowMicros();
    auto placed = placeImage(request, bundle.id);
    if (!placed) {
        return placed.takeError();
    }
    bundle.path = *placed;
    if (auto stored = recordBundle(bundle, also); !stored) {
        std::error_code ignored;
        std::filesystem::remove(bundle.path, ignored);
        return stored.takeError();
    }
    return bundle;
}

std::string FirmwareService::downloadToken(const std::string& bundle_id,
                                           const std::string& device_id, Micros expires_at) const {
    std::string claims = bundle_id + "." + device_id + "." + std::to_string(expires_at / 1'000'000);
    return claims + "." + hmacSha256Hex(token_key_, claims);
}

Result<DownloadClaims> FirmwareService::checkToken(std::string_view token, Micros now) const {
    auto parts = splitDots(token);
    Error invalid{403, "invalid_link", "this download link is not valid", {}};
    if (parts.size() != 4) {
        return invalid;
    }
    std::string claims =
        std::string(parts[0]) + "." + std::string(parts[1]) + "." + std::string(parts[2]);
    if (!constantTimeEquals(hmacSha256Hex(token_key_, claims), parts[3])) {
        return invalid;
    }
    Micros expires = 0;
    try {
        expires = std::stoll(std::string(parts[2])) * 1'000'000;
    } catch (const std::exception&) {
        return invalid;
    }
    if (expires < now) {
        return Error{403, "link_expired", "this download link has expired", {}};
    }
    return DownloadClaims{std::string(parts[0]), std::string(parts[1]), expires};
}

std::string canonicalVersion(std::string_view version) {
    if (!version.empty() && (version.front() == 'v' || version.front() == 'V')) {
        version.remove_prefix(1);
    }
    return std::string(version);
}

}  // namespace esocore::ota
