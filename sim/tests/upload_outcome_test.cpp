#include "upload_outcome.h"

#include <gtest/gtest.h>

namespace esocore::sim {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kStoredAnswer =
    R"({"accepted":9,"duplicates":1,"rejected":2,"points":7,"events":2,)"
    R"("errors":[{"index":3,"code":"future_timestamp"},{"index":5,"code":"invalid_value"}]})";

TEST(UploadOutcomeTest, OkIsAcknowledgedWithItsCounts) {
    const UploadOutcome outcome = classifyUpload(200, kStoredAnswer, "");
    EXPECT_EQ(UploadVerdict::Acknowledged, outcome.verdict);
    EXPECT_FALSE(outcome.replayed);
    EXPECT_EQ(9, outcome.counts.accepted);
    EXPECT_EQ(1, outcome.counts.duplicates);
    EXPECT_EQ(2, outcome.counts.rejected);
    EXPECT_EQ(7, outcome.counts.points);
    EXPECT_EQ(2, outcome.counts.events);
    EXPECT_EQ((std::vector<std::string>{"future_timestamp", "invalid_value"}),
              outcome.counts.error_codes);
    EXPECT_EQ(std::nullopt, outcome.server_wait);
}

TEST(UploadOutcomeTest, OkWithBackoffAsksForAPause) {
    const UploadOutcome outcome = classifyUpload(
        200,
        R"({"accepted":1,"points":1,"events":0,"backoff_ms":1500,"next_hint":"backoff_ms: 1500"})",
        "");
    EXPECT_EQ(UploadVerdict::Acknowledged, outcome.verdict);
    EXPECT_EQ(milliseconds{1'500}, outcome.server_wait);
}

TEST(UploadOutcomeTest, UnreadableOkIsStillAcknowledged) {
    const UploadOutcome outcome = classifyUpload(200, "not json", "");
    EXPECT_EQ(UploadVerdict::Acknowledged, outcome.verdict);
    EXPECT_EQ(0, outcome.counts.points);
}

TEST(UploadOutcomeTest, DuplicateBatchIsAcknowledgedWithTheOriginalCounts) {
    const UploadOutcome outcome =
        classifyUpload(409,
                       R"({"error":{"code":"duplicate_batch","message":"already applied"},)"
                       R"("accepted":12,"duplicates":0,"rejected":0,"points":10,"events":2})",
                       "");
    EXPECT_EQ(UploadVerdict::Acknowledged, outcome.verdict);
    EXPECT_TRUE(outcome.replayed);
    EXPECT_EQ(10, outcome.counts.points);
    EXPECT_EQ(2, outcome.counts.events);
    EXPECT_EQ("duplicate_batch", outcome.error_code);
}

TEST(UploadOutcomeTest, InProgressIsRetriedWithTheSameBatch) {
    const UploadOutcome outcome =
        classifyUpload(409, R"({"error":{"code":"in_progress","message":"running"}})", "");
    EXPECT_EQ(UploadVerdict::RetryLater, outcome.verdict);
    EXPECT_EQ(std::nullopt, outcome.server_wait);
    EXPECT_EQ("in_progress", outcome.error_code);
}

TEST(UploadOutcomeTest, TooManyRequestsWaitsForRetryAfter) {
    const UploadOutcome outcome =
        classifyUpload(429, R"({"error":{"code":"rate_limited","message":"slow down"}})", "7");
    EXPECT_EQ(UploadVerdict::RetryLater, outcome.verdict);
    EXPECT_EQ(milliseconds{7'000}, outcome.server_wait);
    EXPECT_EQ("rate_limited", outcome.error_code);
}

TEST(UploadOutcomeTest, MaintenanceWaitsForRetryAfter) {
    const UploadOutcome outcome =
        classifyUpload(503, R"({"error":{"code":"maintenance","message":"later"}})", "30");
    EXPECT_EQ(UploadVerdict::RetryLater, outcome.verdict);
    EXPECT_EQ(milliseconds{30'000}, outcome.server_wait);
}

TEST(UploadOutcomeTest, ServerErrorsBackOffExponentially) {
    for (const unsigned status : {500U, 502U, 504U}) {
        const UploadOutcome outcome = classifyUpload(status, "", "");
        EXPECT_EQ(UploadVerdict::RetryLater, outcome.verdict) << status;
        EXPECT_EQ(std::nullopt, outcome.server_wait) << status;
    }
}

TEST(UploadOutcomeTest, UnauthenticatedDevicesKeepTheirData) {
    EXPECT_EQ(UploadVerdict::RetryLater, classifyUpload(401, "", "").verdict);
    EXPECT_EQ(UploadVerdict::RetryLater, classifyUpload(403, "", "").verdict);
}

TEST(UploadOutcomeTest, BadBatchesAreRefusedWithTheirCode) {
    for (const unsigned status : {400U, 413U, 415U, 422U}) {
        const UploadOutcome outcome =
            classifyUpload(status, R"({"error":{"code":"some_code","message":"no"}})", "");
        EXPECT_EQ(UploadVerdict::Refused, outcome.verdict) << status;
        EXPECT_EQ("some_code", outcome.error_code) << status;
    }
}

TEST(UploadOutcomeTest, UnknownConflictIsRefused) {
    EXPECT_EQ(UploadVerdict::Refused,
              classifyUpload(409, R"({"error":{"code":"other","message":"?"}})", "").verdict);
}

TEST(UploadOutcomeTest, ErrorCodeIsEmptyForOtherBodies) {
    EXPECT_EQ("", errorCode(""));
    EXPECT_EQ("", errorCode("[]"));
    EXPECT_EQ("", errorCode(R"({"error":"flat"})"));
    EXPECT_EQ("x", errorCode(R"({"error":{"code":"x"}})"));
}

}  // namespace
}  // namespace esocore::sim
