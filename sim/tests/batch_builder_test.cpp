#include "batch_builder.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <regex>
#include <set>
#include <vector>

#include "fake_device_api.h"

namespace esocore::sim {
namespace {

std::vector<std::string> makeRecords(int count) {
    std::vector<std::string> records;
    for (int i = 0; i < count; ++i) {
        records.push_back(R"({"series":"current_rms","val":)" + std::to_string(i) + "}");
    }
    return records;
}

TEST(BatchBuilderTest, JoinsRecordsIntoOneArray) {
    EXPECT_EQ("[]", jsonArray({}));
    const std::vector<std::string> records{R"({"a":1})", R"({"b":2})"};
    EXPECT_EQ(R"([{"a":1},{"b":2}])", jsonArray(records));
}

TEST(BatchBuilderTest, GzipRoundTripsWithAGzipHeader) {
    const std::string text = jsonArray(makeRecords(500));
    const std::string compressed = gzipCompress(text);
    ASSERT_GE(compressed.size(), 2U);
    EXPECT_EQ('\x1f', compressed[0]);
    EXPECT_EQ('\x8b', compressed[1]);
    EXPECT_LT(compressed.size(), text.size());
    EXPECT_EQ(text, testing::gunzip(compressed));
}

TEST(BatchBuilderTest, ZstdRoundTrips) {
    const std::string text = jsonArray(makeRecords(500));
    const std::string compressed = zstdCompress(text);
    EXPECT_LT(compressed.size(), text.size());
    EXPECT_EQ(text, testing::unzstd(compressed));
}

TEST(BatchBuilderTest, EmptyInputStillCompresses) {
    EXPECT_EQ("", testing::gunzip(gzipCompress("")));
    EXPECT_EQ("", testing::unzstd(zstdCompress("")));
}

TEST(BatchBuilderTest, Sha256MatchesTheStandardVector) {
    EXPECT_EQ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", sha256Hex("abc"));
    EXPECT_EQ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sha256Hex(""));
}

TEST(BatchBuilderTest, IdempotencyKeysAreDistinctVersion4Uuids) {
    const std::regex uuid_v4(
        "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::set<std::string> keys;
    for (int i = 0; i < 1000; ++i) {
        const std::string key = newIdempotencyKey();
        EXPECT_TRUE(std::regex_match(key, uuid_v4)) << key;
        keys.insert(key);
    }
    EXPECT_EQ(1000U, keys.size());
}

TEST(BatchBuilderTest, SealedBatchHashesTheBytesAsSent) {
    for (const Encoding encoding : {Encoding::Gzip, Encoding::Zstd}) {
        const SealedBatch batch = sealBatch(makeRecords(10), encoding);
        EXPECT_EQ(sha256Hex(batch.body), batch.body_sha256);
        EXPECT_EQ(10U, batch.record_count);
        EXPECT_EQ(encoding, batch.encoding);
        EXPECT_EQ(0, batch.attempts);
        const auto json =
            encoding == Encoding::Gzip ? testing::gunzip(batch.body) : testing::unzstd(batch.body);
        ASSERT_TRUE(json.has_value());
        EXPECT_EQ(10U, boost::json::parse(*json).as_array().size());
    }
}

TEST(BatchBuilderTest, EncodingNamesAreContentEncodingTokens) {
    EXPECT_EQ("gzip", encodingName(Encoding::Gzip));
    EXPECT_EQ("zstd", encodingName(Encoding::Zstd));
}

}  // namespace
}  // namespace esocore::sim
