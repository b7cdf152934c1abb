#include "core/command_template.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

CommandTemplate parse_ok(std::string_view source) {
    std::vector<CommandTemplate::Problem> problems;
    CommandTemplate t = CommandTemplate::parse(source, problems);
    EXPECT_TRUE(problems.empty()) << problems.front().message;
    return t;
}

std::string problems_of(std::string_view source) {
    std::vector<CommandTemplate::Problem> problems;
    CommandTemplate::parse(source, problems);
    std::string out;
    for (const auto& p : problems) {
        out += std::to_string(p.offset) + ": " + p.message + "\n";
    }
    return out;
}

std::string render(const CommandTemplate& t) {
    return t.render([](std::string_view name) -> std::optional<std::string> {
        if (name == "item") {
            return "a b";
        }
        if (name == "index") {
            return "7";
        }
        return std::nullopt;
    });
}

TEST(CommandTemplate, SegmentsAndOffsets) {
    CommandTemplate t = parse_ok("run {index} --in {item}!");
    ASSERT_EQ(t.segments().size(), 5u);
    EXPECT_EQ(t.segments()[1].text, "index");
    EXPECT_TRUE(t.segments()[1].placeholder);
    EXPECT_EQ(t.segments()[1].offset, 4u);
    EXPECT_EQ(t.segments()[3].offset, 17u);
    EXPECT_EQ(t.source(), "run {index} --in {item}!");
}

TEST(CommandTemplate, RendersQuotedValuesAndKeepsUnknownPlaceholders) {
    EXPECT_EQ(render(parse_ok("run {index} --in {item} on {host}")), "run 7 --in 'a b' on {host}");
}

TEST(CommandTemplate, DoubledBracesAreLiteral) {
    EXPECT_EQ(render(parse_ok("awk '{{print $1}}' {index}")), "awk '{print $1}' 7");
    EXPECT_EQ(render(parse_ok("{{index}}")), "{index}");
}

TEST(CommandTemplate, Problems) {
    EXPECT_EQ(problems_of("echo {index"), "5: unclosed '{' in command (write '{{' for a literal brace)\n");
    EXPECT_EQ(problems_of("echo }"), "5: lone '}' in command (write '}}' for a literal brace)\n");
    EXPECT_EQ(problems_of("x {}"), "2: empty placeholder '{}' in command (write '{{}}' for literal braces)\n");
    EXPECT_EQ(problems_of("x {a b}"), "2: bad placeholder '{a b}' in command (a placeholder is a name: letters, "
                                      "digits and '_'; write '{{' for a literal brace)\n");
    EXPECT_EQ(problems_of("x {1a} {ok}"), "2: bad placeholder '{1a}' in command (a placeholder is a name: letters, "
                                          "digits and '_'; write '{{' for a literal brace)\n");
    EXPECT_EQ(problems_of("{a {b}"), "0: unclosed '{' in command (write '{{' for a literal brace)\n");
}

} // namespace
} // namespace sshard::core
