#include "ota/firmware.h"

#include <sodium.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

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

Result<std::string> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Error{400, "file_not_found", "cannot read " + path, {}};
    }
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
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

Result<store::FirmwareBundle> FirmwareService::addBundle(const NewBundle& request) {
    auto version = parseVersion(request.version);
    if (!version) {
        return Error{
            422, "invalid_version", "'" + request.version + "' is not a semantic version", {}};
    }
    if (request.channel != "stable" && request.channel != "beta" && request.channel != "dev") {
        return Error{422, "invalid_channel", "channel must be stable, beta or dev", {}};
    }
    auto image = readFile(request.file);
    if (!image) {
        return image.takeError();
    }
    store::FirmwareBundle bundle;
    bundle.id = newUuid();
    bundle.version = request.version;
    bundle.channel = request.channel;
    boost::json::array models;
    for (const auto& m : request.models) {
        models.emplace_back(m);
    }
    bundle.models_json = boost::json::serialize(models);
    bundle.release_notes = request.release_notes;
    bundle.size = static_cast<std::int64_t>(image->size());
    bundle.sha256 = sha256Hex(*image);
    bundle.signature = sign(*image);
    bundle.created_at = nowMicros();
    std::filesystem::path dir = std::filesystem::path(data_dir_) / "firmware";
    std::filesystem::create_directories(dir);
    bundle.path = (dir / (bundle.id + ".bin")).string();
    std::ofstream out(bundle.path, std::ios::binary);
    out.write(image->data(), static_cast<std::streamsize>(image->size()));
    out.close();
    if (!out) {
        return internalError("cannot write " + bundle.path);
    }
    if (auto ok = store_.addFirmwareBundle(bundle); !ok) {
        std::filesystem::remove(bundle.path);
        return ok.takeError();
    }
    return bundle;
}

Result<std::optional<store::FirmwareBundle>> FirmwareService::offerFor(const store::Device& device,
                                                                       const std::string& running) {
    auto bundles = store_.firmwareBundlesFor(device.model, device.firmware_channel);
    if (!bundles) {
        return bundles.takeError();
    }
    auto current = parseVersion(running);
    std::optional<store::FirmwareBundle> best;
    std::optional<Version> best_version;
    for (auto& bundle : *bundles) {
        auto v = parseVersion(bundle.version);
        if (!v || (current && compareVersions(*v, *current) <= 0)) {
            continue;
        }
        if (!best_version || compareVersions(*v, *best_version) > 0) {
            best_version = v;
            best = std::move(bundle);
        }
    }
    return best;
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

}  // namespace esocore::ota
