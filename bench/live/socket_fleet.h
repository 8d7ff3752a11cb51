#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace esocore::bench {

using Clock = std::chrono::steady_clock;

/// One telemetry message as a client received it: which uploading device and batch it came
/// from (the batch number travels as the reading's value) and when it arrived.
struct Receipt {
    std::uint32_t device;
    std::uint32_t batch;
    Clock::time_point at;
};

struct FleetSettings {
    std::uint16_t port = 0;    // on 127.0.0.1
    std::string access_token;  // sent as Authorization: Bearer
    std::uint32_t clients = 1000;
    std::uint32_t connecting_at_once = 64;
    std::chrono::seconds connect_timeout{120};
};

/// Many WebSocket clients of /ws multiplexed on one thread, so that they take as little CPU
/// from the server as one process can. Client i subscribes to the telemetry of uploading
/// device i % devices.
class SocketFleet {
public:
    /// `device_ids[d]` is the UUID of uploading device d.
    SocketFleet(FleetSettings settings, std::vector<std::string> device_ids);
    ~SocketFleet();
    SocketFleet(const SocketFleet&) = delete;
    SocketFleet& operator=(const SocketFleet&) = delete;

    /// Connects every client and waits until each one's subscription is confirmed. Throws when
    /// that does not happen within the connect timeout.
    void connect();

    /// Closes every connection and stops the thread; receipts() is complete afterwards.
    void stop();

    const std::vector<Receipt>& receipts() const;
    /// Connections that ended before stop(), e.g. closed by the server.
    std::size_t lost() const;
    /// Subscribers per uploading device.
    std::uint32_t subscribersOf(std::uint32_t device) const;

private:
    struct State;
    std::shared_ptr<State> state_;
    std::thread thread_;
};

}  // namespace esocore::bench
