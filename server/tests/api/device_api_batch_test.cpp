// The batch upload as a whole (DESIGN §5): headers, encodings, limits and idempotency.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <map>
#include <thread>

#include "core/crypto.h"
#include "support/compressed_body.h"
#include "support/device_test.h"
#include "support/process_memory.h"

namespace esocore {
namespace {

namespace json = boost::json;
using testing::BatchOptions;
using testing::DeviceClient;
using testing::HttpResult;
using testing::makePoints;
using testing::RepeatedText;

constexpr std::int64_t kMiB = 1024 * 1024;

// A batch text of about `bytes` that compresses to almost nothing.
RepeatedText largeBatch(std::size_t bytes) {
    std::string record = R"({"ts":"2026-03-02T07:15:00.000Z","series":"temp_ambient","val":18.4},)";
    return RepeatedText{"[", record, bytes / record.size(), R"({"series":"rh","val":1}])"};
}

class DeviceApiBatchTest : public testing::DeviceTest {
protected:
    // Posts a compressed body and checks that the server refused it with `code` and that its
    // memory grew by less than `allowed` on the way.
    void expectRefusedInBoundedMemory(const std::string& body, const std::string& encoding,
                                      const std::string& code, std::int64_t allowed) {
        testing::HttpClient http(server_->baseUrl());
        testing::Headers headers = device_->credentials();
        headers.emplace_back("Idempotency-Key", newUuid());
        headers.emplace_back("Content-Encoding", encoding);
        bool reset = testing::resetPeakResident();
        std::int64_t before = testing::peakResidentBytes();
        HttpResult result = http.post("/api/iot/v1/telemetry/batch", body, headers);
        std::int64_t grown = testing::peakResidentBytes() - before;
        expectRefused(result, 413, code);
#if defined(__SANITIZE_ADDRESS__)
        // The sanitizer's allocator keeps freed memory in quarantine; its figures say nothing.
        (void)reset;
        (void)grown;
        (void)allowed;
#else
        EXPECT_TRUE(reset) << "VmHWM could not be reset; the peak since start is compared";
        EXPECT_LT(grown, allowed) << "peak resident memory grew by " << grown / kMiB << " MiB";
#endif
    }
};

TEST_P(DeviceApiBatchTest, ReplayOfAKeyAnswers409WithTheOriginalCounts) {
    std::string records = R"([{"series":"rh","val":47.1,"ts":"2026-03-02T07:15:00Z"},
                              {"series":"rh","val":47.2,"ts":"2026-03-02T07:15:01Z"},
                              {"series":"rh","val":"wet","ts":"2026-03-02T07:15:02Z"}])";
    BatchOptions options;
    options.idempotency_key = newUuid();
    HttpResult first = device_->batch(records, options);
    ASSERT_EQ(200, first.status) << first.body;

    HttpResult replay = device_->batch(records, options);

    EXPECT_EQ(409, replay.status) << replay.body;
    EXPECT_EQ("duplicate_batch", testing::errorCode(replay));
    json::object original = testing::jsonObject(first);
    json::object answer = testing::jsonObject(replay);
    for (const char* count : {"accepted", "duplicates", "rejected", "points", "events"}) {
        EXPECT_EQ(original.at(count), answer.at(count)) << count;
    }
    EXPECT_EQ(2, answer.at("accepted").as_int64());
    EXPECT_EQ(1, answer.at("rejected").as_int64());
    EXPECT_EQ(original.at("errors"), answer.at("errors"));
    EXPECT_EQ(2, rows_->pointCount(deviceId()));
    EXPECT_EQ(1, rows_->packetCount(deviceId()));
}

TEST_P(DeviceApiBatchTest, ReplayWithAnotherEncodingOfTheSameRecordsIsStillOneBatch) {
    std::string records = makePoints(3);
    BatchOptions options;
    options.idempotency_key = newUuid();
    ASSERT_EQ(200, device_->batch(records, options).status);
    options.encoding = "zstd";

    HttpResult replay = device_->batch(records, options);

    // The ledger keeps the digest of the body as sent, so another encoding is another body.
    EXPECT_EQ(422, replay.status) << replay.body;
    EXPECT_EQ("idempotency_key_reused", testing::errorCode(replay));
    EXPECT_EQ(3, rows_->pointCount(deviceId()));
}

