#include "http/server.h"

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>
#include <deque>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "core/crypto.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/response.h"
#include "http/websocket.h"

namespace esocore::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using namespace boost::asio::experimental::awaitable_operators;
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

// A request that asked for a WebSocket and was accepted: the connection changes protocol once
// the HTTP loop ends.
struct Upgrade {
    BeastRequest request;
    std::shared_ptr<WebSocketSession> session;
    WebSocketOptions options;
};

struct Session {
    tcp::socket* socket = nullptr;
    asio::any_io_executor executor;
    std::atomic<bool> idle{true};
    bool body_refused = false;  // a body was refused unread: the client may still be sending it
    std::optional<Upgrade> upgrade;
    std::weak_ptr<WebSocket> websocket;  // set once the connection speaks WebSocket
};

// The file holding a spooled request body; removed when the request is done unless the
// handler moved it away.
struct SpoolFile {
    std::string path;
    SpoolFile() = default;
    SpoolFile(const SpoolFile&) = delete;
    SpoolFile& operator=(const SpoolFile&) = delete;
    ~SpoolFile() {
        if (!path.empty()) {
            std::error_code ignored;
            std::filesystem::remove(path, ignored);
        }
    }
};

enum class SpoolOutcome { stored, too_large, cannot_store, broken };

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

// The status line and headers of an answer, whatever carries its body.
template <class Body>
void setHead(bhttp::response<Body>& out, const Response& response, const std::string& server,
             bool keep_alive) {
    out.result(static_cast<bhttp::status>(response.status));
    out.set(bhttp::field::server, server);
    for (const auto& h : response.headers) {
        out.set(h.name, h.value);
    }
    out.keep_alive(keep_alive);
}

// The next piece of a streamed body, or nothing when the producer failed.
std::optional<std::string> nextPiece(const BodyProducer& producer, std::string_view request_id) {
    try {
        auto piece = producer();
        if (piece) {
            return std::move(*piece);
        }
        log::warn("streamed answer cut short",
                  {{"request_id", request_id}, {"error", piece.error().message}});
    } catch (const std::exception& e) {
        log::error("body producer threw", {{"request_id", request_id}, {"error", e.what()}});
    }
    return std::nullopt;
}

// WebSocket connections (the live updates at /ws).

struct WebSocketMetrics {
    metrics::Registry& r = metrics::Registry::instance();
    metrics::Gauge& connections = r.gauge("esocore_ws_connections", "Open WebSocket connections");
    metrics::Gauge& queue_messages =
        r.gauge("esocore_ws_queue_messages", "Messages waiting in WebSocket send queues");
    metrics::Gauge& queue_bytes =
        r.gauge("esocore_ws_queue_bytes", "Bytes waiting in WebSocket send queues");
    metrics::Counter& sent =
        r.counter("esocore_ws_messages_sent_total", "Messages written to WebSocket clients");
    metrics::Counter& dropped = r.counter(
        "esocore_ws_messages_dropped_total",
        "Messages not delivered because their connection was closing or its queue overflowed");
    metrics::Counter& slow_closes =
        r.counter("esocore_ws_slow_consumer_closes_total",
                  "WebSocket connections closed with 4008 because their send queue overflowed");
    metrics::Histogram& send_wait =
        r.histogram("esocore_ws_send_wait_seconds",
                    "Time from queueing a WebSocket message to the end of its write to the socket");
};

WebSocketMetrics& wsMetrics() {
    static WebSocketMetrics m;
    return m;
}

// How long a close may wait for the peer (e.g. one that stopped reading) before the socket is
// closed under it.
constexpr auto kCloseGrace = std::chrono::seconds(10);

