// End-to-end over SSH: `sshard exec`, a command once on each host of the loopback cluster, without a spec.
#include <fstream>
#include <gtest/gtest.h>

#include "tests/cli/binary.hpp"
#include "tests/ssh/ssh_fixture.hpp"

namespace sshard::test {
namespace {

std::string block(const std::string& title, const std::string& text) {
    return "----------------\n" + title + "\n----------------\n" + text;
}

class Exec : public SshFixture {
protected:
    // Runs `sshard exec` in the test's directory (where its records go) with the cluster's ssh_config.
    Result exec(std::vector<std::string> flags, const std::vector<std::string>& command) {
        std::vector<std::string> args{"exec", "--ssh-config", k_cluster + "/ssh_config"};
        args.insert(args.end(), flags.begin(), flags.end());
        args.emplace_back("--");
        args.insert(args.end(), command.begin(), command.end());
        return run_sshard(args, m_dir);
    }
};

// The words are joined by spaces for the remote shell, as ssh does; braces are the command's, never
// placeholders; each host's output comes whole under its name.
TEST_F(Exec, RunsOnceOnEachHostGroupedByHost) {
    Result r = exec({"--hosts", "node[1-4]"},
                    {"echo", "'a  b'", "{x}", "'${HOME%/}'", "$SSHARD_HOST;", "echo", "{{y}}", ">&2"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    for (int i = 1; i <= 4; ++i) {
        std::string host = "node" + std::to_string(i);
        EXPECT_NE(r.out.find(block(host, "a  b {x} ${HOME%/} " + host + "\n")), std::string::npos) << r.out;
        EXPECT_NE(r.err.find(block(host + " (stderr)", "{{y}}\n")), std::string::npos) << r.err;
    }
    EXPECT_EQ(r.out.find("shards"), std::string::npos) << "no run report: " << r.out;
}

TEST_F(Exec, FoldPrintsIdenticalOutputOnceAndNamesFailedHosts) {
    Result r =
        exec({"--hosts", "node[1-4]", "--fold"}, {"if [ $SSHARD_HOST = node3 ]; then echo odd; exit 3; fi; echo same"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, block("node[1-2,4]", "same\n") + block("node3", "odd\n"));
    EXPECT_NE(r.err.find("sshard: node3: exit 3\n"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("sshard: 1 of 4 hosts failed: node3 (records in "), std::string::npos) << r.err;
    Result output = run_sshard({"output", "--failed"}, m_dir);
    EXPECT_EQ(output.out, block("exec[2]@node3", "odd\n")) << output.err;
}

TEST_F(Exec, HostfileFanoutTimeoutAndUnreachableHosts) {
    std::ofstream(m_dir + "/hosts") << "# the cluster\nnode[1-2] labels=a\n127.0.0.1:1  # nothing listens\n";
    Result r = exec({"--hostfile", m_dir + "/hosts", "--fanout", "1", "--down-limit", "1s", "--timeout", "5s"},
                    {"echo", "ok"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.out.find(block("node1", "ok\n")), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(block("node2", "ok\n")), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("sshard: 1 of 3 hosts failed: 127.0.0.1 (records in "), std::string::npos) << r.err;

    Result slow = exec({"--hosts", "node1", "--timeout", "200ms"}, {"sleep", "30"});
    EXPECT_EQ(slow.exit_code, 1) << slow.err;
    EXPECT_NE(slow.err.find("sshard: node1: timed out after 200ms\n"), std::string::npos) << slow.err;
}

TEST_F(Exec, BadUseExits2) {
    EXPECT_EQ(exec({}, {"true"}).exit_code, 2);
    EXPECT_EQ(exec({"--hosts", "node1,node1"}, {"true"}).err,
              "sshard: error: bad --hosts value 'node1,node1': host 'node1' is listed twice\n");
    EXPECT_EQ(exec({"--hosts", "node1", "--timeout", "soon"}, {"true"}).exit_code, 2);
    EXPECT_EQ(run_sshard({"exec", "--hosts", "node1"}, m_dir).exit_code, 2) << "no command";
    Result typo =
        run_sshard({"exec", "--ssh-config", k_cluster + "/ssh_config", "--bogus", "--hosts", "node1", "true"}, m_dir);
    EXPECT_EQ(typo.exit_code, 2) << "a mistyped option is not a command: " << typo.err;
    EXPECT_FALSE(fs::exists(m_dir + "/.sshard")) << "nothing ran";
}

// Without --, the command starts at its first word, and its options are its own, as with ssh.
TEST_F(Exec, CommandWithoutDashesKeepsItsOptions) {
    Result r = run_sshard(
        {"exec", "--ssh-config", k_cluster + "/ssh_config", "--hosts", "node2", "echo", "-x", "--fold", "y"}, m_dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, block("node2", "-x --fold y\n"));
}

} // namespace
} // namespace sshard::test
