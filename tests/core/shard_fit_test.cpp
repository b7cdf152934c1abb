#include "core/shard_fit.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

constexpr std::uint64_t k_gib = 1ull << 30;

TEST(ShardFit, OneHostLargeEnoughIsEnough) {
    EXPECT_EQ(fits_none({4, 0}, {{2, std::nullopt}, {4, std::nullopt}}), "");
    EXPECT_EQ(fits_none({4, 8 * k_gib}, {{8, 4 * k_gib}, {4, 8 * k_gib}}), "");
}

TEST(ShardFit, ASizeNotKnownYetMayFit) {
    EXPECT_EQ(fits_none({64, 0}, {{2, 0}, {std::nullopt, 0}}), "");
    EXPECT_EQ(fits_none({1, 64 * k_gib}, {{2, 1 * k_gib}, {2, std::nullopt}}), "");
}

TEST(ShardFit, SaysWhatIsShortAndTheMostAnyHostHas) {
    EXPECT_EQ(fits_none({8, 0}, {{2, std::nullopt}, {4, std::nullopt}}),
              "a shard needs 8 CPUs, more slots than any of its hosts has (the most: 4)");
    EXPECT_EQ(fits_none({1, 64 * k_gib}, {{4, 16 * k_gib}, {4, 8 * k_gib}}),
              "a shard needs 64 GiB of memory, more than any of its hosts has (the most: 16 GiB)");
    EXPECT_EQ(fits_none({1, 1 * k_gib}, {{4, 0}}),
              "a shard needs 1 GiB of memory, and none of its hosts says how much it has (from Linux's "
              "/proc/meminfo)");
    EXPECT_EQ(fits_none({8, 64 * k_gib}, {{8, 16 * k_gib}, {2, 128 * k_gib}}),
              "a shard needs 8 CPUs and 64 GiB of memory, and none of its hosts has both");
}

TEST(ShardFit, ANeedComesFromTheJob) {
    JobSpec job;
    EXPECT_EQ(shard_need(job).cpus, 1);
    EXPECT_EQ(shard_need(job).memory, 0u);
    job.cpus = 3;
    job.memory = 5;
    EXPECT_EQ(shard_need(job).cpus, 3);
    EXPECT_EQ(shard_need(job).memory, 5u);
}

} // namespace
} // namespace sshard::core
