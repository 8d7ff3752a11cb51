#include "offline_buffer.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "fake_device_api.h"

namespace esocore::sim {
namespace {

class OfflineBufferTest : public ::testing::Test {
protected:
    void pushRange(int first, int count) {
        for (int i = first; i < first + count; ++i) {
            buffer_.push(std::to_string(i));
        }
    }

    // The record values a batch carries, decompressed from its wire bytes.
    static std::vector<std::int64_t> valuesIn(const SealedBatch& batch) {
        std::vector<std::int64_t> values;
        const boost::json::value records = boost::json::parse(*testing::gunzip(batch.body));
        for (const auto& value : records.as_array()) {
            values.push_back(value.as_int64());
        }
        return values;
    }

    OfflineBuffer buffer_{100};
};

TEST_F(OfflineBufferTest, EmptyBufferHasNoBatch) {
    EXPECT_EQ(nullptr, buffer_.openBatch(10, Encoding::Gzip));
    EXPECT_EQ(0U, buffer_.backlog());
}

TEST_F(OfflineBufferTest, SealsAtMostBatchMaxOldestFirst) {
    pushRange(0, 25);
    const SealedBatch* batch = buffer_.openBatch(10, Encoding::Gzip);
    ASSERT_NE(nullptr, batch);
    EXPECT_EQ(10U, batch->record_count);
    EXPECT_EQ((std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), valuesIn(*batch));
    EXPECT_EQ(15U, buffer_.queued());
    EXPECT_EQ(25U, buffer_.backlog());
}

TEST_F(OfflineBufferTest, UnacknowledgedBatchIsResentWithSameKeyAndBytes) {
    pushRange(0, 5);
    const SealedBatch first = *buffer_.openBatch(10, Encoding::Gzip);
    pushRange(5, 5);
    const SealedBatch* again = buffer_.openBatch(10, Encoding::Gzip);
    EXPECT_EQ(first.idempotency_key, again->idempotency_key);
    EXPECT_EQ(first.body, again->body);
    EXPECT_EQ(5U, again->record_count);
}

TEST_F(OfflineBufferTest, ClosingABatchMovesOnToTheNextRecords) {
    pushRange(0, 15);
    const std::string first_key = buffer_.openBatch(10, Encoding::Gzip)->idempotency_key;
    EXPECT_EQ(10U, buffer_.closeBatch());
    const SealedBatch* next = buffer_.openBatch(10, Encoding::Gzip);
    ASSERT_NE(nullptr, next);
    EXPECT_NE(first_key, next->idempotency_key);
    EXPECT_EQ((std::vector<std::int64_t>{10, 11, 12, 13, 14}), valuesIn(*next));
    EXPECT_EQ(5U, buffer_.closeBatch());
    EXPECT_EQ(0U, buffer_.backlog());
    EXPECT_EQ(nullptr, buffer_.currentBatch());
}

TEST_F(OfflineBufferTest, FullBufferDropsOldestQueuedButNeverTheOpenBatch) {
    OfflineBuffer small(10);
    for (int i = 0; i < 10; ++i) {
        EXPECT_FALSE(small.push(std::to_string(i)));
    }
    const std::string open_body = small.openBatch(4, Encoding::Gzip)->body;
    EXPECT_TRUE(small.push("10"));
    EXPECT_TRUE(small.push("11"));
    EXPECT_EQ(2U, small.droppedRecords());
    EXPECT_EQ(10U, small.backlog());
    EXPECT_EQ(open_body, small.currentBatch()->body);
    small.closeBatch();
    buffer_ = std::move(small);
    EXPECT_EQ((std::vector<std::int64_t>{6, 7, 8, 9, 10, 11}),
              valuesIn(*buffer_.openBatch(10, Encoding::Gzip)));
}

TEST_F(OfflineBufferTest, RecordArrivingWhenOnlyTheOpenBatchFitsIsLost) {
    OfflineBuffer tiny(3);
    tiny.push("1");
    tiny.push("2");
    tiny.push("3");
    tiny.openBatch(3, Encoding::Gzip);
    EXPECT_TRUE(tiny.push("4"));
    EXPECT_EQ(3U, tiny.backlog());
    EXPECT_EQ(0U, tiny.queued());
}

}  // namespace
}  // namespace esocore::sim
