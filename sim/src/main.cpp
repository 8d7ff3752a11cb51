// esocore-sim: a fleet of simulated EsoCore Edge devices uploading to an EsoCore server.

#include <sodium.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "fleet.h"
#include "fleet_stats.h"
#include "options.h"
#include "simulation.h"

namespace {

void configureLogging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("esocore-sim");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    logger->set_level(spdlog::level::from_str(level));
    spdlog::set_default_logger(std::move(logger));
}

}  // namespace

int main(int argc, char** argv) {
    using namespace esocore::sim;
    SimOptions options;
    CLI::App app{"Simulates a fleet of EsoCore Edge devices uploading telemetry to the server.",
                 "esocore-sim"};
    addOptions(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error);
    }
    configureLogging(options.log_level);
    if (sodium_init() < 0) {
        spdlog::critical("libsodium cannot start: firmware signatures cannot be checked");
        return 1;
    }
    try {
        const auto esocore = options.esocore.empty() ? defaultEsocorePath() : options.esocore;
        Simulation simulation(options, prepareFleet(options.fleet_file, options.devices, esocore));
        const FleetStats stats = simulation.run();
        std::cout << summaryText(stats) << "SUMMARY " << summaryJson(stats) << std::endl;
        return stats.allAcknowledged() ? 0 : 1;
    } catch (const std::exception& error) {
        spdlog::critical("{}", error.what());
        return 1;
    }
}
