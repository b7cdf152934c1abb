#include "core/byte_size.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

TEST(ByteSize, UnitsArePowersOf1024WithOrWithoutIAndB) {
    EXPECT_EQ(parse_byte_size("100"), 100u);
    EXPECT_EQ(parse_byte_size("1K"), 1024u);
    EXPECT_EQ(parse_byte_size("512M"), 512u << 20);
    EXPECT_EQ(parse_byte_size("2g"), 2ull << 30);
    EXPECT_EQ(parse_byte_size("2GiB"), 2ull << 30);
    EXPECT_EQ(parse_byte_size("2GB"), 2ull << 30);
    EXPECT_EQ(parse_byte_size("1.5G"), 3ull << 29);
    EXPECT_EQ(parse_byte_size("1T"), 1ull << 40);
}

TEST(ByteSize, RefusesWhatIsNotASize) {
    for (const char* bad : {"", "G", "-1G", "1.5", "1.G", ".5G", "1X", "1Gi B", "1 G", "1GiBs", "1e3", "2E",
                            "99999999999T", "nan", "1..2G"}) {
        EXPECT_EQ(parse_byte_size(bad), std::nullopt) << bad;
    }
}

TEST(ByteSize, FormatsWithTheLargestUnitAndOneDecimalWhereItMatters) {
    EXPECT_EQ(format_byte_size(100), "100 B");
    EXPECT_EQ(format_byte_size(1024), "1 KiB");
    EXPECT_EQ(format_byte_size(512u << 20), "512 MiB");
    EXPECT_EQ(format_byte_size(3ull << 29), "1.5 GiB");
    EXPECT_EQ(format_byte_size(5ull << 40), "5 TiB");
    EXPECT_EQ(format_byte_size(*parse_byte_size("2GiB")), "2 GiB");
}

} // namespace
} // namespace sshard::core
