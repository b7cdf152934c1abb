#include "core/names.hpp"

#include <gtest/gtest.h>

#include "core/command_template.hpp"

namespace sshard::core {
namespace {

TEST(Names, Identifiers) {
    EXPECT_TRUE(is_identifier("a"));
    EXPECT_TRUE(is_identifier("_x9"));
    EXPECT_TRUE(is_identifier("GPU_COUNT"));
    EXPECT_FALSE(is_identifier(""));
    EXPECT_FALSE(is_identifier("9a"));
    EXPECT_FALSE(is_identifier("a-b"));
    EXPECT_FALSE(is_identifier("a.b"));
    EXPECT_FALSE(is_identifier("caf\xc3\xa9"));
}

// A matrix key becomes a placeholder: every identifier must be read as one in a command, and nothing else.
TEST(Names, IdentifiersAreExactlyThePlaceholderNames) {
    for (std::string name : {"a", "_x9", "GPU_COUNT", "9a", "a-b", "a.b", "caf\xc3\xa9", "a b"}) {
        std::vector<CommandTemplate::Problem> problems;
        auto command = CommandTemplate::parse("echo {" + name + "}", problems);
        bool placeholder = std::any_of(command.segments().begin(), command.segments().end(),
                                       [](const auto& segment) { return segment.placeholder; });
        EXPECT_EQ(placeholder, is_identifier(name)) << name;
    }
}

TEST(Names, SafeNames) {
    EXPECT_TRUE(is_safe_name("build-1.2_x"));
    EXPECT_TRUE(is_safe_name(std::string(100, 'a')));
    EXPECT_FALSE(is_safe_name(std::string(101, 'a')));
    EXPECT_FALSE(is_safe_name(""));
    EXPECT_FALSE(is_safe_name(".hidden"));
    EXPECT_FALSE(is_safe_name("a/b"));
    EXPECT_FALSE(is_safe_name("a b"));
}

TEST(Names, DefaultRunNameIsASafeNameFromTheFileStem) {
    EXPECT_EQ(default_run_name("dir/jobs.yaml"), "jobs");
    EXPECT_EQ(default_run_name("my jobs!.yaml"), "my-jobs-");
    EXPECT_EQ(default_run_name(".yaml"), "run.yaml");
    EXPECT_EQ(default_run_name(std::string(150, 'x') + ".yaml"), std::string(100, 'x'));
    EXPECT_TRUE(is_safe_name(default_run_name("/tmp/..yaml")));
}

} // namespace
} // namespace sshard::core
