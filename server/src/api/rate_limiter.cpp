#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace esocore::api {

int RateLimiter::take(const std::string& key, Micros now) {
    if (rate_ <= 0) {
        return 0;
    }
    std::lock_guard lock(mutex_);
    auto [it, inserted] = buckets_.try_emplace(key, Bucket{double(burst_), now});
    Bucket& bucket = it->second;
    double elapsed = static_cast<double>(now - bucket.updated) / 1e6;
    bucket.tokens = std::min(double(burst_), bucket.tokens + elapsed * rate_);
    bucket.updated = now;
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return 0;
    }
    return std::max(1, static_cast<int>(std::ceil((1.0 - bucket.tokens) / rate_)));
}

}  // namespace esocore::api
