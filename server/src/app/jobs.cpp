#include "app/jobs.h"

#include "core/log.h"

namespace esocore {

JobRunner::JobRunner(std::vector<Job> jobs) : jobs_(std::move(jobs)) {
    thread_ = std::thread([this] { loop(); });
}

JobRunner::~JobRunner() {
    stop();
}

void JobRunner::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void JobRunner::loop() {
    using clock = std::chrono::steady_clock;
    std::vector<clock::time_point> due(jobs_.size(), clock::now());
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        auto next = clock::time_point::max();
        for (std::size_t i = 0; i < jobs_.size(); ++i) {
            if (clock::now() >= due[i]) {
                lock.unlock();
                try {
                    jobs_[i].run();
                } catch (const std::exception& e) {
                    log::warn("job failed", {{"job", jobs_[i].name}, {"error", e.what()}});
                }
                lock.lock();
                due[i] = clock::now() + jobs_[i].every;
            }
            next = std::min(next, due[i]);
        }
        wake_.wait_until(lock, next, [this] { return stopping_; });
    }
}

}  // namespace esocore
