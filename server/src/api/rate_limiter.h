#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace esocore::api {

/// A token bucket per key (a device id): `rate` requests a second, bursts up to `burst`.
class RateLimiter {
public:
    RateLimiter(double rate, int burst) : rate_(rate), burst_(burst) {}

    /// Zero when the request may go ahead, else the seconds to wait before retrying.
    int take(const std::string& key, Micros now);

private:
    struct Bucket {
        double tokens;
        Micros updated;
    };
    double rate_;
    int burst_;
    std::mutex mutex_;
    std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace esocore::api