TEST_P(DeviceApiBatchTest, SameKeyWithAnotherBodyIs422AndStoresNothingMore) {
    BatchOptions options;
    options.idempotency_key = newUuid();
    ASSERT_EQ(200, device_->batch(makePoints(2, "rh"), options).status);

    HttpResult reused = device_->batch(makePoints(5, "current_rms"), options);

    EXPECT_EQ(422, reused.status) << reused.body;
    EXPECT_EQ("idempotency_key_reused", testing::errorCode(reused));
    EXPECT_EQ(2, rows_->pointCount(deviceId()));
    EXPECT_EQ(1, rows_->seriesCount(deviceId()));
    EXPECT_EQ(1, rows_->packetCount(deviceId()));
}

TEST_P(DeviceApiBatchTest, KeysAreScopedToTheDevice) {
    DeviceClient other(*server_, server_->createDevice());
    BatchOptions options;
    options.idempotency_key = newUuid();
    ASSERT_EQ(200, device_->batch(makePoints(2), options).status);

    HttpResult result = other.batch(makePoints(2), options);

    EXPECT_EQ(200, result.status) << result.body;
    EXPECT_EQ(2, rows_->pointCount(other.device().id));
}

TEST_P(DeviceApiBatchTest, ConcurrentIdenticalRequestsApplyOnce) {
    constexpr int kClients = 10;
    std::string records = makePoints(200);
    BatchOptions options;
    options.idempotency_key = newUuid();
    std::atomic<int> ready{0};
    std::vector<HttpResult> results(kClients);
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.emplace_back([&, i] {
            DeviceClient device(*server_, device_->device());
            ready.fetch_add(1);
            while (ready.load() < kClients) {
                std::this_thread::yield();
            }
            results[i] = device.batch(records, options);
        });
    }
    for (auto& client : clients) {
        client.join();
    }

    std::map<long, int> statuses;
    for (const auto& result : results) {
        ++statuses[result.status];
        if (result.status == 409) {
            std::string code = testing::errorCode(result);
            EXPECT_TRUE(code == "duplicate_batch" || code == "in_progress") << result.body;
        }
    }
    EXPECT_EQ(1, statuses[200]);
    EXPECT_EQ(kClients - 1, statuses[409]);
    EXPECT_EQ(200, rows_->pointCount(deviceId()));
    EXPECT_EQ(1, rows_->packetCount(deviceId()));
}

TEST_P(DeviceApiBatchTest, GzipBodyInflatingPastTheLimitIs413WithBoundedMemory) {
    start([](Config& c) { c.max_decoded_bytes = kMiB; });
    RepeatedText text = largeBatch(100 * kMiB);
    std::string body = testing::gzipRepeated(text);
    ASSERT_LT(body.size(), static_cast<std::size_t>(kMiB));

    expectRefusedInBoundedMemory(body, "gzip", "decoded_body_too_large", 16 * kMiB);
}

TEST_P(DeviceApiBatchTest, ZstdBodyInflatingPastTheLimitIs413WithBoundedMemory) {
    start([](Config& c) { c.max_decoded_bytes = kMiB; });
    std::string body = testing::zstdRepeated(largeBatch(100 * kMiB));
    ASSERT_LT(body.size(), static_cast<std::size_t>(kMiB));

    expectRefusedInBoundedMemory(body, "zstd", "decoded_body_too_large", 16 * kMiB);
}

TEST_P(DeviceApiBatchTest, DefaultLimitStopsAHundredMebibyteGzipBody) {
    RepeatedText text = largeBatch(100 * kMiB);
    ASSERT_GT(text.size(), static_cast<std::size_t>(server_->app().config().max_decoded_bytes));
    std::string body = testing::gzipRepeated(text);
    ASSERT_LT(body.size(), static_cast<std::size_t>(kMiB));

    // The decoder may hold up to the limit (64 MiB) while it inflates, never the whole text.
    expectRefusedInBoundedMemory(body, "gzip", "decoded_body_too_large",
                                 server_->app().config().max_decoded_bytes + 8 * kMiB);
}

TEST_P(DeviceApiBatchTest, MillionsOfTinyRecordsUnderTheDecodedLimitAreRefusedInBoundedMemory) {
    // 60 MiB of `0,` is within the decoded limit, but as a parsed document it would be 30
    // million values: the record limit has to stop the parser, not wait for it.
    RepeatedText text{"[", "0,", static_cast<std::size_t>(30 * kMiB), "0]"};
    ASSERT_LT(text.size(), static_cast<std::size_t>(server_->app().config().max_decoded_bytes));
    std::string body = testing::gzipRepeated(text);

    expectRefusedInBoundedMemory(body, "gzip", "too_many_records",
                                 server_->app().config().max_decoded_bytes + 8 * kMiB);
}

