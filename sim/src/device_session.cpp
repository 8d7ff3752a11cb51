// The part of a device's network life that is not uploads: handshake, configuration polls and
// heartbeats.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>

#include "sim_device.h"

namespace esocore::sim {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// Assumed SD card size and record footprint, for the free space a heartbeat reports.
constexpr std::int64_t kSdCardMb = 7'600;
constexpr std::size_t kRecordsPerMb = 5'000;

std::optional<std::chrono::milliseconds> retryAfter(const HttpResponse& response) {
    return parseRetryAfter(response[http::field::retry_after]);
}

}  // namespace

asio::awaitable<bool> SimDevice::openSession() {
    if (session_open_) {
        co_return true;
    }
    HttpReply reply = co_await client_.send(
        handshakeRequest(credentials_, client_.server().base_path, deviceNowMs()));
    noteTransport(reply.error);
    if (reply.error) {
        deferUploads(std::nullopt);
        co_return false;
    }
    const unsigned status = reply.response.result_int();
    if (status == 401 || status == 403) {
        noteAuthRefused("handshake", status, reply.response.body());
    }
    if (isTransientStatus(status)) {
        deferUploads(retryAfter(reply.response));
        co_return false;
    }
    if (status >= 300) {
        // A server without the handshake still takes uploads; the handshake is informative.
        warnOnce(run_, "handshake-status",
                 fmt::format("handshake answered {} {}; devices upload without it", status,
                             errorCode(reply.response.body())));
    } else {
        spdlog::debug("{}: handshake {}", identity_.serial, reply.response.body());
    }
    session_open_ = true;
    auth_refused_ = false;
    backoff_.reset();
    co_await fetchConfig();
    co_return true;
}

asio::awaitable<void> SimDevice::fetchConfig() {
    next_config_ = Clock::now() + settings_.config_interval;
    HttpReply reply = co_await client_.send(
        configRequest(credentials_, client_.server().base_path, config_etag_));
    const unsigned status = reply.error ? 0 : reply.response.result_int();
    if (status != 200) {
        spdlog::debug("{}: config poll gave {}", identity_.serial,
                      reply.error ? reply.error.message() : std::to_string(status));
        co_return;
    }
    config_etag_ = std::string(reply.response[http::field::etag]);
    const auto interval = uploadIntervalFrom(reply.response.body());
    if (interval && !settings_.batch_interval_fixed && *interval != batch_interval_) {
        spdlog::debug("{}: upload interval {} s from the server's config", identity_.serial,
                      interval->count());
        batch_interval_ = *interval;
    }
}

asio::awaitable<void> SimDevice::sendHeartbeat() {
    next_heartbeat_ = Clock::now() + settings_.heartbeat_interval;
    HealthReport health;
    health.backlog_records = buffer_.backlog();
    health.sd_free_mb =
        kSdCardMb - static_cast<std::int64_t>(health.backlog_records / kRecordsPerMb);
    health.signal_dbm = std::uniform_int_distribution<int>(-95, -55)(rng_);
    health.firmware_version = firmware_version_;
    HttpReply reply =
        co_await client_.send(heartbeatRequest(credentials_, client_.server().base_path, health));
    if (!reply.error && reply.response.result_int() / 100 == 2) {
        ++stats_.heartbeats;
    } else {
        spdlog::debug(
            "{}: heartbeat gave {}", identity_.serial,
            reply.error ? reply.error.message() : std::to_string(reply.response.result_int()));
    }
}

asio::awaitable<void> SimDevice::keepInTouch() {
    if (run_.stopping) {
        co_return;
    }
    if (Clock::now() >= next_heartbeat_) {
        co_await sendHeartbeat();
    }
    if (Clock::now() >= next_config_) {
        co_await fetchConfig();
    }
    if (settings_.ota_check_interval.count() > 0 && Clock::now() >= next_ota_check_) {
        co_await updateFirmware();
    }
}

}  // namespace esocore::sim