// One upgraded connection: a reader and a writer coroutine on the connection's strand. Other
// threads touch only the send queue, under the mutex, and wake the writer with a post.
class WebSocketConnection final : public WebSocket,
                                  public std::enable_shared_from_this<WebSocketConnection> {
public:
    WebSocketConnection(beast::tcp_stream stream, const WebSocketOptions& options)
        : ws_(std::move(stream)),
          options_(options),
          wake_(ws_.get_executor()),
          close_deadline_(ws_.get_executor()) {}

    bool send(std::shared_ptr<const std::string> text) override;
    void close(CloseReason reason) override;

    // Completes the handshake and serves the connection until it ends.
    asio::awaitable<void> serve(BeastRequest request, std::shared_ptr<WebSocketSession> session,
                                std::string server_name);

private:
    enum class Step { write, close, ping, wait, stop };

    asio::awaitable<void> readLoop();
    asio::awaitable<void> writeLoop();
    struct Queued {
        std::shared_ptr<const std::string> text;
        std::chrono::steady_clock::time_point at;
    };

    Step nextStep(std::chrono::steady_clock::time_point next_ping, Queued& message,
                  CloseReason& reason);
    void wakeWriter();  // with mutex_ held
    void dropQueue();   // with mutex_ held
    void armCloseDeadline();
    void finish();

    websocket::stream<beast::tcp_stream> ws_;
    WebSocketOptions options_;
    asio::steady_timer wake_;
    asio::steady_timer close_deadline_;
    std::shared_ptr<WebSocketSession> session_;
    std::mutex mutex_;
    std::deque<Queued> queue_;
    std::size_t queued_bytes_ = 0;
    std::optional<CloseReason> closing_;
    bool writer_waiting_ = false;
    bool reader_done_ = false;
    bool done_ = false;  // ended: nothing is queued or posted any more
};

bool WebSocketConnection::send(std::shared_ptr<const std::string> text) {
    auto& m = wsMetrics();
    std::lock_guard lock(mutex_);
    if (done_ || closing_) {
        m.dropped.add();
        return false;
    }
    if (queue_.size() + 1 > options_.max_queue_messages ||
        queued_bytes_ + text->size() > options_.max_queue_bytes) {
        m.dropped.add(queue_.size() + 1);
        m.slow_closes.add();
        log::warn("websocket send queue full; closing the connection",
                  {{"messages", queue_.size()}, {"bytes", queued_bytes_}});
        dropQueue();
        closing_ = CloseReason{close_code::slow_consumer, "slow consumer: send queue full"};
        wakeWriter();
        asio::post(wake_.get_executor(), [weak = weak_from_this()] {
            if (auto self = weak.lock()) {
                self->armCloseDeadline();
            }
        });
        return false;
    }
    queued_bytes_ += text->size();
    m.queue_bytes.add(static_cast<std::int64_t>(text->size()));
    m.queue_messages.add(1);
    queue_.push_back(Queued{std::move(text), std::chrono::steady_clock::now()});
    wakeWriter();
    return true;
}

void WebSocketConnection::close(CloseReason reason) {
    {
        std::lock_guard lock(mutex_);
        if (done_ || closing_) {
            return;
        }
        dropQueue();
        closing_ = std::move(reason);
        wakeWriter();
    }
    asio::post(wake_.get_executor(), [weak = weak_from_this()] {
        if (auto self = weak.lock()) {
            self->armCloseDeadline();
        }
    });
}

void WebSocketConnection::wakeWriter() {
    if (!writer_waiting_ || done_) {
        return;
    }
    writer_waiting_ = false;
    asio::post(wake_.get_executor(), [weak = weak_from_this()] {
        if (auto self = weak.lock()) {
            self->wake_.cancel();
        }
    });
}

void WebSocketConnection::dropQueue() {
    auto& m = wsMetrics();
    m.queue_bytes.add(-static_cast<std::int64_t>(queued_bytes_));
    m.queue_messages.add(-static_cast<std::int64_t>(queue_.size()));
    queue_.clear();
    queue_.shrink_to_fit();
    queued_bytes_ = 0;
}

void WebSocketConnection::armCloseDeadline() {
    close_deadline_.expires_after(kCloseGrace);
    close_deadline_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        auto self = weak.lock();
        if (!ec && self) {
            beast::get_lowest_layer(self->ws_).close();
        }
    });
}

asio::awaitable<void> WebSocketConnection::serve(BeastRequest request,
                                                 std::shared_ptr<WebSocketSession> session,
                                                 std::string server_name) {
    session_ = std::move(session);
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts;
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = 2 * options_.ping_interval + std::chrono::seconds(10);
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(
        websocket::stream_base::decorator([server_name](websocket::response_type& answer) {
            answer.set(bhttp::field::server, server_name);
        }));
    ws_.read_message_max(options_.max_message_bytes);
    auto [ec] = co_await ws_.async_accept(request, use_nothrow);
    if (ec) {
        finish();
        co_return;
    }
    wsMetrics().connections.add(1);
    session_->onOpen(shared_from_this());
    co_await (readLoop() && writeLoop());
    wsMetrics().connections.add(-1);
    finish();
}

