#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "backoff.h"
#include "batch_builder.h"
#include "firmware_update.h"
#include "fleet.h"
#include "fleet_stats.h"
#include "http_client.h"
#include "offline_buffer.h"
#include "record.h"
#include "series_model.h"
#include "upload_outcome.h"

namespace esocore::sim {

/// State of the run that every device reads.
struct RunState {
    bool stopping = false;   // sampling has ended: flush what is buffered, then finish
    bool abandoned = false;  // flush time is up or a second signal came: finish now
    std::size_t unreachable_devices = 0;
    std::set<std::string, std::less<>> warned;  // fleet-wide warnings already logged once
    std::string ota_public_key;  // the key images must verify with, asked for once and kept
};

/// Logs `message` as a warning the first time `key` is seen in this run, debug afterwards, so a
/// fleet of devices hitting one problem logs it once.
void warnOnce(RunState& run, std::string_view key, const std::string& message);

struct DeviceSettings {
    Encoding encoding = Encoding::Gzip;
    std::size_t batch_max = 1000;
    std::chrono::milliseconds batch_interval{5'000};
    bool batch_interval_fixed = false;  // set on the command line, so the server's does not apply
    std::chrono::milliseconds heartbeat_interval{60'000};
    std::chrono::milliseconds config_interval{300'000};
    double drop_responses = 0.0;
    std::size_t buffer_capacity = 200'000;
    std::int64_t clock_offset_ms = 0;  // how far this device's clock is off the host's
    std::chrono::milliseconds ota_check_interval{0};  // zero: the device never asks for updates
    double ota_cut_rate = 0.0;      // probability that the link dies during a download piece
    double ota_failure_rate = 0.0;  // probability that installing an update fails
};

/// One simulated EsoCore Edge device: its sensors feed an offline buffer, and its network side
/// shakes hands, polls configuration, sends heartbeats and uploads batches.
class SimDevice {
public:
    SimDevice(boost::asio::any_io_executor executor, DeviceCredentials credentials,
              DeviceIdentity identity, DeviceSettings settings, const ModelSettings& model,
              std::uint64_t seed, HttpClient& client, FleetStats& stats, RunState& run);

    /// Buffers every record due by now on the device clock.
    void sample();

    /// Starts or ends the fleet-wide outage on this device.
    void setFleetOutage(bool down);

    /// The last sampling at stop: records up to now, then every outage ends so the backlog can
    /// be flushed.
    void finishSampling();

    /// Interrupts the uploader's current wait so it looks at the run state again.
    void wake() { timer_.cancel(); }

    /// The device's network side. Returns once the run stops and the backlog is acknowledged,
    /// or when the run is abandoned.
    boost::asio::awaitable<void> run();

    /// Records buffered and not yet acknowledged.
    std::size_t backlog() const { return buffer_.backlog(); }

    const DeviceCredentials& credentials() const { return credentials_; }

    /// The firmware the device runs: the sim's own version until an update completes.
    const std::string& firmwareVersion() const { return firmware_version_; }

private:
    using Clock = std::chrono::steady_clock;

    std::int64_t deviceNowMs() const;
    void bufferRecords();
    boost::asio::awaitable<void> waitUntilDue();
    void deferUploads(std::optional<std::chrono::milliseconds> server_wait);
    void noteTransport(const boost::system::error_code& error);
    void noteAuthRefused(std::string_view what, unsigned status, std::string_view body);

    boost::asio::awaitable<bool> openSession();
    boost::asio::awaitable<void> fetchConfig();
    boost::asio::awaitable<void> sendHeartbeat();
    boost::asio::awaitable<void> keepInTouch();

    boost::asio::awaitable<void> updateFirmware();
    boost::asio::awaitable<bool> trustKeyOf(const FirmwareOffer& offer);
    boost::asio::awaitable<std::optional<std::string>> downloadImage(const FirmwareOffer& offer);
    boost::asio::awaitable<bool> reportUpdate(std::string_view status, const FirmwareOffer& offer,
                                              std::string_view error = {});
    void cutThisPiece(std::size_t from);
    bool happens(double probability);

    boost::asio::awaitable<void> uploadBacklog();
    boost::asio::awaitable<bool> uploadOpenBatch(SealedBatch& batch);
    void countAttempt(SealedBatch& batch);
    void acknowledge(const SealedBatch& batch, const UploadOutcome& outcome);
    void refuse(const SealedBatch& batch, unsigned status, const UploadOutcome& outcome);
    bool dropThisResponse();

    DeviceCredentials credentials_;
    DeviceIdentity identity_;
    DeviceSettings settings_;
    SeriesModel model_;
    std::vector<Record> fresh_records_;
    OfflineBuffer buffer_;
    HttpClient& client_;
    FleetStats& stats_;
    RunState& run_;
    std::mt19937_64 rng_;
    Backoff backoff_;
    boost::asio::steady_timer timer_;

    std::chrono::milliseconds batch_interval_;
    Clock::time_point next_upload_{};
    Clock::time_point not_before_{};
    Clock::time_point next_heartbeat_{};
    Clock::time_point next_config_{};
    bool session_open_ = false;
    bool unreachable_ = false;
    bool auth_refused_ = false;
    bool overflow_logged_ = false;
    std::string config_etag_;

    std::string firmware_version_;
    Clock::time_point next_ota_check_{};
    std::string download_version_;  // the image being downloaded, kept across cuts and checks
    std::string download_bytes_;
    std::string unreported_version_;  // installed, but the completed report did not get through
};

}  // namespace esocore::sim
