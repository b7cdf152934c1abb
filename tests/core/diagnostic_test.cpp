#include "core/diagnostic.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

TEST(Diagnostic, FormatsWithSourceLineAndCaret) {
    Diagnostic d{{3, 5}, "unknown key 'x'", "  - x: 1"};
    EXPECT_EQ(format_diagnostic("a.yaml", d), "a.yaml:3:5: error: unknown key 'x'\n      - x: 1\n        ^\n");
}

TEST(Diagnostic, CaretKeepsTabs) {
    Diagnostic d{{1, 3}, "m", "\t\tx"};
    EXPECT_EQ(format_diagnostic("a", d), "a:1:3: error: m\n    \t\tx\n    \t\t^\n");
}

TEST(Diagnostic, VeryLongLinesShowAWindowAroundTheColumn) {
    std::string line = std::string(500, '[') + "x" + std::string(500, ']');
    Diagnostic d{{1, 501}, "m", line};
    std::string shown = "..." + std::string(60, '[') + "x" + std::string(59, ']') + "...";
    EXPECT_EQ(format_diagnostic("a", d), "a:1:501: error: m\n    " + shown + "\n    " + std::string(63, ' ') + "^\n");
    Diagnostic start{{1, 2}, "m", std::string(300, 'y')};
    EXPECT_EQ(format_diagnostic("a", start), "a:1:2: error: m\n    " + std::string(120, 'y') + "...\n     ^\n");
}

TEST(Diagnostic, WholeFileHasNoPosition) {
    Diagnostic d{{}, "file is empty", ""};
    EXPECT_EQ(format_diagnostic("a.yaml", d), "a.yaml: error: file is empty\n");
}

TEST(Diagnostic, Colour) {
    Diagnostic d{{1, 1}, "m", "x"};
    EXPECT_EQ(format_diagnostic("a", d, true), "a:1:1: \033[1;31merror:\033[0m m\n    x\n    \033[1;32m^\033[0m\n");
}

TEST(DiagnosticList, SortsByPositionAndFillsSourceLines) {
    DiagnosticList list("first\r\nsecond\nthird");
    list.error({3, 2}, "c");
    list.error({1, 1}, "a");
    list.error({9, 1}, "beyond the end");
    auto all = list.take();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].source_line, "first");
    EXPECT_EQ(all[1].source_line, "third");
    EXPECT_EQ(all[2].source_line, "");
}

TEST(ClosestMatch, SuggestsWithinSmallDistance) {
    std::vector<std::string> keys = {"retries", "backoff", "timeout", "env"};
    EXPECT_EQ(closest_match("retires", keys), "retries");
    EXPECT_EQ(closest_match("timeot", keys), "timeout");
    EXPECT_EQ(closest_match("backof", keys), "backoff");
    EXPECT_EQ(closest_match("zzz", keys), "");
    EXPECT_EQ(closest_match("en", keys), "env");
    EXPECT_EQ(closest_match("x", keys), "");
}

} // namespace
} // namespace sshard::core
