#include "support/websocket_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace esocore::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

// Everything the reader thread touches; the client and the thread share it.
struct WebSocketClient::State : std::enable_shared_from_this<State> {
    asio::io_context ioc;
    // Keeps the thread running while reading is paused and nothing else is pending.
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    websocket::stream<tcp::socket> ws{ioc};
    beast::flat_buffer buffer;
    std::thread thread;

    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::string> messages;
    std::optional<int> close_code;
    int pings = 0;
    bool paused = false;
    bool reading = false;

    std::deque<std::string> outgoing;  // io thread only
    bool writing = false;              // io thread only

    void read() {
        reading = true;
        ws.async_read(buffer, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->onRead(ec);
        });
    }

    void onRead(beast::error_code ec) {
        std::lock_guard lock(mutex);
        reading = false;
        if (ec) {
            close_code = ec == websocket::error::closed ? static_cast<int>(ws.reason().code) : 1006;
            changed.notify_all();
            return;
        }
        messages.push_back(beast::buffers_to_string(buffer.data()));
        buffer.consume(buffer.size());
        changed.notify_all();
        if (!paused) {
            read();
        }
    }

    void write() {
        if (writing || outgoing.empty()) {
            return;
        }
        writing = true;
        ws.text(true);
        ws.async_write(asio::buffer(outgoing.front()),
                       [self = shared_from_this()](beast::error_code, std::size_t) {
                           self->outgoing.pop_front();
                           self->writing = false;
                           self->write();
                       });
    }
};

WebSocketClient::WebSocketClient(unsigned short port, const std::string& target,
                                 WebSocketClientOptions options)
    : state_(std::make_shared<State>()) {
    auto& ws = state_->ws;
    beast::error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    ws.next_layer().open(endpoint.protocol(), ec);
    if (options.receive_buffer > 0) {
        ws.next_layer().set_option(asio::socket_base::receive_buffer_size(options.receive_buffer),
                                   ec);
    }
    ws.next_layer().connect(endpoint, ec);
    if (ec) {
        return;
    }
    ws.set_option(websocket::stream_base::decorator(
        [headers = options.headers](websocket::request_type& request) {
            for (const auto& [name, value] : headers) {
                request.set(name, value);
            }
        }));
    ws.control_callback([state = state_.get()](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::ping) {
            std::lock_guard lock(state->mutex);
            ++state->pings;
        }
    });
    websocket::response_type answer;
    ws.handshake(answer, "127.0.0.1:" + std::to_string(port), target, ec);
    handshake_status_ = static_cast<int>(answer.result_int());
    if (ec) {
        refusal_body_ = answer.body();
        return;
    }
    asio::post(state_->ioc, [state = state_] { state->read(); });
    state_->thread = std::thread([state = state_] { state->ioc.run(); });
}

WebSocketClient::~WebSocketClient() {
    if (state_->thread.joinable()) {
        asio::post(state_->ioc, [state = state_] {
            beast::error_code ignored;
            state->ws.next_layer().close(ignored);
            state->work.reset();
        });
        state_->thread.join();
    }
}

void WebSocketClient::send(const std::string& text) {
    asio::post(state_->ioc, [state = state_, text] {
        state->outgoing.push_back(text);
        state->write();
    });
}

void WebSocketClient::send(const boost::json::object& message) {
    send(boost::json::serialize(message));
}

std::optional<std::string> WebSocketClient::next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(state_->mutex);
    state_->changed.wait_for(
        lock, timeout, [&] { return !state_->messages.empty() || state_->close_code.has_value(); });
    if (state_->messages.empty()) {
        return std::nullopt;
    }
    std::string message = std::move(state_->messages.front());
    state_->messages.pop_front();
    return message;
}

boost::json::object WebSocketClient::nextJson(std::chrono::milliseconds timeout) {
    auto text = next(timeout);
    if (!text) {
        return {};
    }
    boost::json::error_code ec;
    boost::json::value value = boost::json::parse(*text, ec);
    return !ec && value.is_object() ? value.as_object() : boost::json::object{};
}

std::optional<int> WebSocketClient::closeCode(std::chrono::milliseconds timeout) {
    resumeReading();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(state_->mutex);
    while (!state_->close_code && std::chrono::steady_clock::now() < deadline) {
        state_->messages.clear();
        state_->changed.wait_until(lock, deadline);
    }
    return state_->close_code;
}

int WebSocketClient::pingsReceived() const {
    std::lock_guard lock(state_->mutex);
    return state_->pings;
}

void WebSocketClient::pauseReading() {
    std::lock_guard lock(state_->mutex);
    state_->paused = true;
}

void WebSocketClient::resumeReading() {
    asio::post(state_->ioc, [state = state_] {
        std::lock_guard lock(state->mutex);
        state->paused = false;
        if (!state->reading && !state->close_code) {
            state->read();
        }
    });
}

}  // namespace esocore::testing
