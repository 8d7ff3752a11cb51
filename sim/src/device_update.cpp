// The firmware update cycle of a device: ask whether an update waits, download it (resuming
// with Range after the link dies), verify its size, SHA-256 and Ed25519 signature, report each
// step, and run the new version.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>
#include <charconv>

#include "sim_device.h"

namespace esocore::sim {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

// Pieces one download may take before the device gives up until its next check.
constexpr int kMaxPieces = 64;

// The first byte of a `Content-Range: bytes first-last/size` answer.
std::optional<std::size_t> rangeStart(std::string_view content_range) {
    constexpr std::string_view unit = "bytes ";
    if (content_range.substr(0, unit.size()) != unit) {
        return std::nullopt;
    }
    content_range.remove_prefix(unit.size());
    std::size_t first = 0;
    auto [end, error] =
        std::from_chars(content_range.data(), content_range.data() + content_range.size(), first);
    if (error != std::errc() || end == content_range.data() + content_range.size() || *end != '-') {
        return std::nullopt;
    }
    return first;
}

}  // namespace

bool SimDevice::happens(double probability) {
    return probability > 0.0 &&
           std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < probability;
}

asio::awaitable<void> SimDevice::updateFirmware() {
    next_ota_check_ = Clock::now() + settings_.ota_check_interval;
    if (!unreported_version_.empty()) {
        // Running the update already; the server has not heard that it completed.
        FirmwareOffer installed;
        installed.version = unreported_version_;
        if (co_await reportUpdate("completed", installed)) {
            unreported_version_.clear();
        }
        co_return;
    }
    HttpReply reply = co_await client_.send(
        otaCheckRequest(credentials_, client_.server().base_path, firmware_version_));
    if (reply.error || reply.response.result_int() != 200) {
        spdlog::debug(
            "{}: update check gave {}", identity_.serial,
            reply.error ? reply.error.message() : std::to_string(reply.response.result_int()));
        co_return;
    }
    ++stats_.ota_checks;
    const auto offer = parseOffer(reply.response.body());
    if (!offer) {
        co_return;
    }
    ++stats_.ota_offers;
    if (!co_await trustKeyOf(*offer) || !co_await reportUpdate("downloading", *offer)) {
        co_return;
    }
    const auto image = co_await downloadImage(*offer);
    if (!image) {
        co_return;  // the next check brings a fresh link, and the download resumes
    }
    download_version_.clear();
    download_bytes_.clear();
    if (std::string problem = checkImage(*image, *offer, run_.ota_public_key); !problem.empty()) {
        ++stats_.ota_rejected_images;
        spdlog::warn("{}: firmware {} refused: {}", identity_.serial, offer->version, problem);
        co_await reportUpdate("failed", *offer, problem);
        co_return;
    }
    if (!co_await reportUpdate("installing", *offer)) {
        co_return;
    }
    if (happens(settings_.ota_failure_rate)) {
        ++stats_.ota_failed;
        co_await reportUpdate("failed", *offer, "simulated install failure: flash write error");
        co_return;
    }
    // The device reboots into the new image and says so; the next heartbeat carries it.
    firmware_version_ = offer->version;
    ++stats_.ota_completed;
    next_heartbeat_ = Clock::now();
    if (!co_await reportUpdate("completed", *offer)) {
        unreported_version_ = offer->version;
    }
}

// The device keeps the first key it was given and refuses offers signed with another one.
asio::awaitable<bool> SimDevice::trustKeyOf(const FirmwareOffer& offer) {
    if (run_.ota_public_key.empty()) {
        HttpReply reply = co_await client_.send(otaPublicKeyRequest(client_.server().base_path));
        if (reply.error || reply.response.result_int() != 200) {
            co_return false;
        }
        run_.ota_public_key = parsePublicKey(reply.response.body());
        if (run_.ota_public_key.empty()) {
            co_return false;
        }
    }
    if (offer.public_key != run_.ota_public_key) {
        warnOnce(run_, "ota-key",
                 fmt::format("{}: firmware {} is offered with a key the fleet does not trust",
                             identity_.serial, offer.version));
        co_return false;
    }
    co_return true;
}

asio::awaitable<std::optional<std::string>> SimDevice::downloadImage(const FirmwareOffer& offer) {
    if (download_version_ != offer.version) {
        download_version_ = offer.version;
        download_bytes_.clear();
    }
    for (int piece = 0; piece < kMaxPieces && download_bytes_.size() < offer.size; ++piece) {
        const std::size_t from = download_bytes_.size();
        stats_.ota_resumes += from > 0 ? 1 : 0;
        HttpReply reply =
            co_await client_.send(otaDownloadRequest(client_.server().base_path, offer, from));
        const unsigned status = reply.error ? 0 : reply.response.result_int();
        std::string& body = reply.response.body();
        if (status == 206 && rangeStart(reply.response[http::field::content_range]) == from) {
            download_bytes_.append(body);
        } else if (status == 200) {
            download_bytes_ = std::move(body);  // the whole image, whatever was asked
        } else {
            // An expired link (403), a vanished bundle (404), or no answer: ask again later.
            spdlog::debug("{}: download of {} from byte {} gave {}", identity_.serial,
                          offer.version, from,
                          reply.error ? reply.error.message() : std::to_string(status));
            co_return std::nullopt;
        }
        stats_.ota_bytes += download_bytes_.size() - from;
        cutThisPiece(from);
    }
    if (download_bytes_.size() != offer.size) {
        co_return std::nullopt;
    }
    ++stats_.ota_downloads;
    co_return download_bytes_;
}

// As if the link died partway through the piece that began at `from`: only a random part of
// it arrived, and the next request resumes where it ended.
void SimDevice::cutThisPiece(std::size_t from) {
    const std::size_t received = download_bytes_.size() - from;
    if (received == 0 || !happens(settings_.ota_cut_rate)) {
        return;
    }
    ++stats_.ota_cuts;
    download_bytes_.resize(from +
                           std::uniform_int_distribution<std::size_t>(0, received - 1)(rng_));
}

asio::awaitable<bool> SimDevice::reportUpdate(std::string_view status, const FirmwareOffer& offer,
                                              std::string_view error) {
    HttpReply reply = co_await client_.send(
        otaReportRequest(credentials_, client_.server().base_path, status, offer.version, error));
    const unsigned code = reply.error ? 0 : reply.response.result_int();
    if (code != 200) {
        spdlog::debug("{}: report {} of {} gave {} {}", identity_.serial, status, offer.version,
                      reply.error ? reply.error.message() : std::to_string(code),
                      reply.error ? "" : errorCode(reply.response.body()));
        co_return false;
    }
    co_return true;
}

}  // namespace esocore::sim
