#include "core/duration.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesUnitsAndBareSeconds) {
    EXPECT_EQ(parse_duration("250ms"), Duration(250ms));
    EXPECT_EQ(parse_duration("30s"), Duration(30s));
    EXPECT_EQ(parse_duration("5m"), Duration(5min));
    EXPECT_EQ(parse_duration("1h30m"), Duration(90min));
    EXPECT_EQ(parse_duration("2d"), Duration(48h));
    EXPECT_EQ(parse_duration("1d2h3m4s5ms"), Duration(24h + 2h + 3min + 4s + 5ms));
    EXPECT_EQ(parse_duration("45"), Duration(45s));
    EXPECT_EQ(parse_duration("1.5"), Duration(1500ms));
    EXPECT_EQ(parse_duration("0.1h"), Duration(6min));
    EXPECT_EQ(parse_duration("0"), Duration(0));
    EXPECT_EQ(parse_duration("100d"), Duration(2400h));
}

TEST(Duration, RejectsWhatItCannotReadExactly) {
    for (const char* bad : {"", "s", "1x", "1h30", "30m1h", "1m1m", "-1s", " 1s", "1s ", "1.5ms", "1.", ".5", "100d1ms",
                            "101d", "99999999999999999999", "1 s", "1S"}) {
        EXPECT_EQ(parse_duration(bad), std::nullopt) << "'" << bad << "'";
    }
}

TEST(Duration, FormatsCompactlyAndLosslessly) {
    EXPECT_EQ(format_duration(Duration(0)), "0s");
    EXPECT_EQ(format_duration(250ms), "250ms");
    EXPECT_EQ(format_duration(30s), "30s");
    EXPECT_EQ(format_duration(90min), "1h30m");
    EXPECT_EQ(format_duration(60500ms), "1m0.5s");
    EXPECT_EQ(format_duration(Duration(24h + 1s)), "1d1s");
    for (const char* text : {"1h30m", "250ms", "2d", "1m0.5s", "59.999s"}) {
        EXPECT_EQ(format_duration(*parse_duration(text)), text);
    }
}

} // namespace
} // namespace sshard::core
