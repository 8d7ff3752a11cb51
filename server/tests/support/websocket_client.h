#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "support/http_client.h"

namespace esocore::testing {

/// How a test WebSocket connects.
struct WebSocketClientOptions {
    Headers headers;         // sent with the upgrade request (Cookie, Authorization, Origin)
    int receive_buffer = 0;  // SO_RCVBUF before connecting; 0 keeps the system's
};

/// A real WebSocket client (Beast) for tests: it reads on its own thread into a queue, so a
/// test waits for the next message with a timeout and the connection stays usable after one.
/// Reading can be paused to play a client that stops reading.
class WebSocketClient {
public:
    WebSocketClient(unsigned short port, const std::string& target,
                    WebSocketClientOptions options = {});
    ~WebSocketClient();
    WebSocketClient(const WebSocketClient&) = delete;
    WebSocketClient& operator=(const WebSocketClient&) = delete;

    /// 101 when the upgrade succeeded; else the HTTP status that refused it (0: no answer).
    int handshakeStatus() const { return handshake_status_; }
    /// The body of a refused upgrade.
    const std::string& refusalBody() const { return refusal_body_; }

    void send(const std::string& text);
    void send(const boost::json::object& message);

    /// The next text message, or nothing when none arrives within `timeout`.
    std::optional<std::string> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// The next message parsed; an empty object when none arrives or it is not one.
    boost::json::object nextJson(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /// Waits until the server closed the connection: its close code (1006 when the
    /// connection ended without a close frame), or nothing within `timeout`. Messages still
    /// queued are discarded.
    std::optional<int> closeCode(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /// Pings received from the server so far.
    int pingsReceived() const;

    /// Stops taking data off the socket (the server's writes back up), or resumes.
    void pauseReading();
    void resumeReading();

private:
    struct State;
    std::shared_ptr<State> state_;
    int handshake_status_ = 0;
    std::string refusal_body_;
};

}  // namespace esocore::testing
