#include "upload_outcome.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "backoff.h"

namespace esocore::sim {
namespace {

std::int64_t countField(const boost::json::object& object, std::string_view name) {
    const boost::json::value* field = object.if_contains(name);
    if (field == nullptr) {
        return 0;
    }
    boost::system::error_code error;
    const auto count = field->to_number<std::int64_t>(error);
    return error ? 0 : count;
}

std::optional<boost::json::object> parseObject(std::string_view body) {
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(body, error);
    if (error || !value.is_object()) {
        return std::nullopt;
    }
    return std::move(value.as_object());
}

BatchCounts parseCounts(const boost::json::object& answer) {
    BatchCounts counts;
    counts.accepted = countField(answer, "accepted");
    counts.duplicates = countField(answer, "duplicates");
    counts.rejected = countField(answer, "rejected");
    counts.points = countField(answer, "points");
    counts.events = countField(answer, "events");
    if (const auto* errors = answer.if_contains("errors"); errors && errors->is_array()) {
        for (const auto& entry : errors->as_array()) {
            const auto* code = entry.is_object() ? entry.as_object().if_contains("code") : nullptr;
            if (code != nullptr && code->is_string()) {
                counts.error_codes.emplace_back(code->as_string());
            }
        }
    }
    return counts;
}

UploadOutcome acknowledged(std::string_view body) {
    UploadOutcome outcome;
    outcome.verdict = UploadVerdict::Acknowledged;
    // A 2xx means the records are committed even if the answer cannot be read.
    if (const auto answer = parseObject(body)) {
        outcome.counts = parseCounts(*answer);
        const std::int64_t backoff_ms = countField(*answer, "backoff_ms");
        if (backoff_ms > 0) {
            outcome.server_wait = std::chrono::milliseconds{backoff_ms};
        }
    }
    return outcome;
}

UploadOutcome retryLater(std::string_view retry_after) {
    UploadOutcome outcome;
    outcome.verdict = UploadVerdict::RetryLater;
    if (const auto seconds = parseRetryAfter(retry_after)) {
        outcome.server_wait = *seconds;
    }
    return outcome;
}

UploadOutcome conflict(std::string_view body, std::string_view retry_after) {
    const std::string code = errorCode(body);
    UploadOutcome outcome;
    if (code == "duplicate_batch") {
        outcome = acknowledged(body);
        outcome.replayed = true;
        outcome.server_wait.reset();
    } else if (code == "in_progress") {
        outcome = retryLater(retry_after);
    }
    outcome.error_code = code;
    return outcome;
}

}  // namespace

std::string errorCode(std::string_view body) {
    const auto answer = parseObject(body);
    const auto* error = answer ? answer->if_contains("error") : nullptr;
    const auto* code =
        error && error->is_object() ? error->as_object().if_contains("code") : nullptr;
    return code != nullptr && code->is_string() ? std::string(code->as_string()) : std::string();
}

bool isTransientStatus(unsigned status) {
    // Retrying 401/403 keeps a device's data buffered while it waits to be claimed or for its
    // new key, instead of throwing it away.
    return status == 401 || status == 403 || status == 408 || status == 429 || status >= 500;
}

UploadOutcome classifyUpload(unsigned status, std::string_view body, std::string_view retry_after) {
    if (status >= 200 && status < 300) {
        return acknowledged(body);
    }
    if (status == 409) {
        return conflict(body, retry_after);
    }
    UploadOutcome outcome;
    if (isTransientStatus(status)) {
        outcome = retryLater(retry_after);
    }
    outcome.error_code = errorCode(body);
    return outcome;
}

}  // namespace esocore::sim
