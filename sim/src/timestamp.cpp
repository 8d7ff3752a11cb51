#include "timestamp.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace esocore::sim {

std::int64_t wallClockMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string formatRfc3339Ms(std::int64_t epoch_ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> at{milliseconds{epoch_ms}};
    const auto whole_seconds = floor<seconds>(at);
    const auto millis = (at - whole_seconds).count();
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", whole_seconds, millis);
}

}  // namespace esocore::sim
