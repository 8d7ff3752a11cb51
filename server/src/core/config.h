#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace esocore {

/// Everything the server reads from its environment, TOML file and defaults.
struct Config {
    std::string database_url = "sqlite:data/esocore.db";
    std::string listen = "127.0.0.1:8000";
    std::string data_dir = "data";
    std::string portal_dir;
    std::string docs_dir = "build/docs-assets/dist";  // Swagger UI and ReDoc files (make docs)
    std::string public_url;
    std::string secret_key;
    std::string log_level = "info";
    std::string redis_url;
    int threads = 0;

    // Device API limits (DESIGN §5).
    std::int64_t max_body_bytes = 10 * 1024 * 1024;
    std::int64_t max_decoded_bytes = 64 * 1024 * 1024;
    int max_records = 10'000;
    int time_skew_seconds = 120;
    int idempotency_days = 30;
    int telemetry_retention_days = 0;  // 0 keeps telemetry forever
    double device_rate_per_second = 20.0;
    int device_rate_burst = 40;
    int ingest_queue_limit = 256;
    bool maintenance = false;
    int maintenance_retry_after = 60;
    int default_offline_timeout_seconds = 300;
    int ota_link_seconds = 3600;
    std::int64_t max_firmware_bytes = 64 * 1024 * 1024;  // largest firmware image uploaded

    // Live updates (/ws).
    int live_ping_ms = 30'000;                    // ping interval; the login is re-checked then
    int live_queue_messages = 1024;               // send queue of one connection, in messages
    std::int64_t live_queue_bytes = 1024 * 1024;  // and in bytes; past either: close 4008
    int offline_check_seconds = 15;               // how often devices going offline are noticed

    std::string brand_name = "EsoCore";
    std::string product_name = "EsoCore Cloud";
    std::string admin_title = "EsoCore Cloud Admin";

    /// The SQLite path when database_url is `sqlite:PATH`, else empty.
    std::string sqlitePath() const;
    bool usesPostgres() const;
};

/// Reads the optional TOML file (path from ESOCORE_CONFIG or `file`), then the environment
/// over it. Throws std::runtime_error with a readable message on a bad value.
Config loadConfig(const std::string& file = {});

/// Loads the secret key from the config, or from `<data_dir>/secret.key`, creating that file
/// with a new random key on first use.
void ensureSecretKey(Config& config);

}  // namespace esocore
