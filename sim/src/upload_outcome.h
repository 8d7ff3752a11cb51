#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esocore::sim {

/// The counts a batch answer (200, or 409 replaying the original answer) carries.
struct BatchCounts {
    std::int64_t accepted = 0;
    std::int64_t duplicates = 0;
    std::int64_t rejected = 0;
    std::int64_t points = 0;
    std::int64_t events = 0;
    std::vector<std::string> error_codes;  // per-record error codes, as listed by the server
};

enum class UploadVerdict {
    Acknowledged,  // stored (200) or already stored (409 duplicate_batch): forget the batch
    RetryLater,    // send the same batch again, after `server_wait` or a backoff
    Refused,       // the server will never take this batch: drop it and count it as failed
};

struct UploadOutcome {
    UploadVerdict verdict = UploadVerdict::Refused;
    BatchCounts counts;
    bool replayed = false;  // a 409 that replays the answer to an earlier attempt
    std::optional<std::chrono::milliseconds> server_wait;  // Retry-After, or backoff_ms on a 200
    std::string error_code;                                // `error.code` of an error answer
};

/// Decides what a device does with the answer to a batch upload.
UploadOutcome classifyUpload(unsigned status, std::string_view body, std::string_view retry_after);

/// Whether a status means "the same request may succeed later": 401/403 (a device not yet
/// claimed, or a key being rotated), 408, 429 and every 5xx.
bool isTransientStatus(unsigned status);

/// The `error.code` of an error answer, or an empty string.
std::string errorCode(std::string_view body);

}  // namespace esocore::sim
