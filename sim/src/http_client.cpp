#include "http_client.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <stdexcept>

namespace esocore::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// How a pooled connection that the server closed while it sat idle fails when reused.
bool looksStale(const boost::system::error_code& error) {
    return error == http::error::end_of_stream || error == asio::error::eof ||
           error == asio::error::connection_reset || error == asio::error::broken_pipe;
}

}  // namespace

struct HttpClient::Connection {
    explicit Connection(asio::any_io_executor executor) : stream(std::move(executor)) {}

    beast::tcp_stream stream;
    beast::flat_buffer buffer;
};

ServerAddress parseServerUrl(std::string_view url) {
    const auto parsed = boost::urls::parse_uri(url);
    if (!parsed) {
        throw std::invalid_argument(fmt::format("--server {}: {}", url, parsed.error().message()));
    }
    if (parsed->scheme() != "http" || parsed->host_address().empty()) {
        throw std::invalid_argument(
            fmt::format("--server {}: expected http://host[:port][/prefix]", url));
    }
    ServerAddress server;
    server.host = parsed->host_address();
    server.port = parsed->has_port() ? std::string(parsed->port()) : "80";
    server.host_header = parsed->encoded_host_and_port();
    server.base_path = parsed->encoded_path();
    while (!server.base_path.empty() && server.base_path.back() == '/') {
        server.base_path.pop_back();
    }
    return server;
}

HttpClient::HttpClient(asio::any_io_executor executor, ServerAddress server,
                       std::size_t max_in_flight, std::chrono::milliseconds timeout)
    : executor_(executor),
      server_(std::move(server)),
      timeout_(timeout),
      slots_(executor, std::max<std::size_t>(max_in_flight, 1)) {}

HttpClient::~HttpClient() = default;

asio::awaitable<HttpReply> HttpClient::send(HttpRequest request) {
    HttpReply reply;
    reply.error = asio::error::operation_aborted;
    if (closed_) {
        co_return reply;
    }
    auto [slot_error] = co_await slots_.async_send(boost::system::error_code{}, kNoThrow);
    if (slot_error) {
        co_return reply;
    }
    if (closed_) {
        slots_.try_receive([](boost::system::error_code) {});
        co_return reply;
    }
    request.set(http::field::host, server_.host_header);
    request.keep_alive(true);
    bool stale = false;
    reply = co_await exchange(request, true, stale);
    // A pooled connection the server closed while it sat idle is not a failed request: try once
    // more on a fresh one. Every request the sim sends is safe to repeat.
    if (stale && !closed_) {
        reply = co_await exchange(request, false, stale);
    }
    slots_.try_receive([](boost::system::error_code) {});
    co_return reply;
}

void HttpClient::shutdown() {
    closed_ = true;
    for (Connection* connection : busy_) {
        connection->stream.close();
    }
    for (auto& connection : idle_) {
        connection->stream.close();
    }
    idle_.clear();
    slots_.cancel();
}

asio::awaitable<HttpReply> HttpClient::exchange(HttpRequest& request, bool reuse, bool& stale) {
    HttpReply reply;
    std::unique_ptr<Connection> connection;
    const bool reused = reuse && !idle_.empty();
    if (reused) {
        connection = std::move(idle_.back());
        idle_.pop_back();
    } else {
        connection = co_await connect(reply.error);
        if (!connection) {
            co_return reply;
        }
    }
    busy_.insert(connection.get());
    connection->stream.expires_after(timeout_);
    auto [write_error, bytes_written] =
        co_await http::async_write(connection->stream, request, kNoThrow);
    std::size_t bytes_read = 0;
    reply.error = write_error;
    if (!write_error) {
        reply.maybe_delivered = true;
        auto [read_error, read] = co_await http::async_read(connection->stream, connection->buffer,
                                                            reply.response, kNoThrow);
        reply.error = read_error;
        bytes_read = read;
    }
    busy_.erase(connection.get());
    stale = reused && bytes_read == 0 && (write_error || looksStale(reply.error));
    checkIn(std::move(connection), !reply.error && reply.response.keep_alive());
    co_return reply;
}

asio::awaitable<std::unique_ptr<HttpClient::Connection>> HttpClient::connect(
    boost::system::error_code& error) {
    if (!resolved_) {
        tcp::resolver resolver(executor_);
        auto [resolve_error, results] =
            co_await resolver.async_resolve(server_.host, server_.port, kNoThrow);
        if (resolve_error) {
            error = resolve_error;
            co_return nullptr;
        }
        endpoints_ = std::move(results);
        resolved_ = true;
    }
    auto connection = std::make_unique<Connection>(executor_);
    busy_.insert(connection.get());
    connection->stream.expires_after(timeout_);
    auto [connect_error, endpoint] =
        co_await connection->stream.async_connect(endpoints_, kNoThrow);
    busy_.erase(connection.get());
    if (connect_error || closed_) {
        error = connect_error ? connect_error : asio::error::operation_aborted;
        co_return nullptr;
    }
    boost::system::error_code ignored;
    connection->stream.socket().set_option(tcp::no_delay(true), ignored);
    co_return connection;
}

void HttpClient::checkIn(std::unique_ptr<Connection> connection, bool keep_alive) {
    if (!keep_alive || closed_) {
        connection->stream.close();
        return;
    }
    connection->stream.expires_never();
    idle_.push_back(std::move(connection));
}

}  // namespace esocore::sim
