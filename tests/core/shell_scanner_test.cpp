#include "core/shell_scanner.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/core/shell_grammar.hpp"

namespace sshard::core {
namespace {

// The placement of each placeholder in `text`, where '@' stands for a placeholder: "word", "single", ..., or
// "refused: <reason>".
std::vector<std::string> placed(std::string text) {
    std::replace(text.begin(), text.end(), '@', k_placeholder_mark);
    std::vector<std::string> out;
    for (const auto& placement : place_placeholders(text)) {
        static const char* names[] = {"word",          "braced_word",          "single",    "double", "double_in_brace",
                                      "here_document", "here_document_quoted", "arithmetic"};
        out.push_back(placement.refusal.empty() ? names[static_cast<int>(placement.quoting)]
                                                : "refused: " + placement.refusal);
    }
    return out;
}

using Strings = std::vector<std::string>;

TEST(ShellScanner, QuotesAndExpansions) {
    EXPECT_EQ(placed("echo @ '@' \"@\" \"$(echo @ '@')\" $((@+1)) ${x:-@} \"${x:-@}\""),
              (Strings{"word", "single", "double", "word", "single", "arithmetic", "word", "double_in_brace"}));
}

TEST(ShellScanner, AWordAfterAnUnquotedBraceMayBeExpandedByBash) {
    EXPECT_EQ(placed("echo {a,@} '{'@ x{@ {}@"), (Strings{"braced_word", "word", "braced_word", "braced_word"}));
}

TEST(ShellScanner, ACommentEndsAtTheLineAndItsQuotesAreText) {
    EXPECT_EQ(placed("echo start # it's fine\necho @"), (Strings{"word"}));
    EXPECT_EQ(placed("echo a#b '@'"), (Strings{"single"}));
    EXPECT_EQ(placed("echo @ # @"), (Strings{"word", "refused: in a comment in command: the shell never reads it"}));
}

TEST(ShellScanner, CasePatternsDoNotCloseTheSubstitution) {
    EXPECT_EQ(placed("echo \"$(case a in a) echo @;; esac)\" \"@\""), (Strings{"word", "double"}));
    EXPECT_EQ(placed("echo \"$(case a in (a|b) echo @;; *) echo;; esac) '@'\""), (Strings{"word", "double"}));
    EXPECT_EQ(placed("echo case in a) \"@\""), (Strings{"double"}));
}

TEST(ShellScanner, HereDocuments) {
    auto here = [](std::string text) {
        std::replace(text.begin(), text.end(), '@', k_placeholder_mark);
        return place_placeholders(text);
    };
    EXPECT_EQ(placed("cat <<EOF\nprocessing @\nEOF\necho @"), (Strings{"here_document", "word"}));
    EXPECT_EQ(placed("cat <<'EOF'\n'@'\nEOF\n'@'"), (Strings{"here_document_quoted", "single"}));
    // The body starts on the line after the command's end, which is after the quoted newlines.
    EXPECT_EQ(placed("cat <<E\\OF; echo '@\n$(@)\nEOF\n'\n@\nEOF\n@"),
              (Strings{"single", "single", "here_document_quoted", "word"}));
    EXPECT_EQ(placed("cat <<-\"X\"\n\t@\n\tX\n@"), (Strings{"here_document_quoted", "word"}));
    EXPECT_EQ(placed("cat <<EOF\n$(echo @) ${x:-@}\nEOF"), (Strings{"word", "double_in_brace"}));
    EXPECT_EQ(placed("cat <<A; cat <<B\n@\nA\n@\nB\n@"), (Strings{"here_document", "here_document", "word"}));
    // The continued line "a" + "EOF" is not the delimiter.
    EXPECT_EQ(placed("cat <<EOF\na\\\nEOF\n@\nEOF\n@"), (Strings{"here_document", "word"}));
    auto lines = here("cat <<-EOF\n\t@x@\n\tEOF");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].here_document->line, std::string("\0x\0", 3));
    EXPECT_TRUE(lines[0].here_document->after_tabs);
    EXPECT_FALSE(lines[1].here_document->after_tabs);
    EXPECT_EQ(lines[1].here_document->delimiter, "EOF");
    EXPECT_EQ(placed("cat <<@\nx\n@"), (Strings{"refused: in a here-document's delimiter in command: the delimiter "
                                                "must be fixed text",
                                                "here_document"}));
}

