#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "device_api.h"

namespace esocore::sim::testing {

/// Decompresses a gzip stream; nullopt when it is not one.
std::optional<std::string> gunzip(std::string_view compressed);

/// Decompresses one zstd frame; nullopt when it is not one.
std::optional<std::string> unzstd(std::string_view compressed);

/// What the fake server saw and stored.
struct FakeLedger {
    std::size_t batches_applied = 0;
    std::size_t replays = 0;          // 409 duplicate_batch answers
    std::size_t refused_batches = 0;  // batches answered with a scripted failure
    std::size_t header_errors = 0;    // missing key, wrong digest, unknown encoding, bad body
    std::size_t stored_points = 0;    // distinct (device, series, ts) points
    std::size_t stored_events = 0;    // distinct (device, series, ts) events
    std::size_t duplicate_records = 0;
    std::size_t handshakes = 0;
    std::size_t heartbeats = 0;
    std::map<std::string, std::size_t> series;  // records stored per series
    std::set<std::string> encodings;
};

/// A scripted answer for the next batches, instead of storing them.
struct ScriptedAnswer {
    unsigned status = 503;
    std::string code = "maintenance";
    int retry_after_s = -1;  // no Retry-After header when negative
    int remaining = 1;       // how many batches get it
};

/// A small in-process stand-in for the server's device API, on 127.0.0.1 and a free port, with
/// the idempotency rules of the real one: a known key with the same body is answered 409 with
/// the original counts, with another body 422.
class FakeDeviceApi {
public:
    FakeDeviceApi();
    ~FakeDeviceApi();

    /// `http://127.0.0.1:<port>`.
    std::string url() const;

    /// Stops or resumes accepting connections on the same port; stopping also drops open ones.
    void setReachable(bool reachable);

    /// Answers the next batches with `answer` instead of storing them.
    void script(const ScriptedAnswer& answer);

    FakeLedger ledger() const;

private:
    struct Applied {
        std::string body_sha256;
        std::string answer;
    };

    void runOnServerThread(std::function<void()> task);
    void startAccepting();
    boost::asio::awaitable<void> accept();
    boost::asio::awaitable<void> serve(std::shared_ptr<boost::asio::ip::tcp::socket> socket);
    HttpResponse handle(const HttpRequest& request);
    HttpResponse handleBatch(const HttpRequest& request);
    HttpResponse storeBatch(const std::string& key, const std::string& digest,
                            std::string_view json);

    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    boost::asio::ip::tcp::acceptor acceptor_;
    unsigned short port_ = 0;
    std::set<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
    std::thread thread_;

    mutable std::mutex mutex_;
    FakeLedger ledger_;
    std::optional<ScriptedAnswer> script_;
    std::map<std::string, Applied> applied_;  // idempotency key -> first answer
    std::set<std::string> stored_;            // device|series|ts
};

}  // namespace esocore::sim::testing
