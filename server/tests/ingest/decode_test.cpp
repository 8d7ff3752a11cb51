#include "ingest/decode.h"

#include <gtest/gtest.h>

#include <string>

#include "support/compressed_body.h"
#include "support/http_client.h"

namespace esocore::ingest {
namespace {

constexpr std::size_t kLimit = 64 * 1024 * 1024;

class DecodeTest : public ::testing::Test {
protected:
    // Text that compresses, but not to nothing: some variety in every line.
    static std::string records(int count) {
        std::string text = "[";
        for (int i = 0; i < count; ++i) {
            text += R"({"series":"rh","val":)" + std::to_string(i * 7 % 1000) + "},";
        }
        return text + "{}]";
    }

    static std::string errorCode(std::string_view body, Encoding encoding, std::size_t limit) {
        auto decoded = decodeBody(body, encoding, limit);
        return decoded ? std::string() : decoded.error().code;
    }
};

TEST_F(DecodeTest, ReadsContentEncodingNames) {
    EXPECT_EQ(Encoding::identity, parseEncoding(""));
    EXPECT_EQ(Encoding::identity, parseEncoding("identity"));
    EXPECT_EQ(Encoding::gzip, parseEncoding("gzip"));
    EXPECT_EQ(Encoding::gzip, parseEncoding("x-gzip"));
    EXPECT_EQ(Encoding::gzip, parseEncoding("GZIP"));
    EXPECT_EQ(Encoding::zstd, parseEncoding("zstd"));
    EXPECT_EQ(Encoding::zstd, parseEncoding("Zstd"));
    EXPECT_FALSE(parseEncoding("br").has_value());
    EXPECT_FALSE(parseEncoding("deflate").has_value());
    EXPECT_FALSE(parseEncoding("gzip, br").has_value());
}

TEST_F(DecodeTest, PassesIdentityBodiesThrough) {
    auto decoded = decodeBody("[1,2]", Encoding::identity, kLimit);

    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ("[1,2]", *decoded);
}

TEST_F(DecodeTest, InflatesGzip) {
    std::string text = records(50'000);

    auto decoded = decodeBody(testing::gzip(text), Encoding::gzip, kLimit);

    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(text, *decoded);
}

TEST_F(DecodeTest, DecompressesZstd) {
    std::string text = records(50'000);

    auto decoded = decodeBody(testing::zstd(text), Encoding::zstd, kLimit);

    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(text, *decoded);
}

TEST_F(DecodeTest, DecodesEmptyText) {
    EXPECT_EQ("", *decodeBody(testing::gzip(""), Encoding::gzip, kLimit));
    EXPECT_EQ("", *decodeBody(testing::zstd(""), Encoding::zstd, kLimit));
}

TEST_F(DecodeTest, AcceptsExactlyTheLimitAtEverySize) {
    std::string text = records(30);
    std::string gzipped = testing::gzip(text);
    std::string zstded = testing::zstd(text);
    for (std::size_t size : {text.size() - 1, text.size(), text.size() + 1}) {
        bool fits = size >= text.size();
        for (auto [body, encoding] : {std::pair{std::string_view(text), Encoding::identity},
                                      std::pair{std::string_view(gzipped), Encoding::gzip},
                                      std::pair{std::string_view(zstded), Encoding::zstd}}) {
            EXPECT_EQ(fits ? "" : "decoded_body_too_large", errorCode(body, encoding, size))
                << "limit " << size << ", encoding " << static_cast<int>(encoding);
        }
    }
}

TEST_F(DecodeTest, StopsAtTheLimitAcrossChunkBoundaries) {
    // Limits around the decoder's internal chunk size (256 KiB) and its multiples.
    std::string text = records(100'000);
    ASSERT_GT(text.size(), 1'100'000u);
    std::string gzipped = testing::gzip(text);
    std::string zstded = testing::zstd(text);
    for (std::size_t limit : {262'143u, 262'144u, 262'145u, 524'288u, 1'048'577u}) {
        EXPECT_EQ("decoded_body_too_large", errorCode(gzipped, Encoding::gzip, limit)) << limit;
        EXPECT_EQ("decoded_body_too_large", errorCode(zstded, Encoding::zstd, limit)) << limit;
    }
}

TEST_F(DecodeTest, StopsABombAtTheLimit) {
    testing::RepeatedText bomb{"[", std::string(1024, ' '), 64 * 1024, "]"};  // 64 MiB
    std::string gzipped = testing::gzipRepeated(bomb);
    std::string zstded = testing::zstdRepeated(bomb);
    ASSERT_LT(gzipped.size(), 1024u * 1024u);

    EXPECT_EQ("decoded_body_too_large", errorCode(gzipped, Encoding::gzip, 1024 * 1024));
    EXPECT_EQ("decoded_body_too_large", errorCode(zstded, Encoding::zstd, 1024 * 1024));
}

TEST_F(DecodeTest, RefusesEveryTruncatedGzipBody) {
    std::string gzipped = testing::gzip(records(200));
    for (std::size_t size = 0; size < gzipped.size(); ++size) {
        EXPECT_EQ("invalid_encoding", errorCode(gzipped.substr(0, size), Encoding::gzip, kLimit))
            << "first " << size << " of " << gzipped.size() << " bytes";
    }
}

TEST_F(DecodeTest, RefusesEveryTruncatedZstdBody) {
    std::string zstded = testing::zstd(records(200));
    for (std::size_t size = 0; size < zstded.size(); ++size) {
        EXPECT_EQ("invalid_encoding", errorCode(zstded.substr(0, size), Encoding::zstd, kLimit))
            << "first " << size << " of " << zstded.size() << " bytes";
    }
}

TEST_F(DecodeTest, JoinsGzipMembersSplitAtAnyByte) {
    std::string text = records(40);
    for (std::size_t split = 0; split <= text.size(); split += 7) {
        std::string body = testing::gzip(text.substr(0, split)) + testing::gzip(text.substr(split));

        auto decoded = decodeBody(body, Encoding::gzip, kLimit);

        ASSERT_TRUE(decoded.ok()) << "split at " << split << ": " << decoded.error().message;
        EXPECT_EQ(text, *decoded) << "split at " << split;
    }
}

TEST_F(DecodeTest, JoinsZstdFramesSplitAtAnyByte) {
    std::string text = records(40);
    for (std::size_t split = 0; split <= text.size(); split += 7) {
        std::string body = testing::zstd(text.substr(0, split)) + testing::zstd(text.substr(split));

        auto decoded = decodeBody(body, Encoding::zstd, kLimit);

        ASSERT_TRUE(decoded.ok()) << "split at " << split << ": " << decoded.error().message;
        EXPECT_EQ(text, *decoded) << "split at " << split;
    }
}

TEST_F(DecodeTest, LimitCoversAllGzipMembersTogether) {
    std::string half = records(100);
    std::string body = testing::gzip(half) + testing::gzip(half);

    EXPECT_EQ("", errorCode(body, Encoding::gzip, 2 * half.size()));
    EXPECT_EQ("decoded_body_too_large", errorCode(body, Encoding::gzip, 2 * half.size() - 1));
}

TEST_F(DecodeTest, RefusesGarbageAfterTheGzipStream) {
    std::string body = testing::gzip(records(10)) + "trailing";

    EXPECT_EQ("invalid_encoding", errorCode(body, Encoding::gzip, kLimit));
}

TEST_F(DecodeTest, RefusesBodiesThatAreNotCompressed) {
    EXPECT_EQ("invalid_encoding", errorCode(records(10), Encoding::gzip, kLimit));
    EXPECT_EQ("invalid_encoding", errorCode(records(10), Encoding::zstd, kLimit));
}

TEST_F(DecodeTest, RefusesACorruptedGzipChecksum) {
    std::string body = testing::gzip(records(10));
    body[body.size() - 5] = static_cast<char>(body[body.size() - 5] ^ 1);  // CRC-32 trailer

    EXPECT_EQ("invalid_encoding", errorCode(body, Encoding::gzip, kLimit));
}

}  // namespace
}  // namespace esocore::ingest
