#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "store/store.h"

namespace esocore::ingest {

/// Group commit: one writer thread takes every batch waiting in the queue and commits them
/// together in one transaction, so concurrent uploads share one sync to disk. Each batch's
/// completion runs only after its commit.
class IngestQueue {
public:
    using Done = std::function<void(Result<store::IngestOutcome>)>;
    /// Told of each applied batch after its commit and its completion, on the writer thread.
    using Committed = std::function<void(const store::IngestBatch&, const store::IngestCounts&)>;

    IngestQueue(store::Store& store, std::size_t max_batches, std::size_t max_group_records);
    ~IngestQueue();
    IngestQueue(const IngestQueue&) = delete;
    IngestQueue& operator=(const IngestQueue&) = delete;

    /// Queues a batch; false when the queue is full or stopping (the caller answers 429/503).
    bool submit(std::unique_ptr<store::IngestBatch> batch, Done done);

    /// Sets the observer of applied batches (live updates); call before the first submit.
    void onCommitted(Committed observer) { committed_ = std::move(observer); }

    /// Batches waiting, not counting the group being committed.
    std::size_t depth() const;
    std::size_t capacity() const { return max_batches_; }

    /// Commits what is queued, then stops the writer. Later submits are refused.
    void stop();

private:
    struct Item {
        std::unique_ptr<store::IngestBatch> batch;
        Done done;
    };

    void run();
    std::vector<Item> takeGroup(std::unique_lock<std::mutex>& lock);
    void commitGroup(std::vector<Item>& group);

    store::Store& store_;
    const std::size_t max_batches_;
    const std::size_t max_group_records_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Item> queue_;
    bool stopping_ = false;
    Committed committed_;
    std::thread writer_;
};

}  // namespace esocore::ingest
