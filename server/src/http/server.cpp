#include "http/server.h"

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/response.h"

namespace esocore::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;

tcp::endpoint parseListen(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        throw std::runtime_error("listen address must be host:port, got '" + listen + "'");
    }
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) {
        host = "0.0.0.0";
    }
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) {
        throw std::runtime_error("listen address: '" + host + "' is not an IP address");
    }
    int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) {
        throw std::runtime_error("listen port out of range");
    }
    return {address, static_cast<unsigned short>(port)};
}

std::string requestId(const BeastRequest& request) {
    auto given = request["x-request-id"];
    if (!given.empty() && given.size() <= 64) {
        bool clean = true;
        for (char c : given) {
            clean = clean && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
        }
        if (clean) {
            return std::string(given);
        }
    }
    return randomToken(12);
}

// API paths answer JSON, never the portal's pages, even for a path no route knows.
bool isApiPath(std::string_view path) {
    return path == "/api" || path.substr(0, 5) == "/api/";
}

Response methodNotAllowed(const std::string& method, const std::string& path,
                          const std::vector<std::string>& allowed) {
    Response response =
        errorResponse(405, "method_not_allowed", method + " is not allowed on " + path);
    std::string methods;
    for (const auto& m : allowed) {
        methods += (methods.empty() ? "" : ", ") + m;
    }
    response.setHeader("allow", methods);
    return response;
}

// A request that a handler completes, perhaps later and on another thread.
struct Pending {
    explicit Pending(asio::any_io_executor executor) : timer(executor) {
        timer.expires_at(asio::steady_timer::time_point::max());
    }
    std::mutex mutex;
    std::optional<Response> response;
    asio::steady_timer timer;
};

// Threads outside the server (the ingest writer, worker pools) complete requests through it
// only while the io_context lives; the server closes it before the io_context goes away.
struct Gate {
    std::mutex mutex;
    bool open = true;
};

struct Session {
    tcp::socket* socket = nullptr;
    asio::any_io_executor executor;
    std::atomic<bool> idle{true};
    bool body_refused = false;  // a body was refused unread: the client may still be sending it
};

// After a body was refused unread: reads and drops what the client still sends until it
// closes or goes quiet. Closing at once, with its data unread, would reset the connection,
// and the client would lose the answer that tells it why.
asio::awaitable<void> discardUntilClosed(beast::tcp_stream& stream) {
    constexpr auto kQuiet = std::chrono::seconds(2);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::array<char, 16 * 1024> sink;
    while (std::chrono::steady_clock::now() < deadline) {
        stream.expires_after(kQuiet);
        auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_nothrow);
        if (ec) {
            co_return;
        }
    }
}

// Answers a request Beast could not parse with the JSON error shape, then the caller closes.
asio::awaitable<void> refuseMalformed(beast::tcp_stream& stream,
                                      const boost::system::error_code& ec) {
    bool too_large = ec == bhttp::error::header_limit;
    Response error =
        too_large ? errorResponse(431, "header_too_large", "request headers larger than 16 KiB")
                  : errorResponse(400, "bad_request", "malformed HTTP request: " + ec.message());
    BeastResponse out{static_cast<bhttp::status>(error.status), 11};
    out.set(bhttp::field::content_type, "application/json");
    out.keep_alive(false);
    out.body() = std::move(error.body);
    out.prepare_payload();
    co_await bhttp::async_write(stream, out, use_nothrow);
}

}  // namespace

struct Server::Impl {
    Impl(ServerOptions opts, const Router& r)
        : options(std::move(opts)), router(r), ioc(options.threads), acceptor(ioc) {}

    asio::awaitable<void> acceptLoop();
    asio::awaitable<void> serveSession(tcp::socket socket);
    asio::awaitable<bool> serveOne(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                   Session& session, const std::string& remote);
    asio::awaitable<Response> dispatch(const Route* route, RequestPtr request);
    Request makeRequest(BeastRequest& beast_request, const std::string& remote);
    void beginStop();
    void watchDrain(std::shared_ptr<asio::steady_timer> timer,
                    std::chrono::steady_clock::time_point deadline);
    void record(const std::string& route, const std::string& method, int status, double seconds);

    ServerOptions options;
    const Router& router;
    asio::io_context ioc;
    tcp::acceptor acceptor;
    std::atomic<bool> stopping{false};
    std::mutex sessions_mutex;
    std::set<std::shared_ptr<Session>> sessions;
    std::function<void()> on_stopping;
    std::shared_ptr<Gate> gate = std::make_shared<Gate>();
    metrics::Gauge& open_connections =
        metrics::Registry::instance().gauge("esocore_http_connections", "Open HTTP connections");
};

Server::Server(ServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

Server::~Server() = default;

unsigned short Server::bind() {
    tcp::endpoint endpoint = parseListen(impl_->options.listen);
    boost::system::error_code ec;
    impl_->acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        impl_->acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        throw std::runtime_error("cannot listen on " + impl_->options.listen + ": " + ec.message());
    }
    return impl_->acceptor.local_endpoint().port();
}

