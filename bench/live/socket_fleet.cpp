#include "socket_fleet.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <stdexcept>
#include <unordered_map>

namespace esocore::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

// Touched only by the fleet's thread while it runs; read by others once it has stopped.
struct SocketFleet::State {
    FleetSettings settings;
    std::vector<std::string> device_ids;
    std::unordered_map<std::string, std::uint32_t> device_index;
    asio::io_context ioc{1};
    std::vector<Receipt> receipts;
    std::atomic<std::uint32_t> subscribed{0};
    std::atomic<std::uint32_t> failed{0};
    std::atomic<std::size_t> lost{0};
    std::atomic<bool> stopping{false};
    std::string first_failure;

    void record(const beast::flat_buffer& buffer, Clock::time_point at);
    asio::awaitable<void> connectAll();
    asio::awaitable<void> client(std::uint32_t index);
};

void SocketFleet::State::record(const beast::flat_buffer& buffer, Clock::time_point at) {
    auto data = buffer.cdata();
    json::error_code ec;
    json::value message =
        json::parse(std::string_view(static_cast<const char*>(data.data()), data.size()), ec);
    const json::object* object = ec ? nullptr : message.if_object();
    const json::value* type = object ? object->if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string()) {
        return;
    }
    if (type->get_string() == "subscribed") {
        ++subscribed;
        return;
    }
    if (type->get_string() == "error") {
        if (first_failure.empty()) {
            first_failure = json::serialize(message);
        }
        ++failed;
        return;
    }
    if (type->get_string() != "telemetry") {
        return;
    }
    const json::object& fields = object->at("data").as_object();
    auto device = device_index.find(std::string(fields.at("device_id").as_string()));
    if (device != device_index.end()) {
        auto batch = static_cast<std::uint32_t>(fields.at("value").to_number<double>());
        receipts.push_back(Receipt{device->second, batch, at});
    }
}

asio::awaitable<void> SocketFleet::State::client(std::uint32_t index) {
    websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
    tcp::endpoint server(asio::ip::make_address("127.0.0.1"), settings.port);
    auto [connect_ec] = co_await ws.next_layer().async_connect(server, use_nothrow);
    std::string channel = "telemetry:" + device_ids[index % device_ids.size()];
    if (!connect_ec) {
        beast::get_lowest_layer(ws).expires_never();
        ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        ws.set_option(websocket::stream_base::decorator(
            [token = settings.access_token](websocket::request_type& request) {
                request.set(beast::http::field::authorization, "Bearer " + token);
            }));
        std::tie(connect_ec) = co_await ws.async_handshake(
            "127.0.0.1:" + std::to_string(settings.port), "/ws", use_nothrow);
    }
    if (connect_ec) {
        if (first_failure.empty()) {
            first_failure = connect_ec.message();
        }
        ++failed;
        co_return;
    }
    std::string subscribe =
        json::serialize(json::object{{"type", "subscribe"}, {"channel", channel}});
    co_await ws.async_write(asio::buffer(subscribe), use_nothrow);
    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, bytes] = co_await ws.async_read(buffer, use_nothrow);
        if (ec || stopping) {
            if (!stopping) {
                ++lost;
            }
            co_return;
        }
        record(buffer, Clock::now());
        buffer.consume(buffer.size());
    }
}

// A bounded number of handshakes in flight, so the server's accept queue never overflows.
asio::awaitable<void> SocketFleet::State::connectAll() {
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (std::uint32_t i = 0; i < settings.clients; ++i) {
        while (i - subscribed - failed >= settings.connecting_at_once) {
            pause.expires_after(std::chrono::milliseconds(2));
            co_await pause.async_wait(use_nothrow);
        }
        asio::co_spawn(ioc, client(i), asio::detached);
    }
}

SocketFleet::SocketFleet(FleetSettings settings, std::vector<std::string> device_ids)
    : state_(std::make_shared<State>()) {
    state_->settings = std::move(settings);
    state_->device_ids = std::move(device_ids);
    for (std::uint32_t d = 0; d < state_->device_ids.size(); ++d) {
        state_->device_index.emplace(state_->device_ids[d], d);
    }
}

SocketFleet::~SocketFleet() {
    stop();
}

void SocketFleet::connect() {
    asio::co_spawn(state_->ioc, state_->connectAll(), asio::detached);
    thread_ = std::thread([state = state_] { state->ioc.run(); });
    auto deadline = Clock::now() + state_->settings.connect_timeout;
    while (state_->subscribed + state_->failed < state_->settings.clients) {
        if (Clock::now() > deadline) {
            throw std::runtime_error(fmt::format(
                "only {} of {} clients subscribed within {} s", state_->subscribed.load(),
                state_->settings.clients, state_->settings.connect_timeout.count()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (state_->failed > 0) {
        stop();
        throw std::runtime_error(fmt::format("{} clients could not connect; first: {}",
                                             state_->failed.load(), state_->first_failure));
    }
}

void SocketFleet::stop() {
    if (!thread_.joinable()) {
        return;
    }
    state_->stopping = true;
    state_->ioc.stop();
    thread_.join();
}

const std::vector<Receipt>& SocketFleet::receipts() const {
    return state_->receipts;
}

std::size_t SocketFleet::lost() const {
    return state_->lost;
}

std::uint32_t SocketFleet::subscribersOf(std::uint32_t device) const {
    auto devices = static_cast<std::uint32_t>(state_->device_ids.size());
    std::uint32_t clients = state_->settings.clients;
    return clients / devices + (device < clients % devices ? 1 : 0);
}

}  // namespace esocore::bench
