#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace esocore {

/// Runs periodic housekeeping on one background thread until stopped.
class JobRunner {
public:
    struct Job {
        std::string name;
        std::chrono::seconds every;
        std::function<void()> run;
    };

    explicit JobRunner(std::vector<Job> jobs);
    ~JobRunner();
    void stop();

private:
    void loop();

    std::vector<Job> jobs_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace esocore
