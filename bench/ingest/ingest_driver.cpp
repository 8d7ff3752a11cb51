#include "ingest_driver.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace esocore::bench {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using BatchRequest = http::request<http::span_body<const char>>;
using BatchResponse = http::response<http::string_body>;

using namespace std::chrono_literals;

// Errors come back as values: nothing may throw out of a completion.
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view kBatchTarget = "/api/iot/v1/telemetry/batch";
constexpr auto kRequestTimeout = 60s;
constexpr std::chrono::milliseconds kMinRetryAfter = 100ms;
constexpr std::chrono::milliseconds kMaxRetryAfter = 10s;
constexpr int kMaxThrottleWaits = 20;
constexpr int kMaxTransportAttempts = 3;
constexpr std::size_t kMaxFailureNotes = 5;
constexpr std::size_t kMaxBodyInNote = 200;

struct BatchCounts {
    std::int64_t accepted = 0;
    std::int64_t duplicates = 0;
    std::int64_t rejected = 0;
};

std::optional<std::int64_t> countField(const boost::json::object& answer, std::string_view name) {
    const auto* field = answer.if_contains(name);
    if (!field) {
        return std::nullopt;
    }
    boost::system::error_code ec;
    const auto value = field->to_number<std::int64_t>(ec);
    return ec ? std::nullopt : std::optional{value};
}

std::optional<BatchCounts> parseCounts(std::string_view body) {
    boost::system::error_code ec;
    const boost::json::value answer = boost::json::parse(body, ec);
    const auto* fields = ec ? nullptr : answer.if_object();
    if (!fields) {
        return std::nullopt;
    }
    const auto accepted = countField(*fields, "accepted");
    if (!accepted) {
        return std::nullopt;
    }
    return BatchCounts{.accepted = *accepted,
                       .duplicates = countField(*fields, "duplicates").value_or(0),
                       .rejected = countField(*fields, "rejected").value_or(0)};
}

// Only the delay-seconds form is expected from the server; anything else means "soon".
std::chrono::milliseconds retryAfter(const BatchResponse& response) {
    const std::string_view text = response[http::field::retry_after];
    long seconds = 1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        seconds = 1;
    }
    return std::clamp<std::chrono::milliseconds>(std::chrono::seconds{seconds}, kMinRetryAfter,
                                                 kMaxRetryAfter);
}

bool isThrottled(http::status status) {
    return status == http::status::too_many_requests || status == http::status::service_unavailable;
}

BatchRequest makeRequest(const PreparedBatch& batch, const DeviceCredential& device,
                         std::string_view host) {
    BatchRequest request{http::verb::post, kBatchTarget, 11};
    request.set(http::field::host, host);
    request.set(http::field::content_type, "application/json");
    request.set(http::field::content_encoding, "gzip");
    request.set("X-Device-Id", device.serial);
    request.set("X-Auth-Key", device.key);
    request.set("Idempotency-Key", batch.idempotency_key);
    request.set("Content-SHA256", batch.content_sha256);
    request.keep_alive(true);
    request.body() = {batch.body.data(), batch.body.size()};
    request.prepare_payload();
    return request;
}

std::string describeFailure(std::size_t index, const PreparedBatch& batch,
                            const BatchResponse& response,
                            const std::optional<BatchCounts>& counts) {
    if (counts) {
        return fmt::format("batch {}: accepted {} of {} (duplicates {}, rejected {})", index,
                           counts->accepted, batch.points, counts->duplicates, counts->rejected);
    }
    const std::string_view body = response.body();
    return fmt::format("batch {}: HTTP {}: {}", index, response.result_int(),
                       body.substr(0, kMaxBodyInNote));
}

// What every connection shares. All connections run on one thread, so nothing here is locked.
class DriveState {
public:
    DriveState(const std::vector<PreparedBatch>& batches,
               const std::vector<DeviceCredential>& devices, const DriveSettings& settings)
        : batches_(batches),
          devices_(devices),
          host_(fmt::format("127.0.0.1:{}", settings.port)),
          deadline_(Clock::now() + settings.run_timeout) {}

    const PreparedBatch& batch(std::size_t index) const { return batches_[index]; }
    const DeviceCredential& device(const PreparedBatch& batch) const {
        return devices_[batch.device];
    }
    const std::string& host() const { return host_; }
    Clock::time_point deadline() const { return deadline_; }

    /// The next batch to upload; none once all are taken, the run is aborted or out of time.
    std::optional<std::size_t> nextBatch() {
        if (aborted_ || next_ == batches_.size() || Clock::now() >= deadline_) {
            return std::nullopt;
        }
        return next_++;
    }

    void noteSent(Clock::time_point sent) {
        if (!first_sent_) {
            first_sent_ = sent;
        }
    }

    void recordSuccess(const BatchCounts& counts, Clock::time_point sent,
                       Clock::time_point answered) {
        ++result_.batches_ok;
        result_.points_accepted += counts.accepted;
        result_.duplicates += counts.duplicates;
        result_.rejected += counts.rejected;
        result_.latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(answered - sent).count());
        last_answered_ = std::max(last_answered_.value_or(answered), answered);
    }

    void recordFailure(std::string note) {
        ++result_.batches_failed;
        if (result_.failure_notes.size() < kMaxFailureNotes) {
            result_.failure_notes.push_back(std::move(note));
        }
    }

    /// A server that cannot be reached is not worth hammering: hand out no more batches.
    void abort(std::string note) {
        recordFailure(std::move(note));
        aborted_ = true;
    }

    void recordThrottleWait() { ++result_.throttle_waits; }
    void recordReconnect() { ++result_.reconnects; }

    DriveResult finish() {
        result_.batches_unsent = batches_.size() - next_;
        if (first_sent_ && last_answered_) {
            result_.wall_seconds =
                std::chrono::duration<double>(*last_answered_ - *first_sent_).count();
        }
        return std::move(result_);
    }

