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
    EXPECT_EQ(segments_of(parse_ok("${{HOME}}")), std::vector<std::string>{"0:${HOME}"});
}

TEST(CommandTemplateParse, BracesThatAreNotAroundANameAreTheShells) {
    for (std::string_view source :
         {"{ a; b; }", "${HOME} ${x:-y}", "awk '{ print $1 }'", "f() { g; }; f", "find . -exec cmd {} \\;", "a } b",
          "{", "echo {host", "{1st} {my-host} {x[1]}", "{ host }", "{a,b}", "${a:-${b}}", "}}"}) {
        EXPECT_EQ(segments_of(parse_ok(source)), std::vector<std::string>{"0:" + std::string(source)}) << source;
    }
    EXPECT_EQ(segments_of(parse_ok("{ echo {item}; }")), (std::vector<std::string>{"0:{ echo ", "7:{item}", "13:; }"}));
    EXPECT_EQ(segments_of(parse_ok("{host {port}")), (std::vector<std::string>{"0:{host ", "6:{port}"}));
}

TEST(CommandTemplateParse, ReportsEveryPlaceNoQuotingHolds) {
    EXPECT_EQ(problems_of("echo \\{a} \"\\{b}\" # {c}\necho `cat {d}`"),
              (std::vector<std::string>{
                  "6: placeholder '{a}' after a backslash in command: no quoting of its value holds there",
                  "12: placeholder '{b}' after a backslash in command: no quoting of its value holds there",
                  "19: placeholder '{c}' in a comment in command: the shell never reads it",
                  "33: placeholder '{d}' inside `...` in command: write $(...) instead"}));
    EXPECT_EQ(problems_of(std::string("echo a\0b", 8)),
              std::vector<std::string>{"6: NUL byte in command: no command line can carry it"});
}

TEST(CommandTemplateParse, ClearsProblemsFromAnEarlierCall) {
    Problems problems;
    CommandTemplate::parse("# {x}", problems);
    ASSERT_EQ(problems.size(), 1u);
    CommandTemplate::parse("{ok}", problems);
    EXPECT_TRUE(problems.empty());
}

TEST(CommandTemplateRefusal, ChecksValuesWhereTheyStand) {
    auto refusal = [](std::string_view source, std::string_view value) {
        CommandTemplate command = parse_ok(source);
        return CommandTemplate::refusal(command.segments()[1], value);
    };
    EXPECT_EQ(refusal("echo {v}", std::string_view("a\0b", 3)), "holds a NUL byte, which no command line can carry");
    EXPECT_EQ(refusal("echo {v}", "a\nb"), "");
    EXPECT_EQ(refusal("cat <<E\n{v}\nE", "a\nb"), "holds a line break, which could end the here-document");
    EXPECT_EQ(refusal("cat <<E\n{v}\nE", "E"), "would end the here-document, whose delimiter is 'E'");
    EXPECT_EQ(refusal("cat <<E\nx{v}\nE", "E"), "");
    EXPECT_EQ(refusal("cat <<EOF\nE{v}\nEOF", "OF"), "would end the here-document, whose delimiter is 'EOF'");
    EXPECT_EQ(refusal("cat <<-E\n\t{v}\nE", "\tx"), "starts with a tab, which <<- strips");
    EXPECT_EQ(refusal("echo $(({v}))", "-12"), "");
    for (std::string_view bad : {"010", "1+1", "x", "", "0x1", "1234567890123456789"}) {
        EXPECT_EQ(refusal("echo $(({v}))", bad), "is not a whole number, which arithmetic in the command needs");
    }
    CommandTemplate numbers = parse_ok("cat <<E1\n{v}\nE1\n");
    EXPECT_EQ(CommandTemplate::refusal_of_numbers(numbers.segments()[1]),
              "could end the here-document, whose delimiter 'E1' holds digits");
    EXPECT_EQ(CommandTemplate::refusal_of_numbers(parse_ok("cat <<E\n{v}\nE\n").segments()[1]), "");
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

TEST(CommandTemplateRender, WritesEachValueForWhereItStands) {
    auto render = [](std::string_view source, std::string value) {
        return parse_ok(source).render(resolver({{"v", std::move(value)}}));
    };
    EXPECT_EQ(render("echo {v} '{v}' \"{v}\"", "a'$"), "echo 'a'\\''$' 'a'\\''$' \"a'\\$\"");
    EXPECT_EQ(render("echo \"${x:-{v}}\"", "}\"$"), "echo \"${x:-\\}\\\"\\$}\"");
    EXPECT_EQ(render("cat <<E\n{v}\nE", "\"$`\\"), "cat <<E\n\"\\$\\`\\\\\nE");
    EXPECT_EQ(render("cat <<'E'\n{v}\nE", "\"$`\\"), "cat <<'E'\n\"$`\\\nE");
    EXPECT_EQ(render("echo $((5-{v}))", "-3"), "echo $((5-(-3)))");
    // Bare, these would be a reserved word and an assignment where a command starts.
    EXPECT_EQ(render("{v} x", "esac"), "'esac' x");
    EXPECT_EQ(render("{v} x", "PATH=/tmp"), "'PATH=/tmp' x");
    EXPECT_EQ(render("{v} x", "--x=1"), "--x=1 x");
    EXPECT_EQ(render("echo {x,{v}} {v}", "a,b"), "echo {x,'a,b'} a,b");
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