TEST_P(DeviceApiBatchTest, BodyOfSeveralMebibytesIsAccepted) {
    // Under the 10 MiB body limit, but over the HTTP library's own 1 MiB default.
    std::string meta = R"(,"meta":{"note":")";
    meta.append(3000, 'n').append("\"}}");
    std::string records = "[";
    for (int i = 0; i < 1500; ++i) {
        std::string point = testing::makePoint("rh", testing::recordEpoch() + i * 1'000'000, "1");
        records.append(i > 0 ? "," : "").append(point, 0, point.size() - 1).append(meta);
    }
    records += "]";
    BatchOptions options;
    options.encoding = "identity";
    ASSERT_GT(records.size(), static_cast<std::size_t>(4 * kMiB));

    HttpResult result = device_->batch(records, options);

    ASSERT_EQ(200, result.status) << result.body;
    EXPECT_EQ(1500, testing::jsonObject(result).at("accepted").as_int64());
}

TEST_P(DeviceApiBatchTest, UncompressedBodyPastTheDecodedLimitIs413) {
    start([](Config& c) { c.max_decoded_bytes = 1024; });
    BatchOptions options;
    options.encoding = "identity";

    expectRefused(device_->batch(makePoints(40), options), 413, "decoded_body_too_large");
}

TEST_P(DeviceApiBatchTest, BodyOfExactlyTheDecodedLimitIsAccepted) {
    std::string records = makePoints(3);
    start([&records](Config& c) { c.max_decoded_bytes = static_cast<int>(records.size()); });

    HttpResult result = device_->batch(records);

    EXPECT_EQ(200, result.status) << result.body;
}

TEST_P(DeviceApiBatchTest, UnknownContentEncodingIs415) {
    BatchOptions options;
    options.encoding = "br";

    expectRefused(device_->batch(makePoints(2), options), 415, "unsupported_encoding");
}

TEST_P(DeviceApiBatchTest, ContentEncodingNamesAreCaseInsensitive) {
    std::string body = testing::gzip(makePoints(2));
    testing::HttpClient http(server_->baseUrl());
    testing::Headers headers = device_->credentials();
    headers.emplace_back("Idempotency-Key", newUuid());
    headers.emplace_back("Content-Encoding", "GZip");

    HttpResult result = http.post("/api/iot/v1/telemetry/batch", body, headers);

    EXPECT_EQ(200, result.status) << result.body;
    EXPECT_EQ(2, rows_->pointCount(deviceId()));
}

TEST_P(DeviceApiBatchTest, CorruptGzipIs400) {
    std::string body = testing::gzip(makePoints(20));
    body[body.size() / 2] = static_cast<char>(body[body.size() / 2] ^ 0x55);
    testing::HttpClient http(server_->baseUrl());
    testing::Headers headers = device_->credentials();
    headers.emplace_back("Idempotency-Key", newUuid());
    headers.emplace_back("Content-Encoding", "gzip");

    expectRefused(http.post("/api/iot/v1/telemetry/batch", body, headers), 400, "invalid_encoding");
}

TEST_P(DeviceApiBatchTest, ChecksumMismatchIs400AndStoresNothing) {
    BatchOptions options;
    options.checksum = false;
    options.headers = {{"Content-SHA256", sha256Hex("another body")}};

    expectRefused(device_->batch(makePoints(3), options), 400, "checksum_mismatch");
}

TEST_P(DeviceApiBatchTest, ChecksumOverTheDecodedBodyIsAMismatch) {
    std::string records = makePoints(3);
    BatchOptions options;
    options.checksum = false;
    options.headers = {{"Content-SHA256", sha256Hex(records)}};

    expectRefused(device_->batch(records, options), 400, "checksum_mismatch");
}

TEST_P(DeviceApiBatchTest, ChecksumInUpperCaseHexIsAccepted) {
    std::string records = makePoints(3);
    std::string digest = sha256Hex(testing::gzip(records));
    for (auto& c : digest) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    BatchOptions options;
    options.checksum = false;
    options.headers = {{"Content-SHA256", digest}};

    EXPECT_EQ(200, device_->batch(records, options).status);
}

