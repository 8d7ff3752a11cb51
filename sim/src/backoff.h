#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string_view>

namespace esocore::sim {

struct BackoffPolicy {
    std::chrono::milliseconds base{500};
    double factor = 2.0;
    std::chrono::milliseconds cap{30'000};
    double jitter = 0.25;  // each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
};

/// Exponential backoff with jitter for retries the server did not time itself
/// (5xx, connection errors, lost responses).
class Backoff {
public:
    explicit Backoff(BackoffPolicy policy = {}) : policy_(policy) {}

    /// The delay before the next retry; each call counts one more consecutive failure. Never
    /// above the cap, even after jitter.
    std::chrono::milliseconds next(std::mt19937_64& rng);

    /// Called after a success so the next failure starts from the base delay again.
    void reset() { failures_ = 0; }

    int failures() const { return failures_; }

private:
    BackoffPolicy policy_;
    int failures_ = 0;
};

/// The delay to honour when the server named one (Retry-After, backoff_ms): at least that long,
/// plus up to a quarter more (at least 250 ms of spread) so a fleet told the same number does
/// not come back in lockstep.
std::chrono::milliseconds serverDelay(std::chrono::milliseconds asked, std::mt19937_64& rng);

/// Parses a `Retry-After` header given in seconds. The HTTP-date form, which the device API
/// does not use, and anything malformed give nullopt.
std::optional<std::chrono::seconds> parseRetryAfter(std::string_view header);

}  // namespace esocore::sim
