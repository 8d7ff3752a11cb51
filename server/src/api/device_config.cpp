#include "api/device_config.h"

#include <boost/json.hpp>

#include "core/crypto.h"

namespace esocore::api {

namespace json = boost::json;

namespace {

json::object defaults(const Config& config) {
    return json::object{
        {"upload_interval_s", 5},
        {"batch_max_records", 1000},
        {"offline_timeout_s", config.default_offline_timeout_seconds},
        {"signing_required", false},
        {"restamp_future", false},
        {"sampling_ms", json::object{{"temp_ambient", 10000},
                                     {"rh", 10000},
                                     {"temp_stator", 5000},
                                     {"current_rms", 1000},
                                     {"vibration_rms", 1000},
                                     {"acoustic_level", 1000}}},
        {"window_s", 60},
        {"thresholds", json::object{}},
        {"ntp_servers", json::array{"pool.ntp.org"}},
        {"endpoints", json::object{{"batch", "/api/iot/v1/telemetry/batch"},
                                   {"config", "/api/iot/v1/config"},
                                   {"heartbeat", "/api/iot/v1/heartbeat"},
                                   {"ota_check", "/api/iot/v1/ota/check"}}},
    };
}

Result<json::object> parseObject(const std::string& text, const char* what) {
    json::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return internalError(std::string(what) + " is not a JSON object");
    }
    return std::move(v.as_object());
}

}  // namespace

void mergeInto(json::object& base, const json::object& over) {
    for (const auto& [key, value] : over) {
        json::value* existing = base.if_contains(key);
        if (existing != nullptr && existing->is_object() && value.is_object()) {
            mergeInto(existing->as_object(), value.as_object());
        } else {
            base[key] = value;
        }
    }
}

Result<DeviceConfig> deviceConfig(const Config& config, store::Store& store,
                                  const store::Device& device) {
    DeviceConfig out{defaults(config), {}};
    if (!device.organization_id.empty()) {
        auto profile = store.configProfile(device.organization_id, device.model);
        if (!profile) {
            return profile.takeError();
        }
        if (*profile) {
            auto settings = parseObject((*profile)->settings_json, "config profile");
            if (!settings) {
                return settings.takeError();
            }
            mergeInto(out.settings, *settings);
        }
    }
    auto overrides = parseObject(device.config_overrides_json, "device overrides");
    if (!overrides) {
        return overrides.takeError();
    }
    mergeInto(out.settings, *overrides);
    out.version = sha256Hex(json::serialize(out.settings)).substr(0, 20);
    return out;
}

}  // namespace esocore::api
