#include "core/backoff.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, GrowsByTheFactorUpToTheMaxWithEqualJitter) {
    Backoff backoff{1s, 20s, 3.0};
    std::mt19937_64 rng(1);
    const std::vector<Duration> full = {1s, 3s, 9s, 20s, 20s};
    for (int round = 0; round < 50; ++round) {
        for (std::size_t i = 0; i < full.size(); ++i) {
            Duration delay = backoff_delay(backoff, static_cast<int>(i) + 1, rng);
            EXPECT_GE(delay, full[i] / 2) << i;
            EXPECT_LE(delay, full[i]) << i;
        }
    }
}

TEST(Backoff, JitterSpreadsTheDelays) {
    Backoff backoff{10s, 10s, 1.0};
    std::mt19937_64 rng(2);
    Duration low = 10s;
    Duration high = 0s;
    for (int i = 0; i < 200; ++i) {
        Duration delay = backoff_delay(backoff, 1, rng);
        low = std::min(low, delay);
        high = std::max(high, delay);
    }
    EXPECT_LT(low, 6s);
    EXPECT_GT(high, 9s);
}

TEST(Backoff, ZeroWaitsNothing) {
    std::mt19937_64 rng(3);
    EXPECT_EQ(backoff_delay(Backoff{0s, 0s, 2.0}, 4, rng), Duration(0));
}

} // namespace
} // namespace sshard::core
