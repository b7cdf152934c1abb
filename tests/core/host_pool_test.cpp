#include "core/host_pool.hpp"

#include <gtest/gtest.h>

#include "tests/core/fake_clock.hpp"

namespace sshard::core {
namespace {

using namespace std::chrono_literals;
using Indices = std::vector<std::size_t>;

HostSpec host(std::string name, int slots, int priority = 0) {
    HostSpec spec;
    spec.name = std::move(name);
    spec.slots = slots;
    spec.priority = priority;
    return spec;
}

class HostPoolTest : public ::testing::Test {
protected:
    HostPool make(std::vector<HostSpec> specs) {
        m_specs = std::move(specs);
        HostPool pool(m_specs, m_clock, m_rng, Backoff{1s, 30s, 2.0}, 2min);
        pool.start();
        return pool;
    }

    std::vector<HostSpec> m_specs;
    test::FakeClock m_clock;
    std::mt19937_64 m_rng{7};
};

TEST_F(HostPoolTest, NoHostUntilOneIsUp) {
    HostPool pool = make({host("a", 1)});
    EXPECT_EQ(pool.choose({0}, {}), std::nullopt);
    EXPECT_FALSE(pool.any_up());
    pool.set_up(0, std::nullopt);
    EXPECT_EQ(pool.choose({0}, {}), 0u);
    EXPECT_TRUE(pool.any_up());
}

TEST_F(HostPoolTest, HighestPriorityThenLeastLoadedThenFirst) {
    HostPool pool = make({host("a", 4), host("b", 2), host("c", 1, 5)});
    for (std::size_t h = 0; h < 3; ++h) {
        pool.set_up(h, std::nullopt);
    }
    Indices all{0, 1, 2};
    EXPECT_EQ(pool.choose(all, {}), 2u);
    pool.occupy(2); // c is full: the rest by load, a first on a tie
    EXPECT_EQ(pool.choose(all, {}), 0u);
    pool.occupy(0); // a 1/4, b 0/2
    EXPECT_EQ(pool.choose(all, {}), 1u);
    pool.occupy(1); // a 1/4, b 1/2
    EXPECT_EQ(pool.choose(all, {}), 0u);
    pool.occupy(0);
    pool.occupy(0);
    pool.occupy(0);
    pool.occupy(1); // all full
    EXPECT_EQ(pool.choose(all, {}), std::nullopt);
    pool.release(1);
    EXPECT_EQ(pool.choose(all, {}), 1u);
    EXPECT_EQ(pool.choose({0}, {}), std::nullopt); // only the eligible count
}

TEST_F(HostPoolTest, AShardWaitsForAnUpHostWhereItHasNotFailed) {
    HostPool pool = make({host("a", 1), host("b", 1)});
    pool.set_up(0, std::nullopt);
    pool.set_up(1, std::nullopt);
    pool.occupy(1);
    // b is busy but up: the shard that failed on a waits for it rather than going back to a.
    EXPECT_EQ(pool.choose({0, 1}, {0}), std::nullopt);
    pool.release(1);
    EXPECT_EQ(pool.choose({0, 1}, {0}), 1u);
    // With b gone, a will do.
    pool.set_down(1, "lost");
    EXPECT_EQ(pool.choose({0, 1}, {0}), 0u);
}

TEST_F(HostPoolTest, AutoSlotsTakeTheHostsCpus) {
    HostSpec spec = host("a", 1);
    spec.auto_slots = true;
    HostPool pool = make({spec, host("b", 1)});
    pool.set_up(0, 3);
    pool.set_up(1, 8); // not auto: keeps its one slot
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(pool.choose({0}, {}), 0u);
        pool.occupy(0);
    }
    EXPECT_EQ(pool.choose({0}, {}), std::nullopt);
    pool.occupy(1);
    EXPECT_EQ(pool.choose({1}, {}), std::nullopt);
}

TEST_F(HostPoolTest, AShardGoesOnlyWhereItsCpusAndMemoryAreFree) {
    constexpr std::uint64_t gib = 1ull << 30;
    HostPool pool = make({host("a", 4), host("b", 2)});
    pool.set_up(0, std::nullopt, 8 * gib);
    pool.set_up(1, std::nullopt, 64 * gib);
    ShardNeed wide{3, 0};
    EXPECT_EQ(pool.choose({0, 1}, {}, wide), 0u); // b could never hold 3
    pool.occupy(0, wide);
    EXPECT_EQ(pool.choose({0, 1}, {}, wide), std::nullopt);
    EXPECT_EQ(pool.choose({0, 1}, {}, {1, 0}), 1u); // a 3/4, b 0/2
    ShardNeed fat{1, 6 * gib};
    EXPECT_EQ(pool.choose({0}, {}, fat), 0u);
    pool.occupy(0, fat);
    EXPECT_EQ(pool.choose({0}, {}, {1, 3 * gib}), std::nullopt); // a full: 4/4 slots
    pool.release(0, wide);
    EXPECT_EQ(pool.choose({0}, {}, {1, 3 * gib}), std::nullopt); // 6 of 8 GiB promised
    EXPECT_EQ(pool.choose({0}, {}, {1, 2 * gib}), 0u);
    // A failed-on host is chosen when the untried one could never hold the shard.
    EXPECT_EQ(pool.choose({0, 1}, {0}, wide), 0u);
}

TEST_F(HostPoolTest, FitsNoneOnceEveryEligibleHostHasSaidItsSize) {
    HostSpec spec = host("a", 1);
    spec.auto_slots = true;
    HostPool pool = make({spec, host("b", 2)});
    EXPECT_EQ(pool.fits_none({0, 1}, {4, 0}), ""); // a's slots are not known yet
    pool.set_up(1, std::nullopt);
    EXPECT_EQ(pool.fits_none({0, 1}, {4, 0}), "");
    EXPECT_NE(pool.fits_none({1}, {4, 0}), "");
    pool.set_up(0, 8);
    EXPECT_EQ(pool.fits_none({0, 1}, {4, 0}), "");
    EXPECT_EQ(pool.fits_none({0, 1}, {16, 0}),
              "a shard needs 16 CPUs, more slots than any of its hosts has (the most: 8)");
    // A host up that said nothing of its memory has none to promise.
    EXPECT_NE(pool.fits_none({0, 1}, {1, 1}), "");
    EXPECT_EQ(pool.choose({0, 1}, {}, {1, 1}), std::nullopt);
}

TEST_F(HostPoolTest, ASampleOverALimitHoldsTheHostBackUntilOneIsWithin) {
    constexpr std::uint64_t gib = 1ull << 30;
    HostSpec a = host("a", 4);
    a.max_load = 0.9;
    a.min_free_memory = 2 * gib;
    HostPool pool = make({a, host("b", 4)});
    pool.set_up(0, std::nullopt);
    pool.set_up(1, std::nullopt);
    EXPECT_EQ(pool.sampled(0, {0.5, 1 * gib, 16 * gib}), std::nullopt);
    auto held = pool.sampled(0, {0.95, 1 * gib, 16 * gib});
    ASSERT_TRUE(held);
    EXPECT_TRUE(held->held);
    EXPECT_EQ(held->kind, "load");
    EXPECT_EQ(held->reason, "CPU 95% busy, over max_load 90%");
    EXPECT_EQ(pool.choose({0}, {}), std::nullopt);
    EXPECT_EQ(pool.choose({0, 1}, {}), 1u);
    // Still over a limit (now memory): no change to report.
    EXPECT_EQ(pool.sampled(0, {0.2, 15 * gib, 16 * gib}), std::nullopt);
    EXPECT_EQ(pool.choose({0}, {}), std::nullopt);
    auto freed = pool.sampled(0, {0.2, 1 * gib, 16 * gib});
    ASSERT_TRUE(freed);
    EXPECT_FALSE(freed->held);
    EXPECT_EQ(pool.choose({0}, {}), 0u);
    auto memory = pool.sampled(0, {0.2, 15 * gib, 16 * gib});
    ASSERT_TRUE(memory);
    EXPECT_EQ(memory->kind, "memory");
    EXPECT_EQ(memory->reason, "1 GiB of memory free, under min_free_memory 2 GiB");
    // A host without limits is never held.
    EXPECT_EQ(pool.sampled(1, {1.0, 16 * gib, 16 * gib}), std::nullopt);
}

TEST_F(HostPoolTest, ADrainedHostTakesNoShardIsLetGoOnceIdleAndComesBackWhenUndrained) {
    HostPool pool = make({host("a", 2), host("b", 2)});
    pool.set_up(0, std::nullopt);
    pool.set_up(1, std::nullopt);
    pool.occupy(0);
    EXPECT_TRUE(pool.set_drained(0, true));
    EXPECT_FALSE(pool.set_drained(0, true));
    EXPECT_EQ(pool.choose({0, 1}, {}), 1u);
    EXPECT_EQ(pool.choose({0}, {}), std::nullopt);
    // A retry does not wait for a drained host it has not failed on.
    EXPECT_EQ(pool.choose({0, 1}, {1}), 1u);
    EXPECT_TRUE(pool.take_idle_drained().empty()) << "a shard still runs on a";
    pool.release(0);
    EXPECT_EQ(pool.take_idle_drained(), Indices{0});
    EXPECT_TRUE(pool.take_idle_drained().empty());
    EXPECT_FALSE(pool.set_down(0, "closed")) << "let go: its end is no news";
    m_clock.advance(1h);
    EXPECT_TRUE(pool.take_due_reconnects().empty()) << "never reconnected while drained";
    EXPECT_FALSE(pool.next_reconnect());
    EXPECT_TRUE(pool.set_drained(0, false));
    EXPECT_EQ(pool.take_due_reconnects(), Indices{0});
    pool.set_up(0, std::nullopt);
    EXPECT_EQ(pool.choose({0}, {}), 0u);
}

TEST_F(HostPoolTest, HostsAddedDuringTheRunAreFoundByName) {
    HostPool pool = make({host("a", 1)});
    HostSpec b = host("b", 3);
    EXPECT_EQ(pool.add(b), 1u);
    EXPECT_EQ(pool.find("b"), 1u);
    EXPECT_EQ(pool.find("a"), 0u);
    EXPECT_EQ(pool.find("c"), std::nullopt);
    EXPECT_FALSE(pool.down_limit_expiry({1})) << "its first connection is being made";
    pool.set_up(1, std::nullopt);
    EXPECT_EQ(pool.choose({0, 1}, {}), 1u);
}

TEST_F(HostPoolTest, ReconnectBackoffGrowsWithFailuresInARowAndResetsWhenUp) {
    HostPool pool = make({host("a", 1)});
    EXPECT_FALSE(pool.next_reconnect());
    std::vector<Duration> waits;
    for (int failure = 0; failure < 7; ++failure) {
        SteadyTime before = m_clock.now();
        ASSERT_TRUE(pool.set_down(0, "refused"));
        EXPECT_FALSE(pool.set_down(0, "again")); // down already: nothing changes
        EXPECT_EQ(pool.last_error(0), "refused");
        auto due = *pool.next_reconnect();
        waits.push_back(std::chrono::duration_cast<Duration>(due - before));
        m_clock.advance(waits.back() - 1ms);
        EXPECT_TRUE(pool.take_due_reconnects().empty());
        m_clock.advance(1ms);
        EXPECT_EQ(pool.take_due_reconnects(), Indices{0});
        EXPECT_FALSE(pool.next_reconnect()); // connecting, no longer down
    }
    // Equal jitter: between half and all of 1s, 2s, 4s, 8s, 16s, then the 30s cap.
    const std::vector<Duration> full = {1s, 2s, 4s, 8s, 16s, 30s, 30s};
    for (std::size_t i = 0; i < waits.size(); ++i) {
        EXPECT_GE(waits[i], full[i] / 2) << i;
        EXPECT_LE(waits[i], full[i]) << i;
    }
    pool.set_up(0, std::nullopt);
    EXPECT_EQ(pool.last_error(0), "");
    SteadyTime before = m_clock.now();
    pool.set_down(0, "lost");
    EXPECT_LE(*pool.next_reconnect() - before, Duration(1s));
}

TEST_F(HostPoolTest, DownLimitCountsFromTheLastTimeAnEligibleHostWasUpOrFirstFailed) {
    HostPool pool = make({host("a", 1), host("b", 1)});
    SteadyTime start = m_clock.now();
    // Hosts still making their first connection (waiting for a handshake slot on a busy machine) have not
    // failed yet: no limit runs.
    EXPECT_FALSE(pool.down_limit_expiry({0, 1}));
    m_clock.advance(5s);
    pool.set_down(0, "refused"); // a first failure: the limit counts from here
    EXPECT_FALSE(pool.down_limit_expiry({0, 1}));
    EXPECT_EQ(pool.down_limit_expiry({0}), start + 5s + 2min);
    pool.set_up(1, std::nullopt);
    EXPECT_FALSE(pool.down_limit_expiry({0, 1}));
    m_clock.advance(85s);
    pool.set_down(1, "lost");
    EXPECT_EQ(pool.down_limit_expiry({0, 1}), start + 90s + 2min);
    // Hosts that fail to reconnect do not move the limit: they were not up.
    m_clock.advance(100s);
    EXPECT_EQ(pool.take_due_reconnects().size(), 2U);
    EXPECT_EQ(pool.down_limit_expiry({0, 1}), start + 90s + 2min);
    pool.set_down(1, "refused");
    EXPECT_EQ(pool.down_limit_expiry({0, 1}), start + 90s + 2min);
}

// A job on every host takes the first host of the pool's book of free hosts; any other call walks the
// eligible hosts. Both must pick the same host whatever the loads, priorities and states.
TEST_F(HostPoolTest, TheBookOfFreeHostsAgreesWithTheWalk) {
    HostPool pool = make({host("a", 2, 1), host("b", 3), host("c", 1), host("d", 2, 1), host("e", 4)});
    std::vector<std::size_t> all = {0, 3, 1, 2, 4}; // priority first, then spec order, as the plan makes it
    std::vector<std::size_t> not_a_host = {99};     // excludes nothing, but takes the walk
    std::mt19937_64 rng(3);
    std::vector<int> running(5, 0);
    for (int step = 0; step < 2000; ++step) {
        auto h = static_cast<std::size_t>(rng() % 5);
        switch (rng() % 5) {
        case 0:
            pool.set_up(h, std::nullopt);
            break;
        case 1:
            if (rng() % 8 == 0) {
                pool.set_down(h, "lost");
            }
            break;
        case 2:
            if (running[h] > 0) {
                pool.release(h);
                --running[h];
            }
            break;
        default:
            if (auto chosen = pool.choose(all, {})) {
                pool.occupy(*chosen);
                ++running[*chosen];
            }
            break;
        }
        ASSERT_EQ(pool.choose(all, {}), pool.choose(all, not_a_host)) << "step " << step;
    }
}

} // namespace
} // namespace sshard::core