asio::awaitable<void> WebSocketConnection::readLoop() {
    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, bytes] = co_await ws_.async_read(buffer, use_nothrow);
        if (ec) {
            break;
        }
        if (ws_.got_text()) {
            auto data = buffer.cdata();
            session_->onText(std::string_view(static_cast<const char*>(data.data()), data.size()));
        } else {
            close({close_code::unsupported_data, "text messages only"});
        }
        buffer.consume(buffer.size());
    }
    {
        std::lock_guard lock(mutex_);
        reader_done_ = true;
        wakeWriter();
    }
    // A write stuck on a peer that no longer reads must not outlive the reader.
    beast::get_lowest_layer(ws_).cancel();
}

WebSocketConnection::Step WebSocketConnection::nextStep(
    std::chrono::steady_clock::time_point next_ping, Queued& message, CloseReason& reason) {
    std::lock_guard lock(mutex_);
    if (reader_done_) {
        return Step::stop;
    }
    if (closing_) {
        reason = *closing_;
        return Step::close;
    }
    if (!queue_.empty()) {
        message = std::move(queue_.front());
        queue_.pop_front();
        queued_bytes_ -= message.text->size();
        wsMetrics().queue_bytes.add(-static_cast<std::int64_t>(message.text->size()));
        wsMetrics().queue_messages.add(-1);
        return Step::write;
    }
    if (std::chrono::steady_clock::now() >= next_ping) {
        return Step::ping;
    }
    writer_waiting_ = true;
    return Step::wait;
}

// Connections opened together would ping, and re-check their logins, together: the first
// ping comes after a random part of the interval, so that the checks spread over it.
std::chrono::milliseconds firstPing(std::chrono::milliseconds interval) {
    thread_local std::minstd_rand random{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> part(interval.count() / 2, interval.count());
    return std::chrono::milliseconds(part(random));
}

asio::awaitable<void> WebSocketConnection::writeLoop() {
    auto next_ping = std::chrono::steady_clock::now() + firstPing(options_.ping_interval);
    for (;;) {
        Queued message;
        CloseReason reason;
        boost::system::error_code ec;
        switch (nextStep(next_ping, message, reason)) {
            case Step::stop:
                co_return;
            case Step::close:
                std::tie(ec) = co_await ws_.async_close(
                    websocket::close_reason(static_cast<websocket::close_code>(reason.code),
                                            reason.reason),
                    use_nothrow);
                co_return;
            case Step::write:
                ws_.text(true);
                std::tie(ec, std::ignore) =
                    co_await ws_.async_write(asio::buffer(*message.text), use_nothrow);
                if (ec) {
                    co_return;
                }
                wsMetrics().sent.add();
                wsMetrics().send_wait.observe(
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - message.at)
                        .count());
                break;
            case Step::ping:
                next_ping = std::chrono::steady_clock::now() + options_.ping_interval;
                if (auto refusal = session_->onPing()) {
                    close(std::move(*refusal));
                    break;
                }
                std::tie(ec) = co_await ws_.async_ping({}, use_nothrow);
                break;
            case Step::wait:
                wake_.expires_at(next_ping);
                std::tie(ec) = co_await wake_.async_wait(use_nothrow);
                std::lock_guard lock(mutex_);
                writer_waiting_ = false;
                break;
        }
    }
}

void WebSocketConnection::finish() {
    {
        std::lock_guard lock(mutex_);
        done_ = true;
        dropQueue();
    }
    close_deadline_.cancel();
    if (session_) {
        session_->onClose();
        session_.reset();
    }
}

}  // namespace

struct Server::Impl {
    Impl(ServerOptions opts, const Router& r)
        : options(std::move(opts)), router(r), ioc(options.threads), acceptor(ioc) {
        wsMetrics();  // registered now so that /metrics shows them before the first connection
    }

