#include "transport/slurm_accounting.hpp"

#include <gtest/gtest.h>
#include <string>

namespace sshard::transport {
namespace {

// What sacct printed on Slurm 22.05 for an array of two tasks, one still running, and the rest pending.
TEST(SlurmAccounting, ReadsEachTasksBatchStep) {
    auto steps = parse_step_memory("41_0||COMPLETED\n"
                                   "41_0.batch|COMPLETED|78163968\n"
                                   "41_0.extern|COMPLETED|0\n"
                                   "41_1||RUNNING\n"
                                   "41_1.batch|RUNNING|\n"
                                   "41_[2-99]||PENDING\n");
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0].job, 41u);
    EXPECT_EQ(steps[0].task, 0u);
    EXPECT_TRUE(steps[0].ended);
    EXPECT_EQ(steps[0].max_rss, 78163968u);
    EXPECT_EQ(steps[1].task, 1u);
    EXPECT_FALSE(steps[1].ended);
    EXPECT_FALSE(steps[1].max_rss);
}

// Before Slurm splits an array, its last task's rows carry the array's own id: they name no task.
TEST(SlurmAccounting, SkipsRowsThatNameNoTask) {
    for (const char* line :
         {"41.batch|COMPLETED|100", "41_[5-9].batch|COMPLETED|100", "41_7.0|COMPLETED|100", "41_7|COMPLETED|100",
          "0_7.batch|COMPLETED|100", "x_7.batch|COMPLETED|100", "41_-7.batch|COMPLETED|100", "41_7.batch|COMPLETED",
          "41_7.batch|COMPLETED|100|x", "41_7.batchy|COMPLETED|100", "_7.batch|COMPLETED|100",
          "41_.batch|COMPLETED|100", "99999999999999999999_7.batch|COMPLETED|100", "", "|||", "sacct: error: x"}) {
        EXPECT_TRUE(parse_step_memory(line).empty()) << line;
    }
}

// A step ended without a measure (no jobacct_gather, or no sample) has none: not 0.
TEST(SlurmAccounting, AnEndedStepWithoutAMeasureHasNone) {
    for (const char* line : {"41_7.batch|COMPLETED|", "41_7.batch|FAILED|0", "41_7.batch|CANCELLED by 0|junk",
                             "41_7.batch|OUT_OF_MEMORY|-5"}) {
        auto steps = parse_step_memory(line);
        ASSERT_EQ(steps.size(), 1u) << line;
        EXPECT_TRUE(steps[0].ended) << line;
        EXPECT_FALSE(steps[0].max_rss) << line;
    }
    auto garbled = parse_step_memory("41_7.batch|COMPL\xff\x01|12\n\n41_8.batch|COMPLETED|5K\r\n");
    ASSERT_EQ(garbled.size(), 2u);
    EXPECT_FALSE(garbled[0].ended);
    EXPECT_FALSE(garbled[1].max_rss); // "5K\r" is no size
}

TEST(SlurmAccounting, SizesWithSuffixesAreBytes) {
    EXPECT_EQ(parse_rss("78163968"), 78163968u);
    EXPECT_EQ(parse_rss("76332K"), 76332u * 1024);
    EXPECT_EQ(parse_rss("1.5M"), 1536u * 1024);
    EXPECT_EQ(parse_rss("2G"), 2ull << 30);
    EXPECT_EQ(parse_rss("1T"), 1ull << 40);
    EXPECT_EQ(parse_rss("1P"), 1ull << 50);
    EXPECT_EQ(parse_rss("18446744073709549568"), 18446744073709549568ull);
    for (const char* bad : {"", "0", "0K", "-1", "-1K", "K", "12Q", "1e6", " 12", "12 ", "inf", "nan", "0x10", "16384P",
                            "18446744073709551616", "99999999999999999999999"}) {
        EXPECT_FALSE(parse_rss(bad)) << bad;
    }
}

TEST(SlurmAccounting, KnowsAccountingThatIsOff) {
    EXPECT_TRUE(is_accounting_disabled("Slurm accounting storage is disabled\n"));
    EXPECT_FALSE(is_accounting_disabled("sacct: error: Problem talking to the database: Connection refused\n"));
}

} // namespace
} // namespace sshard::transport
