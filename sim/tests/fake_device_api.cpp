#include "fake_device_api.h"

#include <zlib.h>
#include <zstd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <future>

#include "batch_builder.h"

namespace esocore::sim::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

HttpResponse jsonResponse(unsigned status, const boost::json::object& body) {
    HttpResponse response{static_cast<http::status>(status), 11};
    response.set(http::field::content_type, "application/json");
    response.body() = boost::json::serialize(body);
    return response;
}

HttpResponse errorResponse(unsigned status, std::string_view code) {
    return jsonResponse(status, {{"error", {{"code", code}, {"message", "fake device API"}}}});
}

bool endsWith(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<std::string> gunzip(std::string_view compressed) {
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 16) != Z_OK) {
        return std::nullopt;
    }
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    stream.avail_in = static_cast<uInt>(compressed.size());
    std::string output;
    int status = Z_OK;
    while (status == Z_OK) {
        char chunk[16384];
        stream.next_out = reinterpret_cast<Bytef*>(chunk);
        stream.avail_out = sizeof(chunk);
        status = inflate(&stream, Z_NO_FLUSH);
        output.append(chunk, sizeof(chunk) - stream.avail_out);
    }
    inflateEnd(&stream);
    return status == Z_STREAM_END ? std::optional(output) : std::nullopt;
}

std::optional<std::string> unzstd(std::string_view compressed) {
    const auto size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
        return std::nullopt;
    }
    std::string output(size, '\0');
    const auto written =
        ZSTD_decompress(output.data(), output.size(), compressed.data(), compressed.size());
    if (ZSTD_isError(written) != 0U || written != size) {
        return std::nullopt;
    }
    return output;
}

FakeDeviceApi::FakeDeviceApi() : work_(asio::make_work_guard(io_)), acceptor_(io_) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    startAccepting();
    thread_ = std::thread([this] { io_.run(); });
}

FakeDeviceApi::~FakeDeviceApi() {
    io_.stop();
    thread_.join();
}

std::string FakeDeviceApi::url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
}

void FakeDeviceApi::setReachable(bool reachable) {
    runOnServerThread([this, reachable] {
        boost::system::error_code ignored;
        if (!reachable) {
            acceptor_.close(ignored);
            for (const auto& socket : sockets_) {
                socket->close(ignored);
            }
            sockets_.clear();
            return;
        }
        const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port_);
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen();
        startAccepting();
    });
}

void FakeDeviceApi::script(const ScriptedAnswer& answer) {
    std::lock_guard lock(mutex_);
    script_ = answer;
}

FakeLedger FakeDeviceApi::ledger() const {
    std::lock_guard lock(mutex_);
    return ledger_;
}

void FakeDeviceApi::runOnServerThread(std::function<void()> task) {
    std::promise<void> done;
    asio::post(io_, [&] {
        task();
        done.set_value();
    });
    done.get_future().wait();
}

void FakeDeviceApi::startAccepting() {
    asio::co_spawn(io_, accept(), asio::detached);
}

asio::awaitable<void> FakeDeviceApi::accept() {
    while (acceptor_.is_open()) {
        auto socket = std::make_shared<tcp::socket>(io_);
        auto [error] = co_await acceptor_.async_accept(*socket, kNoThrow);
        if (error) {
            co_return;
        }
        sockets_.insert(socket);
        asio::co_spawn(io_, serve(socket), asio::detached);
    }
}

asio::awaitable<void> FakeDeviceApi::serve(std::shared_ptr<tcp::socket> socket) {
    boost::beast::flat_buffer buffer;
    while (true) {
        HttpRequest request;
        auto [read_error, read] = co_await http::async_read(*socket, buffer, request, kNoThrow);
        if (read_error) {
            break;
        }
        HttpResponse response = handle(request);
        response.keep_alive(request.keep_alive());
        response.prepare_payload();
        auto [write_error, written] = co_await http::async_write(*socket, response, kNoThrow);
        if (write_error || !response.keep_alive()) {
            break;
        }
    }
    boost::system::error_code ignored;
    socket->close(ignored);
    sockets_.erase(socket);
}

