#include "core/config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <thread>

#include "core/crypto.h"

namespace esocore {

namespace {

// One entry per setting: its TOML key, its environment variable, and how to store it.
struct Setting {
    const char* toml_key;
    const char* env_name;
    std::function<void(Config&, const std::string&)> assign;
};

std::int64_t toInt(const std::string& name, const std::string& text) {
    try {
        std::size_t used = 0;
        long long value = std::stoll(text, &used);
        if (used != text.size()) {
            throw std::invalid_argument(text);
        }
        return value;
    } catch (const std::exception&) {
        throw std::runtime_error(name + ": expected an integer, got '" + text + "'");
    }
}

double toDouble(const std::string& name, const std::string& text) {
    try {
        return std::stod(text);
    } catch (const std::exception&) {
        throw std::runtime_error(name + ": expected a number, got '" + text + "'");
    }
}

bool toBool(const std::string& text) {
    return text == "1" || text == "true" || text == "yes" || text == "on";
}

const std::vector<Setting>& settings() {
    static const std::vector<Setting> all = {
        {"database_url", "ESOCORE_DATABASE_URL",
         [](Config& c, const std::string& v) { c.database_url = v; }},
        {"listen", "ESOCORE_LISTEN", [](Config& c, const std::string& v) { c.listen = v; }},
        {"data_dir", "ESOCORE_DATA_DIR", [](Config& c, const std::string& v) { c.data_dir = v; }},
        {"portal_dir", "ESOCORE_PORTAL_DIR",
         [](Config& c, const std::string& v) { c.portal_dir = v; }},
        {"docs_dir", "ESOCORE_DOCS_DIR", [](Config& c, const std::string& v) { c.docs_dir = v; }},
        {"public_url", "ESOCORE_PUBLIC_URL",
         [](Config& c, const std::string& v) { c.public_url = v; }},
        {"secret_key", "ESOCORE_SECRET_KEY",
         [](Config& c, const std::string& v) { c.secret_key = v; }},
        {"log_level", "ESOCORE_LOG_LEVEL",
         [](Config& c, const std::string& v) { c.log_level = v; }},
        {"redis_url", "ESOCORE_REDIS_URL",
         [](Config& c, const std::string& v) { c.redis_url = v; }},
        {"threads", "ESOCORE_THREADS",
         [](Config& c, const std::string& v) { c.threads = int(toInt("threads", v)); }},
        {"max_body_bytes", "ESOCORE_MAX_BODY_BYTES",
         [](Config& c, const std::string& v) { c.max_body_bytes = toInt("max_body_bytes", v); }},
        {"max_decoded_bytes", "ESOCORE_MAX_DECODED_BYTES",
         [](Config& c, const std::string& v) {
             c.max_decoded_bytes = toInt("max_decoded_bytes", v);
         }},
        {"max_records", "ESOCORE_MAX_RECORDS",
         [](Config& c, const std::string& v) { c.max_records = int(toInt("max_records", v)); }},
        {"time_skew_seconds", "ESOCORE_TIME_SKEW_SECONDS",
         [](Config& c, const std::string& v) {
             c.time_skew_seconds = int(toInt("time_skew_seconds", v));
         }},
        {"device_rate_per_second", "ESOCORE_DEVICE_RATE",
         [](Config& c, const std::string& v) {
             c.device_rate_per_second = toDouble("device_rate_per_second", v);
         }},
        {"device_rate_burst", "ESOCORE_DEVICE_BURST",
         [](Config& c, const std::string& v) {
             c.device_rate_burst = int(toInt("device_rate_burst", v));
         }},
        {"ingest_queue_limit", "ESOCORE_INGEST_QUEUE_LIMIT",
         [](Config& c, const std::string& v) {
             c.ingest_queue_limit = int(toInt("ingest_queue_limit", v));
         }},
        {"telemetry_retention_days", "ESOCORE_RETENTION_DAYS",
         [](Config& c, const std::string& v) {
             c.telemetry_retention_days = int(toInt("telemetry_retention_days", v));
         }},
        {"maintenance", "ESOCORE_MAINTENANCE",
         [](Config& c, const std::string& v) { c.maintenance = toBool(v); }},
        {"default_offline_timeout_seconds", "ESOCORE_OFFLINE_TIMEOUT",
         [](Config& c, const std::string& v) {
             c.default_offline_timeout_seconds = int(toInt("offline_timeout", v));
         }},
        {"ota_link_seconds", "ESOCORE_OTA_LINK_SECONDS",
         [](Config& c, const std::string& v) {
             c.ota_link_seconds = int(toInt("ota_link_seconds", v));
         }},
        {"max_firmware_bytes", "ESOCORE_MAX_FIRMWARE_BYTES",
         [](Config& c, const std::string& v) {
             c.max_firmware_bytes = toInt("max_firmware_bytes", v);
         }},
        {"live_ping_ms", "ESOCORE_LIVE_PING_MS",
         [](Config& c, const std::string& v) { c.live_ping_ms = int(toInt("live_ping_ms", v)); }},
        {"live_queue_messages", "ESOCORE_LIVE_QUEUE_MESSAGES",
         [](Config& c, const std::string& v) {
             c.live_queue_messages = int(toInt("live_queue_messages", v));
         }},
        {"live_queue_bytes", "ESOCORE_LIVE_QUEUE_BYTES",
         [](Config& c, const std::string& v) {
             c.live_queue_bytes = toInt("live_queue_bytes", v);
         }},
        {"offline_check_seconds", "ESOCORE_OFFLINE_CHECK_SECONDS",
         [](Config& c, const std::string& v) {
             c.offline_check_seconds = int(toInt("offline_check_seconds", v));
         }},
        {"brand_name", "BRAND_NAME", [](Config& c, const std::string& v) { c.brand_name = v; }},
        {"product_name", "PRODUCT_NAME",
         [](Config& c, const std::string& v) { c.product_name = v; }},
        {"admin_title", "ADMIN_TITLE", [](Config& c, const std::string& v) { c.admin_title = v; }},
    };
    return all;
}

std::string tomlText(const toml::node& node) {
    if (auto s = node.value<std::string>()) {
        return *s;
    }
    if (node.is_boolean()) {
        return node.value<bool>().value_or(false) ? "true" : "false";
    }
    if (auto i = node.value<std::int64_t>()) {
        return std::to_string(*i);
    }
    if (auto d = node.value<double>()) {
        return std::to_string(*d);
    }
    throw std::runtime_error("unsupported TOML value type");
}

void applyToml(Config& config, const std::string& path) {
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        throw std::runtime_error("config file " + path + ": " + std::string(e.description()));
    }
    for (const auto& [key, node] : table) {
        bool known = false;
        for (const auto& setting : settings()) {
            if (key.str() == setting.toml_key) {
                setting.assign(config, tomlText(node));
                known = true;
            }
        }
        if (!known) {
            throw std::runtime_error("config file " + path + ": unknown key '" +
                                     std::string(key.str()) + "'");
        }
    }
}

}  // namespace

