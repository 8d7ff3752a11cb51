#include "paced_uploads.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <iterator>
#include <memory>

#include "batch_builder.h"

namespace esocore::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kFailureNotes = 5;

std::int64_t nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Points a few milliseconds in the past, distinct per batch: batch n of a device carries the
// value n in every point.
std::string batchJson(const UploadSettings& settings, std::uint32_t batch) {
    fmt::memory_buffer out;
    out.push_back('[');
    std::int64_t last = nowMs() - 1;
    for (std::uint32_t s = 0; s < settings.series; ++s) {
        for (std::uint32_t p = 0; p < settings.points_per_series; ++p) {
            std::int64_t ts = last - (settings.points_per_series - 1 - p);
            fmt::format_to(std::back_inserter(out),
                           R"({}{{"ts":{},"series":"bench_series_{}","val":{},"unit":"u"}})",
                           out.size() > 1 ? "," : "", ts, s, batch);
        }
    }
    out.push_back(']');
    return fmt::to_string(out);
}

class Uploader {
public:
    Uploader(const UploadSettings& settings, UploadResult& result)
        : settings_(settings), result_(result) {}

    asio::awaitable<void> device(std::uint32_t index, Clock::time_point start);

private:
    asio::awaitable<bool> send(beast::tcp_stream& stream, const DeviceCredential& device,
                               std::uint32_t batch, std::uint32_t index);
    void fail(std::string note);

    const UploadSettings& settings_;
    UploadResult& result_;
    boost::uuids::random_generator uuids_;
};

void Uploader::fail(std::string note) {
    ++result_.batches_failed;
    if (result_.failure_notes.size() < kFailureNotes) {
        result_.failure_notes.push_back(std::move(note));
    }
}

asio::awaitable<bool> Uploader::send(beast::tcp_stream& stream, const DeviceCredential& device,
                                     std::uint32_t batch, std::uint32_t index) {
    http::request<http::string_body> request{http::verb::post, "/api/iot/v1/telemetry/batch", 11};
    request.set(http::field::host, "127.0.0.1");
    request.set("x-device-id", device.serial);
    request.set("x-auth-key", device.key);
    request.set("idempotency-key", boost::uuids::to_string(uuids_()));
    request.set(http::field::content_type, "application/json");
    request.set(http::field::content_encoding, "gzip");
    request.body() = gzipCompress(batchJson(settings_, batch));
    request.prepare_payload();
    auto [write_ec, written] = co_await http::async_write(stream, request, use_nothrow);
    http::response<http::string_body> response;
    beast::flat_buffer buffer;
    boost::system::error_code read_ec = write_ec;
    if (!write_ec) {
        std::tie(read_ec, std::ignore) =
            co_await http::async_read(stream, buffer, response, use_nothrow);
    }
    auto at = Clock::now();
    if (read_ec) {
        fail(fmt::format("device {} batch {}: {}", index, batch, read_ec.message()));
        co_return false;
    }
    if (response.result_int() != 200) {
        fail(fmt::format("device {} batch {}: HTTP {} {}", index, batch, response.result_int(),
                         response.body().substr(0, 200)));
        co_return true;
    }
    result_.acked[index][batch] = at;
    ++result_.batches_ok;
    co_return true;
}

asio::awaitable<void> Uploader::device(std::uint32_t index, Clock::time_point start) {
    auto executor = co_await asio::this_coro::executor;
    const DeviceCredential& device = settings_.devices[index];
    tcp::endpoint server(asio::ip::make_address("127.0.0.1"), settings_.port);
    auto stream = std::make_unique<beast::tcp_stream>(executor);
    asio::steady_timer timer(executor);
    auto next = start + settings_.interval * index / settings_.devices.size();
    auto end = start + settings_.duration;
    bool connected = false;
    for (std::uint32_t batch = 1; next < end; ++batch, next += settings_.interval) {
        timer.expires_at(next);
        co_await timer.async_wait(use_nothrow);
        if (!connected) {
            stream = std::make_unique<beast::tcp_stream>(executor);
            auto [ec] = co_await stream->async_connect(server, use_nothrow);
            connected = !ec;
            if (ec) {
                fail(fmt::format("device {}: connect: {}", index, ec.message()));
                continue;
            }
        }
        stream->expires_after(std::chrono::seconds(30));
        connected = co_await send(*stream, device, batch, index);
    }
}

}  // namespace

UploadResult runUploads(const UploadSettings& settings) {
    UploadResult result;
    auto batches = static_cast<std::size_t>(settings.duration / settings.interval) + 2;
    result.acked.assign(settings.devices.size(),
                        std::vector<std::optional<Clock::time_point>>(batches));
    asio::io_context ioc{1};
    Uploader uploader(settings, result);
    auto start = Clock::now();
    for (std::uint32_t d = 0; d < settings.devices.size(); ++d) {
        asio::co_spawn(ioc, uploader.device(d, start), asio::detached);
    }
    ioc.run();
    return result;
}

}  // namespace esocore::bench
