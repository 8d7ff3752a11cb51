// The bounded pool that runs password work off the I/O threads.
#include "api/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace esocore {
namespace {

TEST(WorkerPoolTest, RunsEveryQueuedTaskBeforeItIsDestroyed) {
    std::atomic<int> ran{0};
    {
        api::WorkerPool pool(2, 100);
        for (int i = 0; i < 50; ++i) {
            ASSERT_TRUE(pool.submit([&ran] { ++ran; }));
        }
    }
    EXPECT_EQ(50, ran.load());
}

TEST(WorkerPoolTest, RefusesWorkWhenTheQueueIsFull) {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<void> started;
    api::WorkerPool pool(1, 2);
    ASSERT_TRUE(pool.submit([&started, released] {
        started.set_value();
        released.wait();
    }));
    started.get_future().wait();  // the one worker is busy; the queue is empty

    EXPECT_TRUE(pool.submit([] {}));
    EXPECT_TRUE(pool.submit([] {}));
    EXPECT_FALSE(pool.submit([] {}));
    release.set_value();
}

}  // namespace
}  // namespace esocore
