#include "sim_device.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "timestamp.h"

namespace esocore::sim {
namespace {

namespace asio = boost::asio;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

void warnOnce(RunState& run, std::string_view key, const std::string& message) {
    if (run.warned.emplace(key).second) {
        spdlog::warn("{}", message);
    } else {
        spdlog::debug("{}", message);
    }
}

SimDevice::SimDevice(asio::any_io_executor executor, DeviceCredentials credentials,
                     DeviceIdentity identity, DeviceSettings settings, const ModelSettings& model,
                     std::uint64_t seed, HttpClient& client, FleetStats& stats, RunState& run)
    : credentials_(std::move(credentials)),
      identity_(std::move(identity)),
      settings_(settings),
      model_(model, seed, wallClockMs() + settings.clock_offset_ms),
      buffer_(settings.buffer_capacity),
      client_(client),
      stats_(stats),
      run_(run),
      // The network side draws from its own stream so that timing never changes the readings.
      rng_(seed ^ 0x6a09e667f3bcc909ULL),
      timer_(executor),
      batch_interval_(settings.batch_interval),
      firmware_version_(kFirmwareVersion) {
    // Devices ask for updates at random points of the first interval, not all at once.
    if (settings_.ota_check_interval.count() > 0) {
        std::uniform_int_distribution<std::int64_t> first(0, settings_.ota_check_interval.count());
        next_ota_check_ = Clock::now() + std::chrono::milliseconds{first(rng_)};
    }
}

void SimDevice::sample() {
    model_.advanceTo(deviceNowMs(), fresh_records_);
    bufferRecords();
}

void SimDevice::setFleetOutage(bool down) {
    sample();
    model_.setFleetOutage(down, fresh_records_);
    bufferRecords();
}

void SimDevice::finishSampling() {
    sample();
    model_.restoreAll(fresh_records_);
    bufferRecords();
}

asio::awaitable<void> SimDevice::run() {
    // Devices start anywhere within the first interval so the fleet does not upload in step.
    const auto first_wait =
        std::uniform_int_distribution<std::int64_t>(0, batch_interval_.count())(rng_);
    next_upload_ = Clock::now() + std::chrono::milliseconds{first_wait};
    while (!run_.abandoned && !(run_.stopping && buffer_.backlog() == 0)) {
        co_await waitUntilDue();
        if (run_.abandoned) {
            break;
        }
        if (model_.linkUp() && co_await openSession()) {
            co_await keepInTouch();
            co_await uploadBacklog();
        }
        next_upload_ = Clock::now() + batch_interval_;
    }
}

std::int64_t SimDevice::deviceNowMs() const {
    return wallClockMs() + settings_.clock_offset_ms;
}

void SimDevice::bufferRecords() {
    for (const Record& record : fresh_records_) {
        ++stats_.records_generated;
        if (buffer_.push(recordToJson(record, identity_))) {
            ++stats_.records_overflowed;
            if (!overflow_logged_) {
                overflow_logged_ = true;
                spdlog::warn("{}: offline buffer full at {} records; dropping the oldest",
                             identity_.serial, settings_.buffer_capacity);
            }
        }
    }
    fresh_records_.clear();
}

asio::awaitable<void> SimDevice::waitUntilDue() {
    while (!run_.abandoned) {
        // Once the run stops the regular interval no longer matters, but a wait the server asked
        // for (or a backoff) still does.
        const auto due = run_.stopping ? not_before_ : std::max(next_upload_, not_before_);
        if (Clock::now() >= due) {
            co_return;
        }
        timer_.expires_at(due);
        co_await timer_.async_wait(kNoThrow);
    }
}

void SimDevice::deferUploads(std::optional<std::chrono::milliseconds> server_wait) {
    const auto delay = server_wait ? serverDelay(*server_wait, rng_) : backoff_.next(rng_);
    not_before_ = Clock::now() + delay;
}

void SimDevice::noteTransport(const boost::system::error_code& error) {
    if (!error) {
        if (unreachable_) {
            unreachable_ = false;
            if (--run_.unreachable_devices == 0) {
                spdlog::info("server reachable again");
            }
        }
        return;
    }
    if (run_.abandoned) {
        return;
    }
    spdlog::debug("{}: request failed: {}", identity_.serial, error.message());
    if (!unreachable_) {
        unreachable_ = true;
        // One warning for the fleet, not one per device: the rest is the same outage.
        if (run_.unreachable_devices++ == 0) {
            spdlog::warn("server unreachable ({}); devices keep buffering and retry with backoff",
                         error.message());
        }
    }
}

void SimDevice::noteAuthRefused(std::string_view what, unsigned status, std::string_view body) {
    const std::string code = errorCode(body);
    if (!auth_refused_) {
        auth_refused_ = true;
        spdlog::error("{}: {} refused with {} {}; the device keeps buffering and retrying",
                      identity_.serial, what, status, code);
    }
}

}  // namespace esocore::sim
