#include "options.h"

#include <CLI/CLI.hpp>

namespace esocore::sim {
namespace {

void addFleetOptions(CLI::App& app, SimOptions& options) {
    app.add_option("--server", options.server, "Base URL of the EsoCore server")
        ->capture_default_str();
    app.add_option("--fleet", options.fleet_file, "Fleet file with device credentials")
        ->capture_default_str();
    app.add_option("--devices", options.devices,
                   "Number of devices; missing ones are provisioned with `esocore device create` "
                   "(default: every device in the fleet file, or 10)")
        ->check(CLI::Range(1, 1'000'000));
    app.add_option("--esocore", options.esocore,
                   "Server binary used to provision devices (default: esocore next to "
                   "esocore-sim)");
    app.add_option("--seed", options.seed,
                   "Seed for readings and events (default: random, logged at start)");
}

void addSamplingOptions(CLI::App& app, SimOptions& options) {
    app.add_option("--duration", options.duration_s,
                   "Seconds to run (default: until SIGINT or SIGTERM)")
        ->check(CLI::PositiveNumber);
    app.add_option("--rate", options.rate,
                   "Sampling rate multiplier over the default periods (temp_ambient and rh 10 s, "
                   "temp_stator 5 s, current_rms, vibration_rms, acoustic_level 1 s)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--period", options.periods,
                   "Sampling period of one series, SERIES=MS (repeatable; applied after --rate)");
    app.add_option("--event-rate", options.event_rate,
                   "System events (power, connectivity, SD card) per device per hour")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
}

void addUploadOptions(CLI::App& app, SimOptions& options) {
    app.add_option("--batch-interval", options.batch_interval_s,
                   "Seconds between a device's uploads (default: the server's upload_interval_s, "
                   "else 5)")
        ->check(CLI::PositiveNumber);
    app.add_option("--batch-max", options.batch_max, "Most records in one batch")
        ->check(CLI::Range(1, 10'000))
        ->capture_default_str();
    app.add_option_function<std::string>(
           "--encoding",
           [&options](const std::string& name) {
               options.encoding = name == "gzip"   ? EncodingChoice::Gzip
                                  : name == "zstd" ? EncodingChoice::Zstd
                                                   : EncodingChoice::Mixed;
           },
           "Batch compression: gzip, zstd, or mixed (devices alternate)")
        ->check(CLI::IsMember({"gzip", "zstd", "mixed"}))
        ->default_str("mixed");
    app.add_option("--concurrency", options.concurrency, "Most requests in flight across the fleet")
        ->check(CLI::Range(1, 100'000))
        ->capture_default_str();
    app.add_option("--buffer-max", options.buffer_max,
                   "Records a device buffers before dropping the oldest")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--heartbeat-interval", options.heartbeat_interval_s,
                   "Seconds between heartbeats")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--config-interval", options.config_interval_s,
                   "Seconds between configuration polls")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--request-timeout", options.request_timeout_s, "Seconds before a request fails")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
}

void addFaultOptions(CLI::App& app, SimOptions& options) {
    app.add_option("--outage-after", options.outage_after_s,
                   "Seconds into the run when every device loses its uplink")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--outage-for", options.outage_for_s, "Seconds the fleet-wide outage lasts")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--drop-responses", options.drop_responses,
                   "Probability that a device discards the server's 200 answer and resends the "
                   "same batch with the same key")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--flush-timeout", options.flush_timeout_s,
                   "Seconds allowed at the end to upload what is still buffered")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--log-level", options.log_level,
                   "trace, debug, info, warn, error, critical or off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
        ->capture_default_str();
}

void addFirmwareOptions(CLI::App& app, SimOptions& options) {
    app.add_option("--ota-check-interval", options.ota_check_interval_s,
                   "Seconds between a device's firmware update checks (0: never check)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app.add_option("--ota-cut-rate", options.ota_cut_rate,
                   "Probability that the link dies partway through a firmware download piece; "
                   "the device resumes with a Range request")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    app.add_option("--ota-failure-rate", options.ota_failure_rate,
                   "Probability that installing a downloaded, verified update fails (reported "
                   "as failed)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
}

}  // namespace

void addOptions(CLI::App& app, SimOptions& options) {
    addFleetOptions(app, options);
    addSamplingOptions(app, options);
    addUploadOptions(app, options);
    addFaultOptions(app, options);
    addFirmwareOptions(app, options);
}

}  // namespace esocore::sim
