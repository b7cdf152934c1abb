#include "core/host_sample.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

const char* k_proc = "cpu  100 0 50 800 50 0 0 0 0 0\n"
                     "cpu0 50 0 25 400 25 0 0 0 0 0\n"
                     "intr 1234\n"
                     "MemTotal:        2000 kB\n"
                     "MemFree:          500 kB\n"
                     "MemAvailable:     1500 kB\n";

TEST(HostSample, ParsesStatAndMeminfo) {
    auto reading = parse_proc(k_proc);
    ASSERT_TRUE(reading);
    EXPECT_EQ(reading->cpu_total, 1000u);
    EXPECT_EQ(reading->cpu_idle, 850u);
    EXPECT_EQ(reading->mem_total, 2000u * 1024);
    EXPECT_EQ(reading->mem_used, 500u * 1024);
}

TEST(HostSample, BusyShareBetweenReadings) {
    ProcReading before{1000, 850, 4096, 1024};
    ProcReading after{2000, 1100, 4096, 2048};
    auto sample = sample_between(before, after);
    ASSERT_TRUE(sample);
    EXPECT_DOUBLE_EQ(sample->cpu_busy, 0.75);
    EXPECT_EQ(sample->mem_used, 2048u);
    EXPECT_FALSE(sample_between(after, after));
}

TEST(HostSample, NotLinuxGivesNothing) {
    EXPECT_FALSE(parse_proc(""));
    EXPECT_FALSE(parse_proc("cat: /proc/stat: No such file or directory\n"));
    EXPECT_FALSE(parse_proc("cpu  1 2 3 4 5\n"));
}

} // namespace
} // namespace sshard::core
