#include "backoff.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace esocore::sim {

std::chrono::milliseconds Backoff::next(std::mt19937_64& rng) {
    const double cap_ms = static_cast<double>(policy_.cap.count());
    const double raw_ms = static_cast<double>(policy_.base.count()) *
                          std::pow(policy_.factor, static_cast<double>(failures_));
    ++failures_;
    std::uniform_real_distribution<double> spread(1.0 - policy_.jitter, 1.0 + policy_.jitter);
    const double jittered_ms = std::min(raw_ms, cap_ms) * spread(rng);
    return std::chrono::milliseconds{std::llround(std::min(jittered_ms, cap_ms))};
}

std::chrono::milliseconds serverDelay(std::chrono::milliseconds asked, std::mt19937_64& rng) {
    const std::int64_t spread_ms = std::max<std::int64_t>(asked.count() / 4, 250);
    const std::int64_t extra_ms = std::uniform_int_distribution<std::int64_t>(0, spread_ms)(rng);
    return std::max(asked, std::chrono::milliseconds{0}) + std::chrono::milliseconds{extra_ms};
}

std::optional<std::chrono::seconds> parseRetryAfter(std::string_view header) {
    while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) {
        header.remove_prefix(1);
    }
    while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) {
        header.remove_suffix(1);
    }
    std::int64_t seconds = 0;
    const auto [end, error] =
        std::from_chars(header.data(), header.data() + header.size(), seconds);
    if (header.empty() || error != std::errc{} || end != header.data() + header.size() ||
        seconds < 0) {
        return std::nullopt;
    }
    return std::chrono::seconds{seconds};
}

}  // namespace esocore::sim
