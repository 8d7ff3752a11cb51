#include "simulation.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <csignal>
#include <random>
#include <stdexcept>

namespace esocore::sim {
namespace {

namespace asio = boost::asio;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::array<std::string_view, 3> kAssetKinds{"DOOR", "CNC", "PUMP"};

std::chrono::milliseconds millisecondsFrom(double seconds) {
    return std::chrono::milliseconds{std::llround(seconds * 1000.0)};
}

// Spreads consecutive integers into unrelated seeds, so devices 0 and 1 get unrelated streams.
std::uint64_t splitMix64(std::uint64_t value) {
    value += 0x9e3779b97f4a7c15ULL;
    value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
    return value ^ (value >> 31);
}

std::string describe(std::exception_ptr failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& error) {
        return error.what();
    } catch (...) {
        return "unknown exception";
    }
}

Encoding deviceEncoding(EncodingChoice choice, std::size_t index) {
    switch (choice) {
        case EncodingChoice::Gzip:
            return Encoding::Gzip;
        case EncodingChoice::Zstd:
            return Encoding::Zstd;
        case EncodingChoice::Mixed:
            break;
    }
    return index % 2 == 0 ? Encoding::Gzip : Encoding::Zstd;
}

DeviceSettings deviceSettings(const SimOptions& options, std::size_t index) {
    DeviceSettings settings;
    settings.encoding = deviceEncoding(options.encoding, index);
    settings.batch_max = options.batch_max;
    settings.batch_interval = millisecondsFrom(options.batch_interval_s.value_or(5.0));
    settings.batch_interval_fixed = options.batch_interval_s.has_value();
    settings.heartbeat_interval = millisecondsFrom(options.heartbeat_interval_s);
    settings.config_interval = millisecondsFrom(options.config_interval_s);
    settings.drop_responses = options.drop_responses;
    settings.buffer_capacity = options.buffer_max;
    settings.ota_check_interval = millisecondsFrom(options.ota_check_interval_s);
    settings.ota_cut_rate = options.ota_cut_rate;
    settings.ota_failure_rate = options.ota_failure_rate;
    return settings;
}

}  // namespace

SamplingPlan samplingPlanFrom(const SimOptions& options) {
    SamplingPlan plan = scaleSamplingPlan(defaultSamplingPlan(), options.rate);
    for (const std::string& period : options.periods) {
        const auto equals = period.find('=');
        const auto sensor = sensorFromSeries(std::string_view(period).substr(0, equals));
        std::int64_t period_ms = 0;
        const char* first = period.data() + (equals == std::string::npos ? 0 : equals + 1);
        const char* last = period.data() + period.size();
        const auto [end, error] = std::from_chars(first, last, period_ms);
        if (equals == std::string::npos || !sensor || error != std::errc{} || end != last ||
            period_ms < 1) {
            throw std::invalid_argument(
                fmt::format("--period {}: expected SERIES=MS with a sensor series such as "
                            "current_rms=500",
                            period));
        }
        plan[static_cast<std::size_t>(*sensor)] = period_ms;
    }
    return plan;
}

Simulation::Simulation(const SimOptions& options, std::vector<DeviceCredentials> fleet)
    : options_(options),
      signals_(io_, SIGINT, SIGTERM),
      sample_timer_(io_),
      duration_timer_(io_),
      outage_timer_(io_),
      deadline_timer_(io_),
      client_(io_.get_executor(), parseServerUrl(options.server), options.concurrency,
              millisecondsFrom(options.request_timeout_s)) {
    model_settings_.sampling = samplingPlanFrom(options);
    model_settings_.system_events_per_hour = options.event_rate;
    // Samples carry their scheduled time, so a coarser tick only delays them, never skews them.
    const std::int64_t shortest =
        *std::min_element(model_settings_.sampling.begin(), model_settings_.sampling.end());
    sample_tick_ = std::clamp(std::chrono::milliseconds{shortest}, std::chrono::milliseconds{100},
                              std::chrono::milliseconds{1000});
    const std::uint64_t seed = options.seed.value_or((std::uint64_t{std::random_device{}()} << 32) |
                                                     std::random_device{}());
    spdlog::info("seed {} (pass --seed {} to replay the same readings and events)", seed, seed);
    createDevices(std::move(fleet), seed);
}

Simulation::~Simulation() = default;

void Simulation::createDevices(std::vector<DeviceCredentials> fleet, std::uint64_t seed) {
    std::mt19937_64 fleet_rng(seed);
    std::uniform_int_distribution<std::int64_t> clock_offset_ms(-1'500, 1'500);
    for (std::size_t i = 0; i < fleet.size(); ++i) {
        const bool south = i % 2 == 1;
        DeviceIdentity identity{fleet[i].serial, south ? "PLANT_SOUTH" : "PLANT_NORTH",
                                fmt::format("{}_{}", kAssetKinds[i % 3], i / 3 + 1)};
        DeviceSettings settings = deviceSettings(options_, i);
        settings.clock_offset_ms = clock_offset_ms(fleet_rng);
        ModelSettings model = model_settings_;
        model.site_temp_c = south ? 22.0 : 18.5;
        devices_.push_back(std::make_unique<SimDevice>(
            io_.get_executor(), std::move(fleet[i]), std::move(identity), settings, model,
            splitMix64(seed + i), client_, stats_, run_));
    }
    stats_.devices = devices_.size();
}

