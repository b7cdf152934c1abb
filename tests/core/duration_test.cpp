#include "core/duration.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace sshard::core {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t k_day_ms = 86'400'000;

TEST(ParseDuration, AcceptsEachUnit) {
    EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
    EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
    EXPECT_EQ(parse_duration("5m"), milliseconds(300'000));
    EXPECT_EQ(parse_duration("2h"), milliseconds(7'200'000));
    EXPECT_EQ(parse_duration("2d"), milliseconds(2 * k_day_ms));
}

TEST(ParseDuration, BareNumberCountsSeconds) {
    EXPECT_EQ(parse_duration("0"), milliseconds(0));
    EXPECT_EQ(parse_duration("30"), milliseconds(30'000));
    EXPECT_EQ(parse_duration("1.5"), milliseconds(1'500));
    EXPECT_EQ(parse_duration("0.001"), milliseconds(1));
}

TEST(ParseDuration, CombinesPartsInDecreasingOrder) {
    EXPECT_EQ(parse_duration("1h30m"), milliseconds(5'400'000));
    EXPECT_EQ(parse_duration("1d2h3m4s5ms"), milliseconds(k_day_ms + 7'384'005));
    EXPECT_EQ(parse_duration("1d5ms"), milliseconds(k_day_ms + 5));
    EXPECT_EQ(parse_duration("1m0.5s"), milliseconds(60'500));
}

TEST(ParseDuration, AcceptsExactFractionsOfAnyUnit) {
    EXPECT_EQ(parse_duration("1.5h"), milliseconds(5'400'000));
    EXPECT_EQ(parse_duration("0.1h"), milliseconds(360'000));
    EXPECT_EQ(parse_duration("0.25s"), milliseconds(250));
    EXPECT_EQ(parse_duration("1.0ms"), milliseconds(1));
    EXPECT_EQ(parse_duration("2.500000000000000000s"), milliseconds(2'500));
    // Ten fractional digits, the most that can still land on a whole millisecond.
    EXPECT_EQ(parse_duration("0.0000003125d"), milliseconds(27));
}

TEST(ParseDuration, AcceptsLeadingZeros) {
    EXPECT_EQ(parse_duration("007s"), milliseconds(7'000));
    EXPECT_EQ(parse_duration("1h05m"), milliseconds(3'900'000));
}

TEST(ParseDuration, RejectsFractionsFinerThanAMillisecond) {
    EXPECT_EQ(parse_duration("1.5ms"), std::nullopt);
    EXPECT_EQ(parse_duration("0.0001s"), std::nullopt);
    EXPECT_EQ(parse_duration("0.0001"), std::nullopt);
    EXPECT_EQ(parse_duration("0.00000000001d"), std::nullopt);
}

TEST(ParseDuration, AcceptsUpToOneHundredDays) {
    EXPECT_EQ(parse_duration("100d"), milliseconds(100 * k_day_ms));
    EXPECT_EQ(parse_duration("8640000"), milliseconds(100 * k_day_ms));
    EXPECT_EQ(parse_duration("99d24h"), milliseconds(100 * k_day_ms));
}

TEST(ParseDuration, RejectsMoreThanOneHundredDays) {
    EXPECT_EQ(parse_duration("100d1ms"), std::nullopt);
    EXPECT_EQ(parse_duration("101d"), std::nullopt);
    EXPECT_EQ(parse_duration("2401h"), std::nullopt);
    EXPECT_EQ(parse_duration("8640001"), std::nullopt);
    EXPECT_EQ(parse_duration("8640000001ms"), std::nullopt);
    EXPECT_EQ(parse_duration("99999999999999999999999999s"), std::nullopt);
}

TEST(ParseDuration, RejectsMalformedNumbers) {
    EXPECT_EQ(parse_duration(""), std::nullopt);
    EXPECT_EQ(parse_duration("s"), std::nullopt);
    EXPECT_EQ(parse_duration(".5s"), std::nullopt);
    EXPECT_EQ(parse_duration("5.s"), std::nullopt);
    EXPECT_EQ(parse_duration("5."), std::nullopt);
    EXPECT_EQ(parse_duration("1.2.3s"), std::nullopt);
    EXPECT_EQ(parse_duration("-5s"), std::nullopt);
    EXPECT_EQ(parse_duration("+5s"), std::nullopt);
    EXPECT_EQ(parse_duration("1e3s"), std::nullopt);
}

TEST(ParseDuration, RejectsUnknownOrMissingUnits) {
    EXPECT_EQ(parse_duration("5x"), std::nullopt);
    EXPECT_EQ(parse_duration("5S"), std::nullopt);
    EXPECT_EQ(parse_duration("5sec"), std::nullopt);
    EXPECT_EQ(parse_duration("5us"), std::nullopt);
    EXPECT_EQ(parse_duration("5~"), std::nullopt);
    EXPECT_EQ(parse_duration("1h30"), std::nullopt);
    EXPECT_EQ(parse_duration("1h 30m"), std::nullopt);
}

TEST(ParseDuration, RejectsSurroundingWhitespace) {
    EXPECT_EQ(parse_duration(" 5s"), std::nullopt);
    EXPECT_EQ(parse_duration("5s "), std::nullopt);
}

TEST(ParseDuration, RejectsUnitsOutOfOrderOrRepeated) {
    EXPECT_EQ(parse_duration("30m1h"), std::nullopt);
    EXPECT_EQ(parse_duration("1ms1s"), std::nullopt);
    EXPECT_EQ(parse_duration("1h1h"), std::nullopt);
    EXPECT_EQ(parse_duration("1ms1ms"), std::nullopt);
}

TEST(FormatDuration, ZeroIsZeroSeconds) {
    EXPECT_EQ(format_duration(milliseconds(0)), "0s");
}

TEST(FormatDuration, UnderASecondInMilliseconds) {
    EXPECT_EQ(format_duration(milliseconds(1)), "1ms");
    EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
    EXPECT_EQ(format_duration(milliseconds(999)), "999ms");
}

TEST(FormatDuration, WholeUnits) {
    EXPECT_EQ(format_duration(milliseconds(30'000)), "30s");
    EXPECT_EQ(format_duration(milliseconds(300'000)), "5m");
    EXPECT_EQ(format_duration(milliseconds(3'600'000)), "1h");
    EXPECT_EQ(format_duration(milliseconds(2 * k_day_ms)), "2d");
    EXPECT_EQ(format_duration(milliseconds(5'400'000)), "1h30m");
    EXPECT_EQ(format_duration(milliseconds(k_day_ms + 1'000)), "1d1s");
}

TEST(FormatDuration, FractionalSecondsLast) {
    EXPECT_EQ(format_duration(milliseconds(1'500)), "1.5s");
    EXPECT_EQ(format_duration(milliseconds(1'250)), "1.25s");
    EXPECT_EQ(format_duration(milliseconds(1'001)), "1.001s");
    EXPECT_EQ(format_duration(milliseconds(60'500)), "1m0.5s");
    EXPECT_EQ(format_duration(milliseconds(k_day_ms + 3'723'004)), "1d1h2m3.004s");
}

TEST(FormatDuration, BeyondOneHundredDaysInDays) {
    EXPECT_EQ(format_duration(milliseconds(365 * k_day_ms)), "365d");
}

TEST(FormatDuration, NegativeWithAMinusSign) {
    EXPECT_EQ(format_duration(milliseconds(-1'500)), "-1.5s");
    EXPECT_EQ(format_duration(milliseconds(-250)), "-250ms");
    EXPECT_EQ(format_duration(milliseconds(std::numeric_limits<std::int64_t>::min())), "-106751991167d7h12m55.808s");
}

TEST(FormatDuration, ParsesBackToTheSameValue) {
    std::vector<std::int64_t> values = {0,         1,         999,          1'000,        1'001,       60'500,
                                        3'599'999, 5'400'000, k_day_ms - 1, k_day_ms + 1, 123'456'789, 100 * k_day_ms};
    for (std::int64_t value : values) {
        std::string text = format_duration(milliseconds(value));
        EXPECT_EQ(parse_duration(text), milliseconds(value)) << text;
    }
}

} // namespace
} // namespace sshard::core