std::string Config::sqlitePath() const {
    if (database_url.rfind("sqlite:", 0) == 0) {
        return database_url.substr(7);
    }
    return {};
}

bool Config::usesPostgres() const {
    return database_url.rfind("postgresql://", 0) == 0 || database_url.rfind("postgres://", 0) == 0;
}

Config loadConfig(const std::string& file) {
    Config config;
    std::string path = file;
    if (const char* env = std::getenv("ESOCORE_CONFIG"); path.empty() && env != nullptr) {
        path = env;
    }
    if (!path.empty()) {
        applyToml(config, path);
    }
    for (const auto& setting : settings()) {
        if (const char* value = std::getenv(setting.env_name); value != nullptr && *value) {
            setting.assign(config, value);
        }
    }
    if (config.threads <= 0) {
        config.threads = int(std::max(2u, std::thread::hardware_concurrency()));
    }
    if (config.sqlitePath().empty() && !config.usesPostgres()) {
        throw std::runtime_error("ESOCORE_DATABASE_URL must be sqlite:PATH or postgresql://...");
    }
    return config;
}

void ensureSecretKey(Config& config) {
    if (!config.secret_key.empty()) {
        return;
    }
    std::filesystem::path path = std::filesystem::path(config.data_dir) / "secret.key";
    if (std::ifstream in{path}; in) {
        std::getline(in, config.secret_key);
        if (!config.secret_key.empty()) {
            return;
        }
    }
    std::filesystem::create_directories(config.data_dir);
    config.secret_key = randomToken(32);
    std::ofstream out{path};
    out << config.secret_key << '\n';
    if (!out) {
        throw std::runtime_error("cannot write " + path.string());
    }
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

}  // namespace esocore
