// terminal_safe(): what sshard prints of a shard's or a host's bytes cannot drive the terminal.
#include <gtest/gtest.h>
#include <string>

#include "cli/terminal.hpp"

namespace sshard::cli {
namespace {

TEST(TerminalSafe, EscapesControlCharactersVisibly) {
    EXPECT_EQ(terminal_safe("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
    EXPECT_EQ(terminal_safe(std::string("a\x1b[2Jb\rc\0d\ne\tf\x7f", 15)), "a\\e[2Jb\\rc\\x00d\\ne\\tf\\x7f");
    EXPECT_EQ(terminal_safe("\xc2\x9b"
                            "31m"),
              "\\u009b31m")
        << "C1 CSI, which some terminals obey";
}

TEST(TerminalSafe, ReplacesBytesThatAreNotUtf8) {
    const std::string replacement = "\xef\xbf\xbd";
    EXPECT_EQ(terminal_safe("a\xff"
                            "b"),
              "a" + replacement + "b");
    EXPECT_EQ(terminal_safe("\xc0\xaf"), replacement + replacement) << "overlong '/'";
    EXPECT_EQ(terminal_safe("\xed\xa0\x80"), replacement + replacement + replacement) << "a surrogate";
    EXPECT_EQ(terminal_safe("\xf4\x90\x80\x80"), replacement + replacement + replacement + replacement);
    EXPECT_EQ(terminal_safe("cut \xe2\x9c"), "cut " + replacement + replacement);
    EXPECT_EQ(terminal_safe("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
}

} // namespace
} // namespace sshard::cli
