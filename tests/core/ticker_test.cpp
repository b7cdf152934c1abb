#include "core/ticker.hpp"

#include <atomic>
#include <future>
#include <gtest/gtest.h>
#include <thread>

namespace sshard::core {
namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition) {
    for (int i = 0; i < 10000 && !condition(); ++i) {
        std::this_thread::sleep_for(1ms);
    }
    return condition();
}

TEST(Ticker, TicksAgainAndAgainUntilStopped) {
    std::atomic<int> ticks = 0;
    Ticker ticker(1ms, [&] { ++ticks; });
    EXPECT_TRUE(eventually([&] { return ticks >= 3; }));
    ticker.stop();
    int stopped_at = ticks;
    ticker.stop();
    EXPECT_EQ(ticks, stopped_at);
}

TEST(Ticker, StoppingDoesNotWaitOutTheInterval) {
    std::atomic<int> ticks = 0;
    {
        Ticker ticker(1h, [&] { ++ticks; });
    }
    EXPECT_EQ(ticks, 0);
}

TEST(Ticker, ATickUnderWayEndsBeforeStopReturns) {
    std::promise<void> started;
    std::promise<void> release;
    std::atomic<bool> ended = false;
    std::atomic<int> ticks = 0;
    Ticker ticker(1ms, [&, release_future = release.get_future().share()] {
        if (++ticks == 1) {
            started.set_value();
            release_future.wait();
            ended = true;
        }
    });
    started.get_future().wait();
    auto stopping = std::async(std::launch::async, [&] { ticker.stop(); });
    EXPECT_EQ(stopping.wait_for(50ms), std::future_status::timeout);
    release.set_value();
    stopping.get();
    EXPECT_TRUE(ended);
    EXPECT_EQ(ticks, 1);
}

} // namespace
} // namespace sshard::core