TEST(ShellScanner, PlacesNoQuotingHolds) {
    EXPECT_EQ(placed("echo \\@ `echo @` ${@} ${x:1:@}"),
              (Strings{"refused: after a backslash in command: no quoting of its value holds there",
                       "refused: inside `...` in command: write $(...) instead",
                       "refused: as the name in ${...} in command: only a fixed name works there",
                       "refused: after an operator of ${...} that POSIX sh does not define, in command"}));
    EXPECT_EQ(placed("echo $'\\'' @"),
              (Strings{"refused: after a $'...' holding \\' in command: dash and bash end that quote at different "
                       "places"}));
    EXPECT_EQ(placed("((@ > 1)) && echo $[@]"), (Strings{"arithmetic", "arithmetic"}));
}

TEST(ShellScanner, DeepNestingIsRefusedNotACrash) {
    std::string text;
    for (int i = 0; i < 100000; ++i) {
        text += "\"$(";
    }
    text += "@";
    EXPECT_EQ(placed(text), (Strings{"refused: in command nested more than 200 levels deep"}));
}

// The promise itself, by execution: every production of the grammar, filled with every hostile value, either is
// refused as loading the spec would refuse it, or prints exactly the value under dash and bash --posix and
// creates no file. Each value's commands run as one script per shell; only a failing one runs them one by one.
// Every base takes every value; the wrapped productions, a third of them each, in turn, to stay within seconds.
TEST(ShellGrammar, EveryValueIsItsTextOrRefusedUnderDashAndBash) {
    namespace fs = std::filesystem;
    ASSERT_EQ(system("command -v dash >/dev/null && command -v bash >/dev/null"), 0) << "needs dash and bash";
    fs::path dir = fs::temp_directory_path() / ("sshard-grammar-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::vector<grammar::Production> productions = grammar::productions();
    std::size_t ran = 0;
    for (std::size_t v = 0; v < grammar::k_values.size(); ++v) {
        const std::string& value = grammar::k_values[v];
        std::string script;
        std::string expected;
        std::vector<std::pair<std::string, std::string>> cases;
        for (std::size_t p = 0; p < productions.size(); ++p) {
            const grammar::Production& production = productions[p];
            std::string rendered;
            std::string why;
            if ((production.wrapped && (p + v) % 3 != 0) || !grammar::render(production.text, value, rendered, why)) {
                continue;
            }
            cases.emplace_back(rendered, production.expected(value));
            script += rendered + "\nprintf '\\001'\n";
            expected += production.expected(value) + '\x01';
        }
        for (const auto& shell : grammar::k_shells) {
            int status = 0;
            if (grammar::run(shell, script, dir.string(), status) == expected && fs::is_empty(dir)) {
                ran += cases.size();
                continue;
            }
            for (const auto& [rendered, want] : cases) {
                EXPECT_EQ(grammar::run(shell, rendered, dir.string(), status), want) << shell[0] << ": " << rendered;
                EXPECT_TRUE(fs::is_empty(dir)) << shell[0] << " made a file: " << rendered;
                fs::remove_all(dir);
                fs::create_directories(dir);
            }
        }
    }
    fs::remove_all(dir);
    // Most of the grammar takes most values: a refusal everywhere would prove nothing.
    EXPECT_GT(ran, productions.size() * grammar::k_values.size() / 2);
}

TEST(ShellGrammar, RefusesEveryPlaceWithoutQuoting) {
    for (const auto& text : grammar::k_refused) {
        std::string rendered;
        std::string why;
        EXPECT_FALSE(grammar::render(text, "x", rendered, why)) << text << " rendered as " << rendered;
    }
}

TEST(ShellGrammar, RefusesOnlyForHereDocumentsArithmeticAndNul) {
    for (const auto& production : grammar::productions()) {
        bool may_refuse =
            production.text.find("<<") != std::string::npos || production.text.find("((") != std::string::npos;
        for (const auto& value : grammar::k_values) {
            std::string rendered;
            std::string why;
            EXPECT_TRUE(grammar::render(production.text, value, rendered, why) || may_refuse)
                << production.text << " refused '" << value << "': " << why;
        }
        std::string rendered;
        std::string why;
        EXPECT_FALSE(grammar::render(production.text, std::string("a\0b", 3), rendered, why));
    }
}

} // namespace
} // namespace sshard::core
