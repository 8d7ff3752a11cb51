#include "ingest/ingest_queue.h"

#include <chrono>
#include <optional>

#include "core/log.h"
#include "core/metrics.h"

namespace esocore::ingest {

namespace {

struct QueueMetrics {
    metrics::Gauge& depth = metrics::Registry::instance().gauge(
        "esocore_ingest_queue_depth", "Batches waiting for the group commit");
    metrics::Counter& commits = metrics::Registry::instance().counter(
        "esocore_ingest_commits_total", "Group commits to the store");
    metrics::Counter& failures = metrics::Registry::instance().counter(
        "esocore_ingest_commit_failures_total", "Group commits that the store refused");
    metrics::Histogram& seconds = metrics::Registry::instance().histogram(
        "esocore_ingest_commit_seconds", "Time to commit one group");
};

QueueMetrics& queueMetrics() {
    static QueueMetrics m;
    return m;
}

}  // namespace

IngestQueue::IngestQueue(store::Store& store, std::size_t max_batches,
                         std::size_t max_group_records)
    : store_(store), max_batches_(max_batches), max_group_records_(max_group_records) {
    queueMetrics();  // registered now so that /metrics shows them before the first batch
    writer_ = std::thread([this] { run(); });
}

IngestQueue::~IngestQueue() {
    stop();
}

bool IngestQueue::submit(std::unique_ptr<store::IngestBatch> batch, Done done) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= max_batches_) {
            return false;
        }
        queue_.push_back(Item{std::move(batch), std::move(done)});
        queueMetrics().depth.set(static_cast<std::int64_t>(queue_.size()));
    }
    wake_.notify_one();
    return true;
}

std::size_t IngestQueue::depth() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

void IngestQueue::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) {
        writer_.join();
    }
}

std::vector<IngestQueue::Item> IngestQueue::takeGroup(std::unique_lock<std::mutex>& lock) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    std::vector<Item> group;
    std::size_t records = 0;
    while (!queue_.empty() && (group.empty() || records < max_group_records_)) {
        records += queue_.front().batch->points.size() + queue_.front().batch->events.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    queueMetrics().depth.set(static_cast<std::int64_t>(queue_.size()));
    return group;
}

void IngestQueue::run() {
    for (;;) {
        std::vector<Item> group;
        {
            std::unique_lock lock(mutex_);
            group = takeGroup(lock);
            if (group.empty() && stopping_) {
                return;
            }
        }
        commitGroup(group);
    }
}

void IngestQueue::commitGroup(std::vector<Item>& group) {
    std::vector<store::IngestBatch*> batches;
    batches.reserve(group.size());
    for (auto& item : group) {
        batches.push_back(item.batch.get());
    }
    auto started = std::chrono::steady_clock::now();
    auto outcomes = store_.commitIngest(batches);
    queueMetrics().seconds.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    queueMetrics().commits.add();
    if (outcomes) {
        std::vector<std::optional<store::IngestCounts>> applied(group.size());
        for (std::size_t i = 0; i < group.size(); ++i) {
            if ((*outcomes)[i].kind == store::IngestOutcome::Kind::applied) {
                applied[i] = (*outcomes)[i].packet.counts;
            }
            group[i].done(std::move((*outcomes)[i]));
        }
        // After every answer of the group is on its way, so that observers never delay one.
        for (std::size_t i = 0; i < group.size() && committed_; ++i) {
            if (applied[i]) {
                committed_(*group[i].batch, *applied[i]);
            }
        }
        return;
    }
    queueMetrics().failures.add();
    if (group.size() == 1) {
        log::warn("ingest commit failed", {{"error", outcomes.error().message}});
        group[0].done(outcomes.takeError());
        return;
    }
    // One batch must not fail its neighbours: commit each alone to find the one that fails.
    for (auto& item : group) {
        std::vector<Item> single;
        single.push_back(std::move(item));
        commitGroup(single);
    }
}

}  // namespace esocore::ingest
