// End-to-end: every numeric flag of every command refuses a value out of its range with a sentence that quotes
// it, exit status 2, and nothing made.
#include <filesystem>
#include <gtest/gtest.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

class FlagRanges : public E2eTest {};

TEST_F(FlagRanges, CountsReadAsSentences) {
    std::string spec = write_file("jobs.yaml", "version: 1\nhosts: [{name: here, transport: local}]\n"
                                               "jobs: [{name: j, command: 'true'}]\n");
    const std::string huge(300, '9');
    struct Case {
        std::vector<std::string> args;
        std::string value;
    };
    const std::vector<Case> cases = {
        {{"run", spec, "--max-parallel"}, "0"},          {{"run", spec, "--max-parallel"}, "-1"},
        {{"run", spec, "--max-parallel"}, huge},         {{"run", spec, "--max-parallel"}, "1.5"},
        {{"run", spec, "--max-parallel"}, "two"},        {{"exec", "--hosts", "here", "--fanout"}, "0"},
        {{"exec", "--hosts", "here", "--fanout"}, huge}, {{"exec", "--hosts", "here", "--fanout"}, "1e3"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args = c.args;
        args.push_back(c.value);
        if (args.front() == "exec") {
            args.insert(args.end(), {"--", "true"});
        }
        Result r = run_sshard(args, m_dir);
        const std::string& flag = c.args.back();
        EXPECT_EQ(r.exit_code, 2) << flag << " " << c.value;
        EXPECT_EQ(r.err.rfind(flag + ": '" + c.value + "' is not a whole number from 1 to 1000000", 0), 0u) << r.err;
        EXPECT_EQ(r.err.find("179769313"), std::string::npos) << "no 300-digit bound: " << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(m_dir + "/.sshard")) << "a refused flag starts no run";
}

TEST_F(FlagRanges, DurationsReadAsSentences) {
    std::string spec = write_file("jobs.yaml", "version: 1\nhosts: [{name: here, transport: local}]\n"
                                               "jobs: [{name: j, command: 'true'}]\n");
    const std::vector<std::vector<std::string>> cases = {
        {"run", spec, "--down-limit", "0"},
        {"run", spec, "--down-limit", "-1s"},
        {"run", spec, "--down-limit", "101d"},
        {"exec", "--hosts", "here", "--down-limit", "soon", "--", "true"},
        {"exec", "--hosts", "here", "--timeout", "0s", "--", "true"},
        {"exec", "--hosts", "here", "--timeout", "99999999999999999999h", "--", "true"},
    };
    for (const auto& args : cases) {
        std::size_t flag = args.front() == "run" ? 2 : 3;
        Result r = run_sshard(args, m_dir);
        EXPECT_EQ(r.exit_code, 2) << args[flag];
        EXPECT_EQ(r.err.rfind(args[flag] + ": '" + args[flag + 1] +
                                  "' is not a duration above zero, up to 100 days, such as 30s or 5m",
                              0),
                  0u)
            << r.err;
    }
    EXPECT_FALSE(std::filesystem::exists(m_dir + "/.sshard")) << "a refused flag starts no run";
}

} // namespace
} // namespace sshard::test
