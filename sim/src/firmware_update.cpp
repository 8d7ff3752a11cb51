#include "firmware_update.h"

#include <sodium.h>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "batch_builder.h"

namespace esocore::sim {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kDeviceApi = "/api/iot/v1/";

std::string stringField(const boost::json::object& object, std::string_view name) {
    const auto* value = object.if_contains(name);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::optional<boost::json::object> parseObject(std::string_view body) {
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(body, error);
    if (error || !value.is_object()) {
        return std::nullopt;
    }
    return std::move(value.as_object());
}

std::optional<std::string> fromBase64(std::string_view text) {
    std::string out(text.size(), '\0');
    std::size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        return std::nullopt;
    }
    out.resize(length);
    return out;
}

HttpRequest plainRequest(http::verb method, std::string target) {
    HttpRequest request{method, std::move(target), 11};
    request.set(http::field::user_agent, "esocore-sim/" + std::string(kFirmwareVersion));
    return request;
}

HttpRequest authenticated(http::verb method, const DeviceCredentials& device, std::string target) {
    HttpRequest request = plainRequest(method, std::move(target));
    request.set("X-Device-Id", device.id);
    request.set("X-Auth-Key", device.key);
    request.set(http::field::accept, "application/json");
    return request;
}

}  // namespace

std::optional<FirmwareOffer> parseOffer(std::string_view body) {
    auto object = parseObject(body);
    const auto* available = object ? object->if_contains("update_available") : nullptr;
    if (available == nullptr || !available->is_bool() || !available->as_bool()) {
        return std::nullopt;
    }
    FirmwareOffer offer;
    offer.version = stringField(*object, "version");
    offer.sha256 = stringField(*object, "sha256");
    offer.signature = stringField(*object, "signature");
    offer.public_key = stringField(*object, "public_key");
    const std::string url = stringField(*object, "url");
    // The link may be absolute (the server's public URL) or a path: the device keeps the path
    // and talks to the server it knows.
    const auto at = url.find(kDeviceApi);
    const auto* size = object->if_contains("size");
    if (offer.version.empty() || at == std::string::npos || size == nullptr || !size->is_int64() ||
        size->as_int64() <= 0) {
        return std::nullopt;
    }
    offer.path = url.substr(at + kDeviceApi.size());
    offer.size = static_cast<std::size_t>(size->as_int64());
    return offer;
}

std::string parsePublicKey(std::string_view body) {
    auto object = parseObject(body);
    return object ? stringField(*object, "public_key") : std::string();
}

HttpRequest otaCheckRequest(const DeviceCredentials& device, std::string_view base_path,
                            std::string_view running) {
    std::string target = std::string(base_path).append(kDeviceApi).append("ota/check?version=");
    target.append(boost::urls::encode(running, boost::urls::unreserved_chars));
    HttpRequest request = authenticated(http::verb::get, device, std::move(target));
    request.prepare_payload();
    return request;
}

HttpRequest otaPublicKeyRequest(std::string_view base_path) {
    HttpRequest request = plainRequest(
        http::verb::get, std::string(base_path).append(kDeviceApi).append("ota/public-key"));
    request.prepare_payload();
    return request;
}

HttpRequest otaDownloadRequest(std::string_view base_path, const FirmwareOffer& offer,
                               std::size_t from) {
    // The link's token is the credential: the download carries no device key.
    HttpRequest request =
        plainRequest(http::verb::get, std::string(base_path).append(kDeviceApi).append(offer.path));
    if (from > 0) {
        request.set(http::field::range, "bytes=" + std::to_string(from) + "-");
    }
    request.prepare_payload();
    return request;
}

HttpRequest otaReportRequest(const DeviceCredentials& device, std::string_view base_path,
                             std::string_view status, std::string_view version,
                             std::string_view error) {
    boost::json::object body{{"status", status}, {"version", version}};
    if (!error.empty()) {
        body["error"] = error;
    }
    HttpRequest request = authenticated(
        http::verb::post, device, std::string(base_path).append(kDeviceApi).append("ota/report"));
    request.set(http::field::content_type, "application/json");
    request.body() = boost::json::serialize(body);
    request.prepare_payload();
    return request;
}

std::string checkImage(std::string_view image, const FirmwareOffer& offer,
                       std::string_view trusted_key) {
    if (image.size() != offer.size) {
        return "size " + std::to_string(image.size()) + " is not the offered " +
               std::to_string(offer.size);
    }
    if (sha256Hex(image) != offer.sha256) {
        return "sha256 mismatch";
    }
    auto key = fromBase64(trusted_key);
    auto signature = fromBase64(offer.signature);
    if (!key || key->size() != crypto_sign_PUBLICKEYBYTES || !signature ||
        signature->size() != crypto_sign_BYTES) {
        return "malformed key or signature";
    }
    if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature->data()),
                                    reinterpret_cast<const unsigned char*>(image.data()),
                                    image.size(),
                                    reinterpret_cast<const unsigned char*>(key->data())) != 0) {
        return "signature does not verify";
    }
    return {};
}

}  // namespace esocore::sim