FleetStats Simulation::run() {
    const auto started = std::chrono::steady_clock::now();
    spdlog::info(
        "{} devices -> {}; uploads every {}, at most {} records per batch, {} requests "
        "in flight",
        devices_.size(), options_.server,
        options_.batch_interval_s
            ? fmt::format("{} s", *options_.batch_interval_s)
            : std::string("5 s unless the server's config sets upload_interval_s"),
        options_.batch_max, options_.concurrency);
    auto on_failure = [this](std::exception_ptr failure) {
        if (failure) {
            spdlog::critical("internal error: {}", describe(failure));
            abandon("internal error");
        }
    };
    for (auto& device : devices_) {
        launch(*device);
    }
    asio::co_spawn(io_, sampleFleet(), on_failure);
    asio::co_spawn(io_, watchSignals(), on_failure);
    if (options_.duration_s) {
        asio::co_spawn(io_, stopAfter(millisecondsFrom(*options_.duration_s)), on_failure);
    }
    if (options_.outage_after_s) {
        asio::co_spawn(io_,
                       runFleetOutage(millisecondsFrom(*options_.outage_after_s),
                                      millisecondsFrom(options_.outage_for_s)),
                       on_failure);
    }
    io_.run();
    for (const auto& device : devices_) {
        ++stats_.firmware_versions[device->firmwareVersion()];
    }
    stats_.elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return stats_;
}

void Simulation::stop(std::string_view why) {
    if (run_.stopping) {
        return;
    }
    run_.stopping = true;
    sample_timer_.cancel();
    duration_timer_.cancel();
    outage_timer_.cancel();
    for (auto& device : devices_) {
        device->finishSampling();
        device->wake();
    }
    spdlog::info("{}; flushing {} buffered records for up to {} s", why, backlog(),
                 options_.flush_timeout_s);
    deadline_timer_.expires_after(millisecondsFrom(options_.flush_timeout_s));
    deadline_timer_.async_wait([this](boost::system::error_code error) {
        if (!error) {
            abandon("flush time is up");
        }
    });
}

void Simulation::launch(SimDevice& device) {
    ++running_devices_;
    asio::co_spawn(io_, device.run(),
                   [this](std::exception_ptr failure) { deviceFinished(failure); });
}

void Simulation::abandon(std::string_view why) {
    stop(why);
    if (run_.abandoned) {
        return;
    }
    run_.abandoned = true;
    spdlog::warn("{}; giving up with {} records not acknowledged", why, backlog());
    client_.shutdown();
    for (auto& device : devices_) {
        device->wake();
    }
}

void Simulation::deviceFinished(std::exception_ptr failure) {
    if (failure) {
        spdlog::critical("a device stopped on an internal error: {}", describe(failure));
    }
    if (--running_devices_ > 0) {
        return;
    }
    // Every device is done: release what still keeps io_context::run() busy.
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    sample_timer_.cancel();
    duration_timer_.cancel();
    outage_timer_.cancel();
    deadline_timer_.cancel();
    client_.shutdown();
}

asio::awaitable<void> Simulation::sampleFleet() {
    while (!run_.stopping) {
        for (auto& device : devices_) {
            device->sample();
        }
        sample_timer_.expires_after(sample_tick_);
        co_await sample_timer_.async_wait(kNoThrow);
    }
}

asio::awaitable<void> Simulation::watchSignals() {
    while (true) {
        auto [error, signal] = co_await signals_.async_wait(kNoThrow);
        if (error) {
            co_return;
        }
        if (run_.stopping) {
            abandon(fmt::format("signal {} during the flush", signal));
        } else {
            stop(fmt::format("signal {} received", signal));
        }
    }
}

asio::awaitable<void> Simulation::stopAfter(std::chrono::milliseconds duration) {
    duration_timer_.expires_after(duration);
    auto [error] = co_await duration_timer_.async_wait(kNoThrow);
    if (!error) {
        stop("run time is up");
    }
}

asio::awaitable<void> Simulation::runFleetOutage(std::chrono::milliseconds after,
                                                 std::chrono::milliseconds length) {
    outage_timer_.expires_after(after);
    co_await outage_timer_.async_wait(kNoThrow);
    if (run_.stopping) {
        co_return;
    }
    spdlog::info("fleet outage: every device loses its uplink for {} s", length.count() / 1000.0);
    for (auto& device : devices_) {
        device->setFleetOutage(true);
    }
    outage_timer_.expires_after(length);
    co_await outage_timer_.async_wait(kNoThrow);
    // A stop during the outage ends it through finishSampling().
    if (run_.stopping) {
        co_return;
    }
    spdlog::info("fleet outage over; devices send their backlog");
    for (auto& device : devices_) {
        device->setFleetOutage(false);
    }
}

std::size_t Simulation::backlog() const {
    std::size_t records = 0;
    for (const auto& device : devices_) {
        records += device->backlog();
    }
    return records;
}

}  // namespace esocore::sim
