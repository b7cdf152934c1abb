#include "core/command_template.hpp"

#include <gtest/gtest.h>

#include "tests/core/shell_test_util.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/wait.h>

namespace sshard::core {
namespace {

using Problems = std::vector<CommandTemplate::Problem>;

CommandTemplate parse_ok(std::string_view source) {
    Problems problems;
    CommandTemplate command = CommandTemplate::parse(source, problems);
    EXPECT_TRUE(problems.empty()) << source << ": " << problems.front().message;
    return command;
}

// Each problem as "offset: message", to compare whole lists at once.
std::vector<std::string> problems_of(std::string_view source) {
    Problems problems;
    CommandTemplate::parse(source, problems);
    std::vector<std::string> out;
    for (const auto& problem : problems) {
        out.push_back(std::to_string(problem.offset) + ": " + problem.message);
    }
    return out;
}

// Each segment as "offset:text" for literals and "offset:{name}" for placeholders.
std::vector<std::string> segments_of(const CommandTemplate& command) {
    std::vector<std::string> out;
    for (const auto& segment : command.segments()) {
        std::string text = segment.placeholder ? "{" + segment.text + "}" : segment.text;
        out.push_back(std::to_string(segment.offset) + ":" + text);
    }
    return out;
}

CommandTemplate::Resolver resolver(std::map<std::string, std::string> values) {
    return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
        auto it = values.find(std::string(name));
        if (it == values.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

using test::run_shell;

const std::string k_unclosed = "unclosed '{' in command (write '{{' for a literal brace)";
const std::string k_lone = "lone '}' in command (write '}}' for a literal brace)";
const std::string k_empty = "empty placeholder '{}' in command (write '{{}}' for literal braces)";

std::string bad_name(std::string_view name) {
    return "bad placeholder '{" + std::string(name) +
           "}' in command (a placeholder is a name: letters, digits and '_'; write '{{' for a literal brace)";
}

TEST(CommandTemplateParse, KeepsTheSource) {
    EXPECT_EQ(parse_ok("echo {host}").source(), "echo {host}");
}

TEST(CommandTemplateParse, EmptySourceHasNoSegments) {
    EXPECT_TRUE(parse_ok("").segments().empty());
}

TEST(CommandTemplateParse, PlainTextIsOneLiteral) {
    EXPECT_EQ(segments_of(parse_ok("uname -a")), std::vector<std::string>{"0:uname -a"});
}

TEST(CommandTemplateParse, PlaceholdersWithOffsetsAtTheirBrace) {
    EXPECT_EQ(segments_of(parse_ok("run {host} --shard={shard_index}/{_n2}")),
              (std::vector<std::string>{"0:run ", "4:{host}", "10: --shard=", "19:{shard_index}", "32:/", "33:{_n2}"}));
}

TEST(CommandTemplateParse, AdjacentPlaceholders) {
    EXPECT_EQ(segments_of(parse_ok("{a}{b}")), (std::vector<std::string>{"0:{a}", "3:{b}"}));
}

TEST(CommandTemplateParse, DoubledBracesAreLiteralAndJoinTheText) {
    EXPECT_EQ(segments_of(parse_ok("awk '{{print $1}}' {file}")),
              (std::vector<std::string>{"0:awk '{print $1}' ", "19:{file}"}));
    EXPECT_EQ(segments_of(parse_ok("{{}}")), std::vector<std::string>{"0:{}"});
    EXPECT_EQ(segments_of(parse_ok("{{{x}}}")), (std::vector<std::string>{"0:{", "2:{x}", "5:}"}));
}

TEST(CommandTemplateParse, ReportsAnUnclosedBrace) {
    EXPECT_EQ(problems_of("echo {host"), std::vector<std::string>{"5: " + k_unclosed});
    EXPECT_EQ(problems_of("{"), std::vector<std::string>{"0: " + k_unclosed});
}

TEST(CommandTemplateParse, BraceOpenedAgainBeforeClosingIsUnclosed) {
    Problems problems;
    CommandTemplate command = CommandTemplate::parse("{host {port}", problems);
    EXPECT_EQ(problems_of("{host {port}"), std::vector<std::string>{"0: " + k_unclosed});
    EXPECT_EQ(segments_of(command), (std::vector<std::string>{"0:{host ", "6:{port}"}));
}

TEST(CommandTemplateParse, ReportsALoneClosingBrace) {
    EXPECT_EQ(problems_of("a } b"), std::vector<std::string>{"2: " + k_lone});
    EXPECT_EQ(problems_of("{a}}"), std::vector<std::string>{"3: " + k_lone});
}

TEST(CommandTemplateParse, ReportsAnEmptyPlaceholder) {
    EXPECT_EQ(problems_of("echo {}"), std::vector<std::string>{"5: " + k_empty});
}

TEST(CommandTemplateParse, ReportsBadNames) {
    EXPECT_EQ(problems_of("awk '{print $1}'"),
              std::vector<std::string>{"5: bad placeholder '{print $1}' in command (a placeholder is a name: letters, "
                                       "digits and '_'; write '{{' for a literal brace)"});
    EXPECT_EQ(problems_of("{my-host}"), std::vector<std::string>{"0: " + bad_name("my-host")});
    EXPECT_EQ(problems_of("{1st}"), std::vector<std::string>{"0: " + bad_name("1st")});
    EXPECT_EQ(problems_of("{ host }"), std::vector<std::string>{"0: " + bad_name(" host ")});
    EXPECT_EQ(problems_of("{x[1]}"), std::vector<std::string>{"0: " + bad_name("x[1]")});
    EXPECT_EQ(problems_of("{h\xc3\xa9}"), std::vector<std::string>{"0: " + bad_name("h\xc3\xa9")});
}

TEST(CommandTemplateParse, ReportsEveryProblemInOrder) {
    EXPECT_EQ(
        problems_of("} {} {a-b} {ok} {open"),
        (std::vector<std::string>{"0: " + k_lone, "2: " + k_empty, "5: " + bad_name("a-b"), "16: " + k_unclosed}));
}

TEST(CommandTemplateParse, ClearsProblemsFromAnEarlierCall) {
    Problems problems;
    CommandTemplate::parse("{", problems);
    ASSERT_EQ(problems.size(), 1u);
    CommandTemplate::parse("{ok}", problems);
    EXPECT_TRUE(problems.empty());
}

TEST(CommandTemplateRender, DefaultTemplateRendersNothing) {
    EXPECT_EQ(CommandTemplate().render(resolver({})), "");
}

TEST(CommandTemplateRender, SubstitutesSafeValuesUnquoted) {
    CommandTemplate command = parse_ok("ssh {host} run --shard={index}");
    EXPECT_EQ(command.render(resolver({{"host", "node01"}, {"index", "3"}})), "ssh node01 run --shard=3");
}

TEST(CommandTemplateRender, QuotesOtherValues) {
    CommandTemplate command = parse_ok("cp {src} {dst}/x");
    EXPECT_EQ(command.render(resolver({{"src", "my file"}, {"dst", ""}})), "cp 'my file' ''/x");
    EXPECT_EQ(parse_ok("echo {v}").render(resolver({{"v", "it's"}})), "echo 'it'\\''s'");
}

TEST(CommandTemplateRender, LeavesUnresolvedPlaceholdersAsWritten) {
    CommandTemplate command = parse_ok("ssh {host} echo {word}");
    EXPECT_EQ(command.render(resolver({{"word", "hi"}})), "ssh {host} echo hi");
}

TEST(CommandTemplateRender, WritesEscapedBracesOnce) {
    CommandTemplate command = parse_ok("awk '{{print {col}}}' {{}}");
    EXPECT_EQ(command.render(resolver({{"col", "$1"}})), "awk '{print $1}' {}");
}

TEST(CommandTemplateParse, FindsWhereEachPlaceholderStands) {
    using Q = CommandTemplate::Quoting;
    auto quoting_of = [](std::string_view source) {
        std::vector<Q> out;
        CommandTemplate command = parse_ok(source);
        for (const auto& segment : command.segments()) {
            if (segment.placeholder) {
                out.push_back(segment.quoting);
            }
        }
        return out;
    };
    EXPECT_EQ(quoting_of("echo {a} '{b}' \"{c}\" x{d}y"),
              (std::vector<Q>{Q::word, Q::single, Q::double_quoted, Q::word}));
    EXPECT_EQ(quoting_of("echo \"$(cat {a}) {b}\" '\"' {c} \"'\" {d}"),
              (std::vector<Q>{Q::word, Q::double_quoted, Q::word, Q::word}));
    EXPECT_EQ(quoting_of("echo $(( {a} + $(f \"{b}\") )) {c} \\' {d}"),
              (std::vector<Q>{Q::word, Q::double_quoted, Q::word, Q::word}));
    EXPECT_EQ(problems_of("echo \\{a} \"\\{b}\""),
              (std::vector<std::string>{
                  "6: placeholder '{a}' after a backslash in command: no quoting of its value holds there",
                  "12: placeholder '{b}' after a backslash in command: no quoting of its value holds there"}));
    EXPECT_EQ(problems_of("echo `cat {a}`"),
              std::vector<std::string>{"10: placeholder '{a}' inside `...` in command: write $(...) instead"});
}

TEST(CommandTemplateRender, AsksTheResolverForEachPlaceholderByName) {
    std::vector<std::string> asked;
    CommandTemplate command = parse_ok("{a} {b} {a}");
    std::string out = command.render([&asked](std::string_view name) -> std::optional<std::string> {
        asked.emplace_back(name);
        return std::string(name) + "!";
    });
    EXPECT_EQ(out, "'a!' 'b!' 'a!'");
    EXPECT_EQ(asked, (std::vector<std::string>{"a", "b", "a"}));
}

TEST(CommandTemplateRender, HostileValuesReachTheShellAsOneLiteralWord) {
    // Should quoting ever break, `rm -rf ~` must hit a scratch HOME, not the developer's: each command first
    // points HOME at a fresh directory, whose name needs no quoting, and a file in it must survive. popen runs
    // the command with `/bin/sh -c`.
    char home_template[] = "/tmp/sshard-test-home-XXXXXX";
    ASSERT_NE(mkdtemp(home_template), nullptr);
    const std::string home = home_template;
    std::ofstream(home + "/canary") << "alive";
    const std::vector<std::string> values = {"$(rm -rf ~)",
                                             "a b; c",
                                             "'",
                                             "`echo pwned`",
                                             "line1\nline2",
                                             "$(echo pwned)",
                                             "${HOME}",
                                             "~",
                                             "*",
                                             "\"",
                                             "\\",
                                             "a'b\"c`d$e",
                                             "-n",
                                             "",
                                             "\t",
                                             "x && echo pwned #"};
    // As a word of its own, inside the command's single quotes, inside its double quotes, and inside $(...)
    // within double quotes.
    for (const char* source : {"printf '<%s>' {value}", "printf '<%s>' '{value}'", "printf '<%s>' \"{value}\"",
                               "printf '<%s>' \"$(printf %s {value})\""}) {
        CommandTemplate command = parse_ok(source);
        for (const auto& value : values) {
            std::string rendered = command.render(resolver({{"value", value}}));
            // '<%s>' repeats per argument, so a value split into two words would print two pairs of brackets.
            // $(...) drops trailing newlines, as the shell always does.
            std::string expected = value;
            if (std::string_view(source).find("$(") != std::string_view::npos) {
                expected.erase(expected.find_last_not_of('\n') + 1);
            }
            EXPECT_EQ(run_shell("HOME=" + home + "; " + rendered), "<" + expected + ">") << rendered;
        }
    }
    EXPECT_TRUE(std::filesystem::exists(home + "/canary"));
    std::filesystem::remove_all(home);
}

} // namespace
} // namespace sshard::core
