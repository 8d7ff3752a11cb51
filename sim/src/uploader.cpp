// The upload side of a device: batches from the offline buffer, and what each answer means.

#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>

#include "sim_device.h"

namespace esocore::sim {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;

std::uint64_t nonNegative(std::int64_t count) {
    return count > 0 ? static_cast<std::uint64_t>(count) : 0;
}

}  // namespace

asio::awaitable<void> SimDevice::uploadBacklog() {
    // Only what was buffered when this upload began goes now; records that arrive meanwhile
    // wait for the next interval, so batches stay full.
    std::size_t budget = buffer_.backlog();
    while (budget > 0 && model_.linkUp() && !run_.abandoned) {
        SealedBatch* batch = buffer_.openBatch(settings_.batch_max, settings_.encoding);
        if (batch == nullptr) {
            break;
        }
        const std::size_t records = batch->record_count;
        if (!co_await uploadOpenBatch(*batch)) {
            co_return;
        }
        budget -= std::min(budget, records);
        if (Clock::now() < not_before_) {
            co_return;
        }
    }
}

asio::awaitable<bool> SimDevice::uploadOpenBatch(SealedBatch& batch) {
    countAttempt(batch);
    HttpReply reply =
        co_await client_.send(batchRequest(credentials_, client_.server().base_path, batch));
    noteTransport(reply.error);
    if (reply.error) {
        batch.maybe_delivered = reply.maybe_delivered;
        deferUploads(std::nullopt);
        co_return false;
    }
    const unsigned status = reply.response.result_int();
    if (status / 100 == 2 && dropThisResponse()) {
        // As if the link died after the server answered: the resend carries the same key and
        // bytes, so the server must replay its answer as a 409 instead of storing twice.
        ++stats_.dropped_responses;
        batch.maybe_delivered = true;
        deferUploads(std::nullopt);
        co_return false;
    }
    const UploadOutcome outcome =
        classifyUpload(status, reply.response.body(), reply.response[http::field::retry_after]);
    switch (outcome.verdict) {
        case UploadVerdict::Acknowledged:
            acknowledge(batch, outcome);
            co_return true;
        case UploadVerdict::Refused:
            refuse(batch, status, outcome);
            co_return true;
        case UploadVerdict::RetryLater:
            break;
    }
    if (status == 401 || status == 403) {
        noteAuthRefused("batch upload", status, reply.response.body());
    }
    spdlog::debug("{}: batch {} answered {} {}; retrying later", identity_.serial,
                  batch.idempotency_key, status, outcome.error_code);
    batch.maybe_delivered = false;
    deferUploads(outcome.server_wait);
    co_return false;
}

void SimDevice::countAttempt(SealedBatch& batch) {
    if (batch.attempts == 0) {
        ++stats_.batches_sent;
    } else if (batch.maybe_delivered) {
        ++stats_.resends;
    } else {
        ++stats_.retries;
    }
    ++batch.attempts;
}

void SimDevice::acknowledge(const SealedBatch& batch, const UploadOutcome& outcome) {
    const BatchCounts& counts = outcome.counts;
    ++stats_.batches_acked;
    stats_.replayed_acks += outcome.replayed ? 1 : 0;
    stats_.records_acked += batch.record_count;
    stats_.points_acked += nonNegative(counts.points);
    stats_.events_acked += nonNegative(counts.events);
    stats_.duplicates += nonNegative(counts.duplicates);
    stats_.rejected += nonNegative(counts.rejected);
    const auto answered = nonNegative(counts.accepted + counts.duplicates + counts.rejected);
    if (answered != batch.record_count) {
        ++stats_.count_mismatches;
        warnOnce(
            run_, "count-mismatch",
            fmt::format("{}: batch {} of {} records answered with counts adding up to {}",
                        identity_.serial, batch.idempotency_key, batch.record_count, answered));
    }
    if (counts.rejected > 0) {
        spdlog::warn("{}: batch {}: server rejected {} of {} records (first code {})",
                     identity_.serial, batch.idempotency_key, counts.rejected, batch.record_count,
                     counts.error_codes.empty() ? "unknown" : counts.error_codes.front());
    }
    spdlog::debug("{}: batch {} acknowledged{}: {} points, {} events, {} duplicates",
                  identity_.serial, batch.idempotency_key, outcome.replayed ? " by replay" : "",
                  counts.points, counts.events, counts.duplicates);
    backoff_.reset();
    if (outcome.server_wait) {
        not_before_ = Clock::now() + serverDelay(*outcome.server_wait, rng_);
    }
    buffer_.closeBatch();
}

void SimDevice::refuse(const SealedBatch& batch, unsigned status, const UploadOutcome& outcome) {
    ++stats_.failed_batches;
    stats_.records_failed += batch.record_count;
    spdlog::warn("{}: batch {} refused with {} {}; dropping its {} records", identity_.serial,
                 batch.idempotency_key, status, outcome.error_code, batch.record_count);
    backoff_.reset();
    buffer_.closeBatch();
}

bool SimDevice::dropThisResponse() {
    return settings_.drop_responses > 0.0 &&
           std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < settings_.drop_responses;
}

}  // namespace esocore::sim