void Server::onStopping(std::function<void()> callback) {
    impl_->on_stopping = std::move(callback);
}

void Server::stop() {
    asio::post(impl_->ioc, [impl = impl_.get()] { impl->beginStop(); });
}

void Server::run(bool handle_signals) {
    std::optional<asio::signal_set> signals;
    if (handle_signals) {
        signals.emplace(impl_->ioc, SIGINT, SIGTERM);
        signals->async_wait([this](const boost::system::error_code& ec, int signal) {
            if (!ec) {
                log::info("stopping", {{"signal", signal}});
                impl_->beginStop();
            }
        });
    }
    asio::co_spawn(impl_->ioc, impl_->acceptLoop(), asio::detached);
    std::vector<std::thread> threads;
    for (int i = 1; i < impl_->options.threads; ++i) {
        threads.emplace_back([this] { impl_->ioc.run(); });
    }
    impl_->ioc.run();
    for (auto& t : threads) {
        t.join();
    }
    std::lock_guard lock(impl_->gate->mutex);
    impl_->gate->open = false;
}

void Server::Impl::beginStop() {
    if (stopping.exchange(true)) {
        return;
    }
    boost::system::error_code ignored;
    acceptor.close(ignored);
    if (on_stopping) {
        on_stopping();
    }
    {
        std::lock_guard lock(sessions_mutex);
        for (const auto& session : sessions) {
            asio::post(session->executor, [session] {
                if (session->idle && session->socket != nullptr) {
                    boost::system::error_code ec;
                    session->socket->cancel(ec);
                }
            });
        }
    }
    auto timer = std::make_shared<asio::steady_timer>(ioc);
    watchDrain(timer, std::chrono::steady_clock::now() + options.drain_timeout);
}

void Server::Impl::watchDrain(std::shared_ptr<asio::steady_timer> timer,
                              std::chrono::steady_clock::time_point deadline) {
    std::size_t open = 0;
    {
        std::lock_guard lock(sessions_mutex);
        open = sessions.size();
    }
    if (open == 0 || std::chrono::steady_clock::now() >= deadline) {
        if (open != 0) {
            log::warn("drain timeout; closing open connections", {{"open", open}});
        }
        ioc.stop();
        return;
    }
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait(
        [this, timer, deadline](const boost::system::error_code&) { watchDrain(timer, deadline); });
}

asio::awaitable<void> Server::Impl::acceptLoop() {
    while (!stopping) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), use_nothrow);
        if (ec) {
            if (stopping || ec == asio::error::operation_aborted) {
                break;
            }
            log::warn("accept failed", {{"error", ec.message()}});
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        auto executor = socket.get_executor();
        asio::co_spawn(executor, serveSession(std::move(socket)), asio::detached);
    }
}

asio::awaitable<void> Server::Impl::serveSession(tcp::socket socket) {
    boost::system::error_code ec;
    auto peer = socket.remote_endpoint(ec);
    std::string remote = ec ? std::string() : peer.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    auto session = std::make_shared<Session>();
    session->socket = &stream.socket();
    session->executor = co_await asio::this_coro::executor;
    {
        std::lock_guard lock(sessions_mutex);
        sessions.insert(session);
    }
    open_connections.add(1);
    beast::flat_buffer buffer;
    while (!stopping) {
        if (!co_await serveOne(stream, buffer, *session, remote)) {
            break;
        }
    }
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (session->body_refused) {
        co_await discardUntilClosed(stream);
    }
    open_connections.add(-1);
    std::lock_guard lock(sessions_mutex);
    session->socket = nullptr;
    sessions.erase(session);
}

