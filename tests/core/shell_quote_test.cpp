#include "core/shell_quote.hpp"

#include <gtest/gtest.h>

#include "tests/core/shell_test_util.hpp"

#include <cstdio>
#include <sys/wait.h>

namespace sshard::core {
namespace {

using test::run_shell;

TEST(ShellQuote, LeavesSafeWordsAlone) {
    EXPECT_EQ(shell_quote("node01"), "node01");
    EXPECT_EQ(shell_quote("ABCxyz_0189"), "ABCxyz_0189");
    EXPECT_EQ(shell_quote("user@host:/data/run-1.5,a+b=c%d"), "user@host:/data/run-1.5,a+b=c%d");
    EXPECT_EQ(shell_quote("--flag"), "--flag");
}

TEST(ShellQuote, QuotesTheEmptyString) {
    EXPECT_EQ(shell_quote(""), "''");
}

TEST(ShellQuote, QuotesEveryOtherCharacter) {
    EXPECT_EQ(shell_quote("a b"), "'a b'");
    EXPECT_EQ(shell_quote("$HOME"), "'$HOME'");
    EXPECT_EQ(shell_quote("`id`"), "'`id`'");
    EXPECT_EQ(shell_quote("a\"b"), "'a\"b'");
    EXPECT_EQ(shell_quote("a\\b"), "'a\\b'");
    EXPECT_EQ(shell_quote("*.log"), "'*.log'");
    EXPECT_EQ(shell_quote("~"), "'~'");
    EXPECT_EQ(shell_quote("a;b|c&d"), "'a;b|c&d'");
    EXPECT_EQ(shell_quote("a\nb"), "'a\nb'");
    EXPECT_EQ(shell_quote("{x}"), "'{x}'");
    EXPECT_EQ(shell_quote("caf\xc3\xa9"), "'caf\xc3\xa9'");
}

TEST(ShellQuote, WritesSingleQuotesAsEscapedQuotes) {
    EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
    EXPECT_EQ(shell_quote("'"), "''\\'''");
    EXPECT_EQ(shell_quote("''"), "''\\'''\\'''");
}

TEST(ShellQuote, ShellReadsBackEveryByteAsOneWord) {
    std::string all;
    for (int c = 1; c < 256; ++c) {
        all += static_cast<char>(c);
    }
    // '<%s>' per argument: two words would print two pairs of angle brackets.
    EXPECT_EQ(run_shell("printf '<%s>' " + shell_quote(all)), "<" + all + ">");
    EXPECT_EQ(run_shell("printf '<%s>' " + shell_quote("")), "<>");
}

} // namespace
} // namespace sshard::core
