#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace esocore::sim {

enum class EncodingChoice { Gzip, Zstd, Mixed };

/// Everything the command line controls.
struct SimOptions {
    std::string server = "http://127.0.0.1:8000";
    std::filesystem::path fleet_file = "data/sim-fleet.json";
    std::optional<std::size_t> devices;
    std::filesystem::path esocore;  // empty: `esocore` next to esocore-sim
    std::optional<double> duration_s;
    double rate = 1.0;
    std::vector<std::string> periods;        // SERIES=MS overrides
    std::optional<double> batch_interval_s;  // unset: the server's upload_interval_s, else 5 s
    std::size_t batch_max = 1000;
    EncodingChoice encoding = EncodingChoice::Mixed;
    std::optional<std::uint64_t> seed;
    std::size_t concurrency = 64;
    double event_rate = 1.0;
    std::optional<double> outage_after_s;
    double outage_for_s = 60.0;
    double drop_responses = 0.0;
    double heartbeat_interval_s = 60.0;
    double config_interval_s = 300.0;
    double flush_timeout_s = 30.0;
    double request_timeout_s = 30.0;
    std::size_t buffer_max = 200'000;
    double ota_check_interval_s = 300.0;  // 0: devices never ask for firmware updates
    double ota_cut_rate = 0.0;
    double ota_failure_rate = 0.0;
    std::string log_level = "info";
};

/// Registers every option on `app`, writing into `options`.
void addOptions(CLI::App& app, SimOptions& options);

}  // namespace esocore::sim