private:
    const std::vector<PreparedBatch>& batches_;
    const std::vector<DeviceCredential>& devices_;
    std::string host_;
    Clock::time_point deadline_;
    std::size_t next_ = 0;
    bool aborted_ = false;
    std::optional<Clock::time_point> first_sent_;
    std::optional<Clock::time_point> last_answered_;
    DriveResult result_;
};

// One keep-alive connection that uploads batches one after another until none are left.
class Connection {
public:
    Connection(asio::any_io_executor executor, DriveState& state, tcp::endpoint server)
        : stream_(std::move(executor)), state_(state), server_(server) {}

    asio::awaitable<void> run() {
        while (const auto index = state_.nextBatch()) {
            co_await deliver(*index);
        }
        close();
    }

private:
    // Retries a batch while the server asks for patience or the connection drops, both bounded.
    asio::awaitable<void> deliver(std::size_t index) {
        const PreparedBatch& batch = state_.batch(index);
        int transport_failures = 0;
        int throttle_waits = 0;
        for (;;) {
            BatchResponse response;
            Clock::time_point sent;
            if (const auto ec = co_await exchange(batch, response, sent)) {
                close();
                if (++transport_failures >= kMaxTransportAttempts) {
                    state_.abort(fmt::format("batch {}: {} ({} attempts)", index, ec.message(),
                                             transport_failures));
                    co_return;
                }
                state_.recordReconnect();
                continue;
            }
            const Clock::time_point answered = Clock::now();
            if (!response.keep_alive()) {
                close();
            }
            if (!isThrottled(response.result())) {
                settle(index, response, transport_failures > 0, sent, answered);
                co_return;
            }
            if (++throttle_waits > kMaxThrottleWaits || !co_await waitOut(response)) {
                state_.recordFailure(describeFailure(index, batch, response, std::nullopt));
                co_return;
            }
        }
    }

    // One request and its answer, connecting first when needed.
    asio::awaitable<beast::error_code> exchange(const PreparedBatch& batch, BatchResponse& response,
                                                Clock::time_point& sent) {
        if (!stream_.socket().is_open()) {
            buffer_.clear();
            stream_.expires_after(kRequestTimeout);
            const auto [ec] = co_await stream_.async_connect(server_, kNoThrow);
            if (ec) {
                co_return ec;
            }
        }
        BatchRequest request = makeRequest(batch, state_.device(batch), state_.host());
        sent = Clock::now();
        state_.noteSent(sent);
        stream_.expires_after(kRequestTimeout);
        const auto [write_ec, written] = co_await http::async_write(stream_, request, kNoThrow);
        if (write_ec) {
            co_return write_ec;
        }
        const auto [read_ec, read] =
            co_await http::async_read(stream_, buffer_, response, kNoThrow);
        co_return read_ec;
    }

    // False when waiting as asked would run past the deadline.
    asio::awaitable<bool> waitOut(const BatchResponse& response) {
        const auto delay = retryAfter(response);
        if (Clock::now() + delay > state_.deadline()) {
            co_return false;
        }
        state_.recordThrottleWait();
        asio::steady_timer timer{stream_.get_executor(), delay};
        const auto [ec] = co_await timer.async_wait(kNoThrow);
        co_return !ec;
    }

    void settle(std::size_t index, const BatchResponse& response, bool after_lost_answer,
                Clock::time_point sent, Clock::time_point answered) {
        const PreparedBatch& batch = state_.batch(index);
        // When an answer was lost the batch may be stored already; the server then replays the
        // original counts with 409, which is as good as the 200 that never arrived.
        const bool counted = response.result() == http::status::ok ||
                             (after_lost_answer && response.result() == http::status::conflict);
        const auto counts = counted ? parseCounts(response.body()) : std::nullopt;
        if (counts && counts->accepted == batch.points) {
            state_.recordSuccess(*counts, sent, answered);
            return;
        }
        state_.recordFailure(describeFailure(index, batch, response, counts));
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    DriveState& state_;
    tcp::endpoint server_;
};

// Nothing must escape a completion handler: a connection that threw ends the run instead.
void stopOnCrash(DriveState& state, std::exception_ptr failure) {
    if (!failure) {
        return;
    }
    try {
        std::rethrow_exception(failure);
    } catch (const std::exception& e) {
        state.abort(fmt::format("connection stopped: {}", e.what()));
    } catch (...) {
        state.abort("connection stopped by an unknown exception");
    }
}

// User plus system time of this process: what the client takes from the server's two cores.
double processCpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

DriveResult driveIngest(const std::vector<PreparedBatch>& batches,
                        const std::vector<DeviceCredential>& devices,
                        const DriveSettings& settings) {
    for (const PreparedBatch& batch : batches) {
        if (batch.device >= devices.size()) {
            throw std::invalid_argument("driveIngest: a batch names a device without credentials");
        }
    }
    const double cpu_before = processCpuSeconds();
    asio::io_context io{1};
    DriveState state{batches, devices, settings};
    const tcp::endpoint server{asio::ip::address_v4::loopback(), settings.port};

    std::vector<std::unique_ptr<Connection>> connections;
    for (std::uint32_t i = 0; i < settings.connections; ++i) {
        connections.push_back(std::make_unique<Connection>(io.get_executor(), state, server));
        asio::co_spawn(io, connections.back()->run(),
                       [&state](std::exception_ptr failure) { stopOnCrash(state, failure); });
    }
    io.run();
    DriveResult result = state.finish();
    result.client_cpu_seconds = processCpuSeconds() - cpu_before;
    return result;
}

}  // namespace esocore::bench
