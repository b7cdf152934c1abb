#include "core/spec_checks.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

// Each line of `text` as a diagnostic would show it once env values are hidden.
std::vector<std::string> shown_lines(const std::string& text) {
    DiagnosticList diag(text);
    hide_env_values(diag);
    for (int number = 1; number <= diag.line_count(); ++number) {
        diag.error({number, 1}, "x");
    }
    std::vector<std::string> out;
    for (const auto& diagnostic : diag.take()) {
        out.push_back(diagnostic.source_line);
    }
    return out;
}

TEST(HideEnvValues, BlockFlowAndMultiLineValues) {
    EXPECT_EQ(shown_lines("defaults:\n  env:\n    A: one\n    B: |\n      two: 2\n\n    C:\n  workdir: /x\n"
                          "jobs:\n  - env: {D: four}\n    command: echo env: x\n"),
              (std::vector<std::string>{"defaults:", "  env:", "    A: ***", "    B: ***", "      ***", "", "    C:",
                                        "  workdir: /x", "jobs:", "  - env: ***", "    command: echo env: x", ""}));
}

TEST(CheckCommandValues, NamesTheFirstRefusedValueAndCountsTheRest) {
    JobSpec job;
    std::vector<CommandTemplate::Problem> problems;
    job.command = CommandTemplate::parse("cat <<E\n{item} {host}\nE\necho $(({n}))", problems);
    ASSERT_TRUE(problems.empty());
    job.shards = ItemsShards{{"ok", "a\nb", "c\nd"}};
    std::vector<HostSpec> hosts(1);
    hosts[0].name = "node1";
    auto found = check_command_values(job, hosts);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].message, "unknown placeholder '{n}' (this job defines {index}, {count}, {item}, {job}, "
                                "{attempt}, {host}; for the text '{n}' write '{{n}}')");
    job.command = CommandTemplate::parse("cat <<E\n{item} {host}\nE\necho $(({index}))", problems);
    found = check_command_values(job, hosts);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].offset, 8u);
    EXPECT_EQ(found[0].message, "value 'a\\nb' of '{item}' holds a line break, which could end the here-document "
                                "(2 values are refused)");
}

} // namespace
} // namespace sshard::core
