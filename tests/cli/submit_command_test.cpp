// `sshard submit` checks the spec before it submits: a spec in error fails as `run` fails it, with nothing
// submitted and no run directory left. A fake `sbatch` first on PATH records whether it ran, so these tests
// need no Slurm (tests/slurm/slurm_agent_test.cpp submits to a real cluster).
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

namespace fs = std::filesystem;

class SubmitCommand : public E2eTest {
protected:
    void SetUp() override {
        E2eTest::SetUp();
        fs::create_directories(m_dir + "/bin");
        std::string sbatch = write_file("bin/sbatch", "#!/bin/sh\nprintf '%s\\n' \"$@\" >" + m_dir +
                                                          "/sbatch.args\necho '4242;cluster'\n");
        fs::permissions(sbatch, fs::perms::owner_all);
        const char* path = std::getenv("PATH");
        m_path = path != nullptr ? path : "/usr/bin:/bin";
        ::setenv("PATH", (m_dir + "/bin:" + m_path).c_str(), 1);
    }
    void TearDown() override {
        ::setenv("PATH", m_path.c_str(), 1);
        E2eTest::TearDown();
    }

    bool submitted() const { return fs::exists(m_dir + "/sbatch.args"); }

    std::string m_path;
};

// Every problem of the spec, located as `run` and `plan` print them, exit 2, and sbatch never runs.
TEST_F(SubmitCommand, ASpecInErrorIsNotSubmitted) {
    write_file("jobs.yaml", "version: 1\n"
                            "jobs:\n"
                            "  - name: a\n"
                            "    command: echo {nosuch}\n"
                            "    retires: 3\n");
    Result r = run_sshard({"submit", "jobs.yaml", "--nodes", "2"}, m_dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "jobs.yaml:4:19: error: unknown placeholder '{nosuch}' (this job defines {index}, {count}, "
                     "{job}, {attempt}, {host}; for the text '{nosuch}' write '{{nosuch}}')\n"
                     "        command: echo {nosuch}\n"
                     "                      ^\n"
                     "jobs.yaml:5:5: error: unknown key 'retires' (did you mean 'retries'?)\n"
                     "        retires: 3\n"
                     "        ^\n"
                     "sshard: 2 errors in jobs.yaml; nothing was dispatched\n");
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(submitted());
    EXPECT_FALSE(fs::exists(m_dir + "/.sshard"));
}

// The hosts are not checked: the batch job's run takes the allocation's nodes instead of them, and outside an
// allocation `slurm_allocation` has none. The rest is: the spec goes to sbatch once it is right.
TEST_F(SubmitCommand, TheHostsAreLeftToTheAllocation) {
    ::unsetenv("SLURM_JOB_NODELIST");
    write_file("jobs.yaml", "version: 1\n"
                            "hosts: slurm_allocation\n"
                            "jobs:\n"
                            "  - {name: a, command: 'echo {host}', hosts: [gpu1]}\n");
    Result r = run_sshard({"submit", "jobs.yaml"}, m_dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(submitted());
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), "4242");
    EXPECT_NE(read_file(m_dir + "/sbatch.args").find(" --hosts slurm_allocation "), std::string::npos)
        << read_file(m_dir + "/sbatch.args");
}

} // namespace
} // namespace sshard::test