    asio::awaitable<void> acceptLoop();
    asio::awaitable<void> serveSession(tcp::socket socket);
    asio::awaitable<bool> serveOne(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                   Session& session, const std::string& remote);
    asio::awaitable<Response> dispatch(const Route* route, RequestPtr request);
    Response acceptUpgrade(const WebSocketRoute& route, BeastRequest& beast_request,
                           const Request& request, Session& session);
    asio::awaitable<void> serveWebSocket(beast::tcp_stream stream,
                                         std::shared_ptr<Session> session);
    asio::awaitable<void> writeWhole(beast::tcp_stream& stream, Response& response, bool keep_alive,
                                     bool head);
    asio::awaitable<bool> writeStreamed(beast::tcp_stream& stream, Response& response,
                                        bool keep_alive, bool head, unsigned version);
    Request makeRequest(BeastRequest& beast_request, const std::string& remote);
    asio::awaitable<SpoolOutcome> readSpooled(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                              bhttp::request_parser<bhttp::string_body>& head,
                                              std::int64_t limit, const std::string& directory,
                                              SpoolFile& file, BeastRequest& message);
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
    metrics::Counter& streams_cut = metrics::Registry::instance().counter(
        "esocore_http_streams_cut_total", "Streamed answers ended early by a failure");
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
            if (auto socket = session->websocket.lock()) {
                socket->close({close_code::going_away, "server stopping"});
                continue;
            }
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
    if (session->upgrade) {
        co_await serveWebSocket(std::move(stream), session);
    } else {
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        if (session->body_refused) {
            co_await discardUntilClosed(stream);
        }
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

Response Server::Impl::acceptUpgrade(const WebSocketRoute& route, BeastRequest& beast_request,
                                     const Request& request, Session& session) {
    if (stopping) {
        return errorResponse(503, "stopping", "the server is stopping");
    }
    try {
        auto decision = route.accept(request);
        if (auto* accepted = std::get_if<std::shared_ptr<WebSocketSession>>(&decision)) {
            session.upgrade =
                Upgrade{std::move(beast_request), std::move(*accepted), route.options};
            return Response{};
        }
        return std::get<Response>(std::move(decision));
    } catch (const std::exception& e) {
        log::error("websocket accept threw",
                   {{"request_id", request.request_id}, {"error", e.what()}});
        return errorResponse(500, "internal_error", "internal error");
    }
}

asio::awaitable<void> Server::Impl::serveWebSocket(beast::tcp_stream stream,
                                                   std::shared_ptr<Session> session) {
    Upgrade upgrade = std::move(*session->upgrade);
    session->upgrade.reset();
    auto connection = std::make_shared<WebSocketConnection>(std::move(stream), upgrade.options);
    {
        std::lock_guard lock(sessions_mutex);
        session->socket = nullptr;
        session->websocket = connection;
    }
    // beginStop sets `stopping` before it walks the sessions: either it saw this connection, or
    // this sees `stopping`.
    if (stopping) {
        connection->close({close_code::going_away, "server stopping"});
    }
    co_await connection->serve(std::move(upgrade.request), std::move(upgrade.session),
                               options.server_name);
}

asio::awaitable<void> Server::Impl::writeWhole(beast::tcp_stream& stream, Response& response,
                                               bool keep_alive, bool head) {
    BeastResponse out;
    setHead(out, response, options.server_name, keep_alive);
    std::size_t length = response.body.size();
    if (!head) {
        out.body() = std::move(response.body);
    }
    out.content_length(length);
    bhttp::response_serializer<bhttp::string_body> serializer{out};
    if (head) {
        co_await bhttp::async_write_header(stream, serializer, use_nothrow);
    } else {
        co_await bhttp::async_write(stream, serializer, use_nothrow);
    }
}

// Chunked to HTTP/1.1 clients; to HTTP/1.0 clients, which know no chunks, the body ends where
// the connection closes. Returns whether the connection may serve another request.
asio::awaitable<bool> Server::Impl::writeStreamed(beast::tcp_stream& stream, Response& response,
                                                  bool keep_alive, bool head, unsigned version) {
    bool chunked = version >= 11;
    keep_alive = keep_alive && chunked;
    bhttp::response<bhttp::empty_body> out;
    setHead(out, response, options.server_name, keep_alive);
    out.chunked(chunked);
    bhttp::response_serializer<bhttp::empty_body> serializer{out};
    auto [header_ec, header_bytes] =
        co_await bhttp::async_write_header(stream, serializer, use_nothrow);
    if (header_ec || head) {
        co_return !header_ec && keep_alive;
    }
    std::string request_id(response.header("x-request-id"));
    for (;;) {
        std::optional<std::string> piece = nextPiece(response.producer, request_id);
        if (!piece) {
            streams_cut.add();
            co_return false;
        }
        stream.expires_after(options.idle_timeout);
        boost::system::error_code ec;
        if (piece->empty()) {
            if (chunked) {
                std::tie(ec, std::ignore) =
                    co_await asio::async_write(stream, bhttp::make_chunk_last(), use_nothrow);
            }
            co_return !ec && keep_alive;
        }
        if (chunked) {
            std::tie(ec, std::ignore) = co_await asio::async_write(
                stream, bhttp::make_chunk(asio::buffer(*piece)), use_nothrow);
        } else {
            std::tie(ec, std::ignore) =
                co_await asio::async_write(stream, asio::buffer(*piece), use_nothrow);
        }
        if (ec) {
            co_return false;
        }
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

// Reads the body of a spooling route into a new file under `directory` as it arrives. The
// idle timeout applies to each read, so a slow upload goes on as long as data flows.
asio::awaitable<SpoolOutcome> Server::Impl::readSpooled(
    beast::tcp_stream& stream, beast::flat_buffer& buffer,
    bhttp::request_parser<bhttp::string_body>& head, std::int64_t limit,
    const std::string& directory, SpoolFile& file, BeastRequest& message) {
    bhttp::request_parser<bhttp::file_body> parser(std::move(head));
    parser.body_limit(static_cast<std::uint64_t>(limit));
    std::error_code fs_ec;
    std::filesystem::create_directories(directory, fs_ec);
    std::string path =
        (std::filesystem::path(directory) / ("upload-" + randomToken(12) + ".part")).string();
    beast::error_code ec;
    parser.get().body().open(path.c_str(), beast::file_mode::write_new, ec);
    if (ec) {
        log::error("cannot spool a request body", {{"path", path}, {"error", ec.message()}});
        co_return SpoolOutcome::cannot_store;
    }
    file.path = path;
    while (!parser.is_done()) {
        stream.expires_after(options.idle_timeout);
        auto [read_ec, bytes] =
            co_await bhttp::async_read_some(stream, buffer, parser, use_nothrow);
        if (read_ec == bhttp::error::body_limit) {
            co_return SpoolOutcome::too_large;
        }
        if (read_ec) {
            co_return SpoolOutcome::broken;
        }
    }
    parser.get().body().close();
    message = BeastRequest(std::move(parser.release().base()));
    co_return SpoolOutcome::stored;
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
    unsigned version = header.version();
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
        SpoolFile spooled;
        BeastRequest spooled_head;
        SpoolOutcome body = SpoolOutcome::stored;
        if (match.route && !match.route->options.spool_directory.empty()) {
            body =
                co_await readSpooled(stream, buffer, parser, limit,
                                     match.route->options.spool_directory, spooled, spooled_head);
        } else {
            auto [body_ec, body_bytes] =
                co_await bhttp::async_read(stream, buffer, parser, use_nothrow);
            body = body_ec == bhttp::error::body_limit ? SpoolOutcome::too_large
                   : body_ec                           ? SpoolOutcome::broken
                                                       : SpoolOutcome::stored;
        }
        BeastRequest& message = spooled.path.empty() ? parser.get() : spooled_head;
        if (body == SpoolOutcome::too_large || body == SpoolOutcome::cannot_store) {
            response =
                body == SpoolOutcome::too_large
                    ? errorResponse(413, "body_too_large",
                                    "request body larger than " + std::to_string(limit) + " bytes")
                    : errorResponse(507, "cannot_store_body",
                                    "the server cannot store the request body");
            keep_alive = false;
            session.body_refused = true;
        } else if (body == SpoolOutcome::broken) {
            co_return false;
        } else {
            auto request = std::make_shared<Request>(makeRequest(message, remote));
            request->body_file = spooled.path;
            if (match.route) {
                request->params = std::move(match.params);
                request->route = match.route->pattern;
                const auto& upgrade_route = match.route->options.websocket;
                if (upgrade_route && websocket::is_upgrade(message)) {
                    response = acceptUpgrade(*upgrade_route, message, *request, session);
                    if (session.upgrade) {
                        record(route_name, method, 101, 0.0);
                        co_return false;
                    }
                } else {
                    response = co_await dispatch(match.route, request);
                }
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

    bool head = method == "HEAD";
    stream.expires_after(options.idle_timeout);
    if (response.producer) {
        keep_alive = co_await writeStreamed(stream, response, keep_alive, head, version);
    } else {
        co_await writeWhole(stream, response, keep_alive, head);
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    record(route_name, method, response.status, seconds);
    if (log::enabled(log::Level::debug)) {
        log::debug("request", {{"method", method},
                               {"path", path},
                               {"status", response.status},
                               {"request_id", std::string(response.header("x-request-id"))},
                               {"ms", seconds * 1000.0}});
    }
    co_return keep_alive;
}

}  // namespace esocore::http
