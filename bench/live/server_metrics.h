#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace esocore::bench {

/// How long the server's WebSocket messages waited between being queued and written out
/// (esocore_ws_send_wait_seconds): messages in all, and how many waited at most each bound.
struct SendWait {
    std::uint64_t count = 0;
    std::map<double, std::uint64_t> at_most;  // bound in seconds -> messages
};

/// Reads the server's /metrics; nothing when it cannot.
std::optional<SendWait> readSendWait(std::uint16_t port);

}  // namespace esocore::bench