TEST_P(DeviceApiBatchTest, MissingIdempotencyKeyIs400) {
    BatchOptions options;
    options.idempotency_key = "";

    expectRefused(device_->batch(makePoints(2), options), 400, "missing_idempotency_key");
}

TEST_P(DeviceApiBatchTest, IdempotencyKeyThatIsNotAUuidIs400) {
    BatchOptions options;
    options.idempotency_key = "batch-0001";

    expectRefused(device_->batch(makePoints(2), options), 400, "invalid_idempotency_key");
}

TEST_P(DeviceApiBatchTest, BodyThatIsNotJsonIs400) {
    expectRefused(device_->batch(R"([{"series":"rh","val":1})"), 400, "invalid_json");
}

TEST_P(DeviceApiBatchTest, TrailingTextAfterTheArrayIs400) {
    expectRefused(device_->batch(makePoints(2) + " []"), 400, "invalid_json");
}

TEST_P(DeviceApiBatchTest, EmptyBodyIs400) {
    expectRefused(device_->batch(""), 400, "invalid_json");
}

TEST_P(DeviceApiBatchTest, BodyThatIsNotAnArrayIs400) {
    expectRefused(device_->batch(R"({"series":"rh","val":1})"), 400, "not_an_array");
}

TEST_P(DeviceApiBatchTest, MoreThanTheMaximumRecordsIs413) {
    start([](Config& c) { c.max_records = 5; });

    expectRefused(device_->batch(makePoints(6)), 413, "too_many_records");
    EXPECT_EQ(200, device_->batch(makePoints(5)).status);
}

TEST_P(DeviceApiBatchTest, JsonNestedDeeperThanSixteenIs400) {
    // The array is level 1, the record 2, its meta 3; 13 more levels reach 16.
    auto nested = [](int levels) {
        std::string meta = "1";
        for (int i = 0; i < levels; ++i) {
            meta = R"({"a":)" + meta + "}";
        }
        return R"([{"series":"rh","val":1,"meta":{"deep":)" + meta + "}}]";
    };

    expectRefused(device_->batch(nested(14)), 400, "invalid_json");
    EXPECT_EQ(200, device_->batch(nested(13)).status);
}

TEST_P(DeviceApiBatchTest, ZstdBodyIsAccepted) {
    BatchOptions options;
    options.encoding = "zstd";

    HttpResult result = device_->batch(makePoints(4), options);

    ASSERT_EQ(200, result.status) << result.body;
    EXPECT_EQ(4, testing::jsonObject(result).at("accepted").as_int64());
    EXPECT_EQ(4, rows_->pointCount(deviceId()));
}

TEST_P(DeviceApiBatchTest, UncompressedBodyIsAccepted) {
    BatchOptions options;
    options.encoding = "identity";

    HttpResult result = device_->batch(makePoints(4), options);

    ASSERT_EQ(200, result.status) << result.body;
    EXPECT_EQ(4, rows_->pointCount(deviceId()));
}

TEST_P(DeviceApiBatchTest, GzipMembersSentBackToBackAreOneBody) {
    std::string first = testing::makePoint("rh", testing::recordEpoch(), "40");
    std::string second = testing::makePoint("rh", testing::recordEpoch() + 1'000'000, "41");
    std::string body = testing::gzip("[" + first + ",") + testing::gzip(second + "]");
    testing::HttpClient http(server_->baseUrl());
    testing::Headers headers = device_->credentials();
    headers.emplace_back("Idempotency-Key", newUuid());
    headers.emplace_back("Content-Encoding", "gzip");

    HttpResult result = http.post("/api/iot/v1/telemetry/batch", body, headers);

    ASSERT_EQ(200, result.status) << result.body;
    EXPECT_EQ(2, testing::jsonObject(result).at("accepted").as_int64());
}

TEST_P(DeviceApiBatchTest, EmptyArrayIsAnEmptyBatch) {
    HttpResult result = device_->batch("[]");

    ASSERT_EQ(200, result.status) << result.body;
    json::object answer = testing::jsonObject(result);
    EXPECT_EQ(0, answer.at("accepted").as_int64());
    EXPECT_EQ(0, answer.at("rejected").as_int64());
    EXPECT_TRUE(answer.at("errors").as_array().empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, DeviceApiBatchTest, ::testing::ValuesIn(testing::storeKinds()));

}  // namespace
}  // namespace esocore
