#include "core/shell_quote.hpp"

#include <array>
#include <cstdio>
#include <gtest/gtest.h>

namespace sshard::core {
namespace {

// What `sh` makes of `words`: each argument it sees, one per line.
std::string shell_arguments(const std::string& words) {
    std::string command = "printf '%s\\n' " + words;
    std::string script = "/bin/sh -c " + shell_quote(command);
    FILE* pipe = popen(script.c_str(), "r");
    std::string out;
    std::array<char, 4096> buffer{};
    while (std::size_t n = fread(buffer.data(), 1, buffer.size(), pipe)) {
        out.append(buffer.data(), n);
    }
    pclose(pipe);
    return out;
}

TEST(ShellQuote, SafeWordsStayAsTheyAre) {
    EXPECT_EQ(shell_quote("node01"), "node01");
    EXPECT_EQ(shell_quote("a/b.c-d_e@f%g+h=i:j,k"), "a/b.c-d_e@f%g+h=i:j,k");
    EXPECT_EQ(shell_quote("-5"), "-5");
}

TEST(ShellQuote, EverythingElseIsSingleQuoted) {
    EXPECT_EQ(shell_quote(""), "''");
    EXPECT_EQ(shell_quote("a b"), "'a b'");
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote("~"), "'~'");
    EXPECT_EQ(shell_quote("*"), "'*'");
}

TEST(ShellQuote, HostileValuesReachTheCommandAsOneLiteralWord) {
    const char* values[] = {"$(rm -rf ~)", "a b; c", "'", "`id`",     "x\ny", "\"$HOME\"",
                            "a\\b",        "&&|>",   "*", "$((1+1))", "''''", "\t"};
    for (const char* value : values) {
        EXPECT_EQ(shell_arguments(shell_quote(value)), std::string(value) + "\n") << value;
    }
}

} // namespace
} // namespace sshard::core
