#pragma once

// WebSocket connections as the application sees them: no Beast or Asio types, so that the
// live-update module compiles without them. The server (http/server.cpp) implements
// WebSocket; the application implements WebSocketSession and hands one out per upgrade.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "http/message.h"

namespace esocore::http {

/// Close codes the server sends (RFC 6455 §7.4; 4000-4999 are the application's).
namespace close_code {
inline constexpr int going_away = 1001;        // the server is stopping
inline constexpr int unsupported_data = 1003;  // a binary message; the protocol is text
inline constexpr int unauthorized = 4401;      // the session, token or ticket's login ended
inline constexpr int slow_consumer = 4008;     // the send queue overflowed
}  // namespace close_code

struct CloseReason {
    int code = close_code::going_away;
    std::string reason;
};

/// Limits of one WebSocket route.
struct WebSocketOptions {
    /// How often the server pings; the session's onPing runs just before each ping.
    std::chrono::milliseconds ping_interval{30'000};
    /// The send queue of one connection. Passing either limit closes that connection with
    /// 4008 and frees its queue: a slow client never grows the server.
    std::size_t max_queue_messages = 1024;
    std::size_t max_queue_bytes = 1024 * 1024;
    /// The largest message a client may send; a larger one closes with 1009.
    std::size_t max_message_bytes = 16 * 1024;
};

/// The server's side of an open connection. Every method is safe from any thread.
class WebSocket {
public:
    virtual ~WebSocket() = default;

    /// Queues a text message, shared rather than copied. False when it was refused: the
    /// connection is closing, or the message would pass the queue's limits, in which case
    /// the connection closes with 4008.
    virtual bool send(std::shared_ptr<const std::string> text) = 0;

    /// Closes with `code` once the message being written is out; queued messages are dropped.
    virtual void close(CloseReason reason) = 0;
};

/// The application's side of one connection. The server calls these methods one at a time,
/// never concurrently, from its own threads.
class WebSocketSession {
public:
    virtual ~WebSocketSession() = default;

    /// The handshake is done; `socket` may be used until onClose returns.
    virtual void onOpen(std::shared_ptr<WebSocket> socket) = 0;

    /// A text message from the client.
    virtual void onText(std::string_view text) = 0;

    /// Runs before each ping: a reason when the connection must end (e.g. its login
    /// expired), else nothing.
    virtual std::optional<CloseReason> onPing() = 0;

    /// The connection is gone; nothing is called after this.
    virtual void onClose() = 0;
};

/// Decides an upgrade request: the session that serves the connection, or the HTTP answer
/// that refuses it (401, 403, ...).
using WebSocketAccept =
    std::function<std::variant<Response, std::shared_ptr<WebSocketSession>>(const Request&)>;

/// What makes a GET route a WebSocket endpoint: requests that ask for the upgrade go to
/// `accept`; other requests go to the route's ordinary handler.
struct WebSocketRoute {
    WebSocketAccept accept;
    WebSocketOptions options;
};

}  // namespace esocore::http
