#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <string_view>
#include <vector>

#include "fleet.h"
#include "fleet_stats.h"
#include "http_client.h"
#include "options.h"
#include "series_model.h"
#include "sim_device.h"

namespace esocore::sim {

/// The sampling periods the options ask for: the defaults scaled by --rate, then each --period.
/// Throws std::invalid_argument for an unknown series or a malformed period.
SamplingPlan samplingPlanFrom(const SimOptions& options);

/// A whole fleet run on one io_context thread.
class Simulation {
public:
    /// Throws std::invalid_argument for options that cannot work (bad URL, bad period).
    Simulation(const SimOptions& options, std::vector<DeviceCredentials> fleet);
    ~Simulation();

    /// Runs until --duration passes or SIGINT/SIGTERM arrives, flushes the offline buffers for
    /// at most --flush-timeout (a second signal cuts that short), and returns the counters.
    FleetStats run();

    /// Ends sampling and starts the final flush, as --duration or a signal does.
    void stop(std::string_view why);

private:
    void createDevices(std::vector<DeviceCredentials> fleet, std::uint64_t seed);
    void launch(SimDevice& device);
    void abandon(std::string_view why);
    void deviceFinished(std::exception_ptr failure);
    boost::asio::awaitable<void> sampleFleet();
    boost::asio::awaitable<void> watchSignals();
    boost::asio::awaitable<void> stopAfter(std::chrono::milliseconds duration);
    boost::asio::awaitable<void> runFleetOutage(std::chrono::milliseconds after,
                                                std::chrono::milliseconds length);
    std::size_t backlog() const;

    SimOptions options_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer sample_timer_;
    boost::asio::steady_timer duration_timer_;
    boost::asio::steady_timer outage_timer_;
    boost::asio::steady_timer deadline_timer_;
    HttpClient client_;
    FleetStats stats_;
    RunState run_;
    std::chrono::milliseconds sample_tick_;
    ModelSettings model_settings_;
    std::vector<std::unique_ptr<SimDevice>> devices_;
    std::size_t running_devices_ = 0;
};

}  // namespace esocore::sim
