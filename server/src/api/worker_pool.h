#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace esocore::api {

/// A few threads for slow, CPU-bound request work (Argon2id password hashing), so that a
/// burst of sign-ins never holds the server's I/O threads that devices upload through.
class WorkerPool {
public:
    /// `threads` workers; at most `max_queued` tasks wait for one.
    WorkerPool(std::size_t threads, std::size_t max_queued);
    /// Runs the tasks already queued, then joins the workers.
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    /// Queues `task`; false (and `task` not run) when the queue is full.
    bool submit(std::function<void()> task);

private:
    void work();

    const std::size_t max_queued_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace esocore::api
