#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "device_api.h"

namespace esocore::sim {

/// Where the server listens, from `--server`.
struct ServerAddress {
    std::string host;
    std::string port;
    std::string host_header;  // host[:port] as given, for the Host header
    std::string base_path;    // prefix before /api/iot/v1, empty or starting with '/'
};

/// Parses `http://host[:port][/prefix]`. Throws std::invalid_argument for anything else
/// (https included: the sim speaks plain HTTP).
ServerAddress parseServerUrl(std::string_view url);

struct HttpReply {
    boost::system::error_code error;  // set when no response arrived
    bool maybe_delivered = false;     // the request was written, so the server may have it
    HttpResponse response;
};

/// An HTTP/1.1 client shared by the whole fleet: keep-alive connections in a pool, and at most
/// `max_in_flight` requests at once. Not thread-safe; everything runs on one io_context thread.
class HttpClient {
public:
    HttpClient(boost::asio::any_io_executor executor, ServerAddress server,
               std::size_t max_in_flight, std::chrono::milliseconds timeout);
    ~HttpClient();

    /// Sends a request and waits for the whole response. Never throws; transport failures,
    /// timeouts and shutdown come back in `HttpReply::error`.
    boost::asio::awaitable<HttpReply> send(HttpRequest request);

    /// Aborts every request in flight or waiting for a slot and closes every connection.
    void shutdown();

    const ServerAddress& server() const { return server_; }

private:
    struct Connection;

    boost::asio::awaitable<HttpReply> exchange(HttpRequest& request, bool reuse, bool& stale);
    boost::asio::awaitable<std::unique_ptr<Connection>> connect(boost::system::error_code& error);
    void checkIn(std::unique_ptr<Connection> connection, bool keep_alive);

    boost::asio::any_io_executor executor_;
    ServerAddress server_;
    std::chrono::milliseconds timeout_;
    // A channel with one buffered message per slot works as a counting semaphore: a send
    // takes a slot and waits when all are taken, a receive frees one.
    boost::asio::experimental::channel<void(boost::system::error_code)> slots_;
    std::deque<std::unique_ptr<Connection>> idle_;
    std::unordered_set<Connection*> busy_;
    bool resolved_ = false;
    boost::asio::ip::tcp::resolver::results_type endpoints_;
    bool closed_ = false;
};

}  // namespace esocore::sim
