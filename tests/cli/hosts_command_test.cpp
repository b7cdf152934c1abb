// End-to-end: `sshard hosts` lists hosts in a column as wide as their names, and `--check` of a local host
// measures a real command run as shards run.
#include <gtest/gtest.h>
#include <regex>
#include <sstream>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

class HostsCommand : public E2eTest {};

TEST_F(HostsCommand, ListsWholeNamesInOneColumn) {
    std::string spec = write_file("jobs.yaml", "version: 1\nhosts: ['render-node-east-0[01-03]', "
                                               "'a-host-whose-name-is-longer-than-the-old-column']\n"
                                               "jobs: [{name: j, command: 'true'}]\n");
    Result r = run_sshard({"hosts", spec});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream lines(r.out);
    std::size_t column = std::string::npos;
    for (std::string line; std::getline(lines, line);) {
        EXPECT_EQ(line.find(" slots "), column == std::string::npos ? line.find(" slots ") : column) << r.out;
        column = line.find(" slots ");
    }
    for (const char* name : {"render-node-east-001 ", "render-node-east-003 ", "-longer-than-the-old-column "}) {
        EXPECT_NE(r.out.find(name), std::string::npos) << name << "\n" << r.out;
    }
}

// The round trip of a local host is that of `/bin/sh -c true` here, which takes time: never 0 ms; it has no
// connection to set up.
TEST_F(HostsCommand, CheckOfALocalHostRunsACommand) {
    std::string spec = write_file("jobs.yaml", "version: 1\nhosts: [{name: here, transport: local}]\n"
                                               "jobs: [{name: j, command: 'true'}]\n");
    Result r = run_sshard({"hosts", spec, "--check"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::smatch match;
    ASSERT_TRUE(
        std::regex_search(r.out, match, std::regex(R"(^here ok +cpus \d+ +setup +n/a  rtt +(\d+\.\d) ms  local\n$)")))
        << r.out;
    EXPECT_NE(match[1], "0.0") << r.out;
}

} // namespace
} // namespace sshard::test
