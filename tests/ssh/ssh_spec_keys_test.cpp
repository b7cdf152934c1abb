// End-to-end over SSH: what `shards: each_host`, `pass_env` and `shell` promise, where a shard's command and
// environment travel to a real sshd (a slot worker's request, or a channel of its own under no_worker).
#include <cstdlib>
#include <gtest/gtest.h>

#include "tests/cli/binary.hpp"
#include "tests/ssh/ssh_fixture.hpp"

namespace sshard::test {
namespace {

class SshSpecKeys : public SshFixture {};

TEST_F(SshSpecKeys, PinnedShardsHostileEnvAndShells) {
    const std::string hostile = "it's \"q\" $(touch /tmp/sshard-pwned) `id` ${HOME} \\ \n'\n\t end";
    ::setenv("SSH_SPEC_KEYS_SECRET", hostile.c_str(), 1);
    std::string spec = write_spec(R"~(version: 1
hosts: ["2/node[1-3]"]
defaults: {pass_env: [SSH_SPEC_KEYS_SECRET]}
jobs:
  - name: setup
    shards: each_host
    command: 'printf %s "$SSH_SPEC_KEYS_SECRET"; echo " {host} $SSHARD_HOST"'
  - name: bash
    needs: setup
    shell: bash
    command: 'a=(x "y z"); echo "${a[1]}" {item}'
    shards: {items: ["it's $(x)"]
}
  - {name: dash, needs: setup, command: 'a=(x "y z"); echo "${a[1]}"'}
  - {name: missing, needs: setup, shell: /nonexistent/sh, command: 'true'}
)~");
    Result r = run({"run", spec});
    ::unsetenv("SSH_SPEC_KEYS_SECRET");
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    for (int i = 0; i < 3; ++i) {
        std::string host = "node" + std::to_string(i + 1);
        EXPECT_EQ(read_file(m_dir + "/run/out/setup/" + std::to_string(i) + ".1.out"),
                  hostile + " " + host + " " + host + "\n");
    }
    EXPECT_EQ(read_file(m_dir + "/run/out/bash/0.1.out"), "y z it's $(x)\n");
    EXPECT_NE(read_file(m_dir + "/run/out/dash/0.1.err"), "") << "the login's /bin/sh is dash: no arrays";
    EXPECT_EQ(read_file(m_dir + "/run/out/missing/0.1.err"), "sshard: no shell '/nonexistent/sh' on this host\n");
    EXPECT_EQ(read_file(m_dir + "/run/journal.jsonl").find("pwned"), std::string::npos);
    EXPECT_FALSE(fs::exists("/tmp/sshard-pwned"));
}

} // namespace
} // namespace sshard::test
