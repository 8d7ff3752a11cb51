#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "http/router.h"

namespace esocore::http {

struct ServerOptions {
    std::string listen = "127.0.0.1:8000";  // host:port; port 0 picks a free port
    int threads = 2;
    std::chrono::seconds idle_timeout{60};
    std::chrono::seconds drain_timeout{30};
    std::string server_name = "esocore";
};

/// The HTTP/1.1 server: Beast and Asio live behind this class.
class Server {
public:
    Server(ServerOptions options, const Router& router);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and listens; returns the bound port. Throws when the address cannot be used.
    unsigned short bind();

    /// Serves until stop() or, when enabled, SIGINT/SIGTERM; then stops accepting, lets the
    /// requests in flight finish (bounded by drain_timeout) and returns.
    void run(bool handle_signals);

    /// Starts the graceful stop; callable from any thread, also before run().
    void stop();

    /// Called once when stopping begins, before the drain (from a server thread).
    void onStopping(std::function<void()> callback);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace esocore::http