HttpResponse FakeDeviceApi::handle(const HttpRequest& request) {
    if (request["X-Device-Id"].empty() || request["X-Auth-Key"].empty()) {
        return errorResponse(401, "unauthenticated");
    }
    const std::string_view target = request.target();
    if (endsWith(target, "/api/iot/v1/telemetry/batch")) {
        return handleBatch(request);
    }
    std::lock_guard lock(mutex_);
    if (endsWith(target, "/api/iot/v1/auth/handshake")) {
        ++ledger_.handshakes;
        return jsonResponse(200, {{"nonce", "fake"},
                                  {"server_time", "2026-03-02T07:15:00.000Z"},
                                  {"version", "fake"},
                                  {"status", "active"},
                                  {"config_version", 1},
                                  {"update_available", false}});
    }
    if (endsWith(target, "/api/iot/v1/config")) {
        if (request[http::field::if_none_match] == "\"cfg-1\"") {
            return HttpResponse{http::status::not_modified, 11};
        }
        HttpResponse response = jsonResponse(200, {{"offline_timeout_s", 300}});
        response.set(http::field::etag, "\"cfg-1\"");
        return response;
    }
    if (endsWith(target, "/api/iot/v1/heartbeat")) {
        ++ledger_.heartbeats;
        return jsonResponse(200, {{"status", "ok"}});
    }
    return errorResponse(404, "not_found");
}

HttpResponse FakeDeviceApi::handleBatch(const HttpRequest& request) {
    const std::string key(request["Idempotency-Key"]);
    const std::string digest(request["Content-SHA256"]);
    const std::string encoding(request[http::field::content_encoding]);
    std::lock_guard lock(mutex_);
    if (key.empty() || digest != sha256Hex(request.body())) {
        ++ledger_.header_errors;
        return errorResponse(400, "bad_request");
    }
    if (const auto applied = applied_.find(key); applied != applied_.end()) {
        if (applied->second.body_sha256 != digest) {
            return errorResponse(422, "idempotency_key_reused");
        }
        ++ledger_.replays;
        auto replay = boost::json::parse(applied->second.answer).as_object();
        replay["error"] = {{"code", "duplicate_batch"}, {"message", "batch already applied"}};
        return jsonResponse(409, replay);
    }
    if (script_ && script_->remaining > 0) {
        --script_->remaining;
        ++ledger_.refused_batches;
        HttpResponse response = errorResponse(script_->status, script_->code);
        if (script_->retry_after_s >= 0) {
            response.set(http::field::retry_after, std::to_string(script_->retry_after_s));
        }
        return response;
    }
    const auto json = encoding == "gzip"   ? gunzip(request.body())
                      : encoding == "zstd" ? unzstd(request.body())
                                           : std::nullopt;
    if (!json) {
        ++ledger_.header_errors;
        return errorResponse(415, "unsupported_encoding");
    }
    ledger_.encodings.insert(encoding);
    return storeBatch(key, digest, *json);
}

HttpResponse FakeDeviceApi::storeBatch(const std::string& key, const std::string& digest,
                                       std::string_view json) {
    boost::system::error_code error;
    const auto records = boost::json::parse(json, error);
    if (error || !records.is_array()) {
        ++ledger_.header_errors;
        return errorResponse(400, "invalid_json");
    }
    std::int64_t points = 0;
    std::int64_t events = 0;
    std::int64_t duplicates = 0;
    for (const auto& entry : records.as_array()) {
        const auto& record = entry.as_object();
        const std::string series(record.at("series").as_string());
        const std::string identity = std::string(record.at("device_id").as_string()) + "|" +
                                     series + "|" + std::string(record.at("ts").as_string());
        if (!stored_.insert(identity).second) {
            ++duplicates;
            continue;
        }
        ++ledger_.series[series];
        ++(record.at("val").is_null() ? events : points);
    }
    ledger_.stored_points += points;
    ledger_.stored_events += events;
    ledger_.duplicate_records += duplicates;
    ++ledger_.batches_applied;
    const boost::json::object answer{{"accepted", points + events},
                                     {"duplicates", duplicates},
                                     {"rejected", 0},
                                     {"points", points},
                                     {"events", events},
                                     {"errors", boost::json::array{}}};
    applied_[key] = Applied{digest, boost::json::serialize(answer)};
    return jsonResponse(200, answer);
}

}  // namespace esocore::sim::testing
