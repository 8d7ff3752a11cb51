#include "api/device_config.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

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

constexpr std::int64_t kDaySeconds = 86'400;
constexpr std::size_t kMaxSeriesName = 255;
constexpr std::size_t kMaxNtpServers = 8;
constexpr std::size_t kMaxHostName = 253;
constexpr std::size_t kMaxEndpoint = 512;

// Collects the problems of one settings object, each named by its path.
class SettingsCheck {
public:
    using Problems = std::vector<std::pair<std::string, std::string>>;

    void integer(const json::value& v, const std::string& field, std::int64_t min,
                 std::int64_t max) {
        std::optional<std::int64_t> n;
        if (v.is_int64()) {
            n = v.as_int64();
        } else if (v.is_uint64() && v.as_uint64() <= INT64_MAX) {
            n = static_cast<std::int64_t>(v.as_uint64());
        }
        if (!n) {
            fail(field, "must be an integer");
        } else if (*n < min || *n > max) {
            fail(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
    }

    void boolean(const json::value& v, const std::string& field) {
        if (!v.is_bool()) {
            fail(field, "must be true or false");
        }
    }

    // Sampling periods per series: {"<series>": milliseconds}.
    void samplingPeriods(const json::value& v, const std::string& field) {
        if (!namedObject(v, field)) {
            return;
        }
        for (const auto& [series, period] : v.as_object()) {
            integer(period, field + "." + std::string(series), 10, kDaySeconds * 1000);
        }
    }

    // Limits per series: {"<series>": {"min": 1.5, "max": 90, ...}}, every limit a number.
    void thresholds(const json::value& v, const std::string& field) {
        if (!namedObject(v, field)) {
            return;
        }
        for (const auto& [series, limits] : v.as_object()) {
            std::string name = field + "." + std::string(series);
            if (!limits.is_object()) {
                fail(name, "must be an object of numbers, e.g. {\"max\": 90}");
                continue;
            }
            for (const auto& [limit, value] : limits.as_object()) {
                if (!value.is_number() || !std::isfinite(value.to_number<double>())) {
                    fail(name + "." + std::string(limit), "must be a number");
                }
            }
        }
    }

    void ntpServers(const json::value& v, const std::string& field) {
        if (!v.is_array() || v.as_array().empty() || v.as_array().size() > kMaxNtpServers) {
            fail(field, "must be a list of 1 to " + std::to_string(kMaxNtpServers) + " host names");
            return;
        }
        for (const auto& host : v.as_array()) {
            if (!host.is_string() || !isHostName(host.as_string())) {
                fail(field, "must be a list of host names, e.g. [\"pool.ntp.org\"]");
                return;
            }
        }
    }

    // Paths the device calls: {"batch": "/api/iot/v1/telemetry/batch", ...}.
    void endpoints(const json::value& v, const std::string& field) {
        if (!v.is_object()) {
            fail(field, "must be an object");
            return;
        }
        for (const auto& [name, target] : v.as_object()) {
            std::string path = field + "." + std::string(name);
            if (name != "batch" && name != "config" && name != "heartbeat" && name != "ota_check") {
                fail(path, "unknown endpoint: batch, config, heartbeat or ota_check");
            } else if (!target.is_string() || !isEndpoint(target.as_string())) {
                fail(path, "must be a path starting with / or an http(s) URL");
            }
        }
    }

    void fail(const std::string& field, std::string message) {
        problems_.emplace_back(field, std::move(message));
    }

    const Problems& problems() const { return problems_; }

private:
    // An object whose keys are series names.
    bool namedObject(const json::value& v, const std::string& field) {
        if (!v.is_object()) {
            fail(field, "must be an object");
            return false;
        }
        for (const auto& item : v.as_object()) {
            if (item.key().empty() || item.key().size() > kMaxSeriesName) {
                fail(field, "series names are 1 to 255 bytes");
                return false;
            }
        }
        return true;
    }

    static bool isHostName(std::string_view host) {
        if (host.empty() || host.size() > kMaxHostName) {
            return false;
        }
        return std::all_of(host.begin(), host.end(), [](unsigned char c) {
            return std::isalnum(c) != 0 || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
        });
    }

    static bool isEndpoint(std::string_view target) {
        if (target.empty() || target.size() > kMaxEndpoint) {
            return false;
        }
        if (std::any_of(target.begin(), target.end(),
                        [](unsigned char c) { return c <= ' ' || c == 0x7f; })) {
            return false;
        }
        return target.starts_with("/") || target.starts_with("https://") ||
               target.starts_with("http://");
    }

    Problems problems_;
};

}  // namespace

Result<void> checkSettings(const json::object& settings, const Config& config,
                           const std::string& field) {
    using Rule = std::function<void(SettingsCheck&, const json::value&, const std::string&)>;
    auto integer = [](std::int64_t min, std::int64_t max) {
        return Rule([min, max](SettingsCheck& check, const json::value& v, const std::string& f) {
            check.integer(v, f, min, max);
        });
    };
    auto boolean = Rule([](SettingsCheck& check, const json::value& v, const std::string& f) {
        check.boolean(v, f);
    });
    const std::map<std::string, Rule, std::less<>> rules{
        {"upload_interval_s", integer(1, kDaySeconds)},
        {"batch_max_records", integer(1, config.max_records)},
        {"offline_timeout_s", integer(10, 30 * kDaySeconds)},
        {"signing_required", boolean},
        {"restamp_future", boolean},
        {"sampling_ms", &SettingsCheck::samplingPeriods},
        {"window_s", integer(1, kDaySeconds)},
        {"thresholds", &SettingsCheck::thresholds},
        {"ntp_servers", &SettingsCheck::ntpServers},
        {"endpoints", &SettingsCheck::endpoints},
    };
    SettingsCheck check;
    for (const auto& [key, value] : settings) {
        std::string name = field + "." + std::string(key);
        auto rule = rules.find(std::string_view(key));
        if (rule == rules.end()) {
            check.fail(name, "unknown setting");
        } else {
            rule->second(check, value, name);
        }
    }
    if (check.problems().empty()) {
        return {};
    }
    return Error{400, "validation_failed", "the request has invalid fields", check.problems()};
}

bool isModelName(std::string_view model) {
    return !model.empty() && model.size() <= 64 &&
           std::all_of(model.begin(), model.end(), [](unsigned char c) {
               return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
           });
}

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