Request Server::Impl::makeRequest(BeastRequest& beast_request, const std::string& remote) {
    Request request;
    request.method = std::string(beast_request.method_string());
    request.target = std::string(beast_request.target());
    auto url = boost::urls::parse_origin_form(request.target);
    if (url) {
        request.path = url->path();
        request.query = url->encoded_query();
    } else {
        request.path = request.target;
    }
    for (const auto& field : beast_request) {
        std::string name(field.name_string());
        for (auto& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        request.headers.push_back({std::move(name), std::string(field.value())});
    }
    request.body = std::move(beast_request.body());
    request.remote_address = remote;
    request.request_id = requestId(beast_request);
    request.received_at = nowMicros();
    return request;
}

asio::awaitable<Response> Server::Impl::dispatch(const Route* route, RequestPtr request) {
    auto pending = std::make_shared<Pending>(co_await asio::this_coro::executor);
    // The callback holds the request's state weakly: only the waiting coroutine owns it, so its
    // timer is never destroyed on another thread after the io_context is gone.
    Respond respond = [weak = std::weak_ptr<Pending>(pending), gate = gate](Response response) {
        std::lock_guard open(gate->mutex);
        auto pending = weak.lock();
        if (!gate->open || !pending) {
            return;
        }
        {
            std::lock_guard lock(pending->mutex);
            pending->response = std::move(response);
        }
        asio::post(pending->timer.get_executor(), [weak] {
            if (auto waiting = weak.lock()) {
                waiting->timer.cancel();
            }
        });
    };
    try {
        route->handler(request, respond);
    } catch (const std::exception& e) {
        log::error("handler threw", {{"request_id", request->request_id}, {"error", e.what()}});
        co_return errorResponse(500, "internal_error", "internal error");
    }
    for (;;) {
        {
            std::lock_guard lock(pending->mutex);
            if (pending->response) {
                co_return std::move(*pending->response);
            }
        }
        co_await pending->timer.async_wait(use_nothrow);
    }
}

void Server::Impl::record(const std::string& route, const std::string& method, int status,
                          double seconds) {
    auto& registry = metrics::Registry::instance();
    registry
        .counter("esocore_http_requests_total", "HTTP requests by route and status",
                 metrics::labels(
                     {{"route", route}, {"method", method}, {"status", std::to_string(status)}}))
        .add();
    registry
        .histogram("esocore_http_request_duration_seconds", "HTTP request latency by route",
                   metrics::labels({{"route", route}}))
        .observe(seconds);
}

asio::awaitable<bool> Server::Impl::serveOne(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                             Session& session, const std::string& remote) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    // The route's limit applies once the header names the route. Beast's default (1 MiB)
    // would otherwise refuse a larger Content-Length while reading the header, with no answer.
    parser.body_limit(boost::none);
    session.idle = true;
    stream.expires_after(options.idle_timeout);
    auto [read_ec, header_bytes] =
        co_await bhttp::async_read_header(stream, buffer, parser, use_nothrow);
    if (read_ec) {
        if (read_ec.category() == bhttp::make_error_code(bhttp::error::header_limit).category() &&
            read_ec != bhttp::error::end_of_stream && read_ec != bhttp::error::partial_message) {
            co_await refuseMalformed(stream, read_ec);
        }
        co_return false;
    }
    session.idle = false;
    auto started = std::chrono::steady_clock::now();

    auto& header = parser.get();
    auto url = boost::urls::parse_origin_form(header.target());
    std::string path = url ? std::string(url->path()) : std::string(header.target());
    std::string method(header.method_string());
    RouteMatch match = router.find(method, path);
    bool keep_alive = header.keep_alive() && !stopping;
    Response response;
    std::string route_name = match.route ? match.route->pattern : "unmatched";

    std::int64_t limit = match.route ? match.route->options.max_body : 64 * 1024;
    parser.body_limit(static_cast<std::uint64_t>(limit));
    if (parser.content_length() && *parser.content_length() > static_cast<std::uint64_t>(limit)) {
        response = errorResponse(413, "body_too_large",
                                 "request body larger than " + std::to_string(limit) + " bytes");
        keep_alive = false;
        session.body_refused = true;
    } else {
        if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
            bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, 11};
            co_await bhttp::async_write(stream, go_on, use_nothrow);
        }
        stream.expires_after(options.idle_timeout);
        auto [body_ec, body_bytes] =
            co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
        if (body_ec == bhttp::error::body_limit) {
            response =
                errorResponse(413, "body_too_large",
                              "request body larger than " + std::to_string(limit) + " bytes");
            keep_alive = false;
            session.body_refused = true;
        } else if (body_ec) {
            co_return false;
        } else {
            auto request = std::make_shared<Request>(makeRequest(parser.get(), remote));
            if (match.route) {
                request->params = std::move(match.params);
                request->route = match.route->pattern;
                response = co_await dispatch(match.route, request);
            } else if (match.path_known) {
                response = methodNotAllowed(method, path, match.allowed);
            } else if ((method == "GET" || method == "HEAD") && router.fallback() &&
                       !isApiPath(path)) {
                route_name = "static";
                response = router.fallback()(*request);
            } else {
                response = errorResponse(404, "not_found", "no such endpoint: " + path);
            }
            response.setHeader("x-request-id", request->request_id);
        }
    }

    BeastResponse out{static_cast<bhttp::status>(response.status), 11};
    out.set(bhttp::field::server, options.server_name);
    for (auto& h : response.headers) {
        out.set(h.name, h.value);
    }
    out.keep_alive(keep_alive);
    bool head = method == "HEAD";
    std::size_t length = response.body.size();
    if (!head) {
        out.body() = std::move(response.body);
    }
    out.content_length(length);
    stream.expires_after(options.idle_timeout);
    bhttp::response_serializer<bhttp::string_body> serializer{out};
    if (head) {
        co_await bhttp::async_write_header(stream, serializer, use_nothrow);
    } else {
        co_await bhttp::async_write(stream, serializer, use_nothrow);
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    record(route_name, method, response.status, seconds);
    if (log::enabled(log::Level::debug)) {
        log::debug("request", {{"method", method},
                               {"path", path},
                               {"status", response.status},
                               {"request_id", std::string(out["x-request-id"])},
                               {"ms", seconds * 1000.0}});
    }
    co_return keep_alive;
}

}  // namespace esocore::http
