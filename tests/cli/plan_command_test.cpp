// End-to-end: `sshard plan` on specs under tests/data.
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

TEST(PlanCommand, PrintsHostsJobsAndFirstShards) {
    std::string spec = data_path("plan_basic.yaml");
    Result r = run_sshard({"plan", spec});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.out, "plan 'basic' from " + spec +
                         ": 2 jobs, 9 shards, 4 hosts\n"
                         "\n"
                         "hosts\n"
                         "  node[01-03] slots 2, priority 0, ssh\n"
                         "  gpu1        slots 4, priority 5, ssh, labels gpu\n"
                         "\n"
                         "job render (priority 0, 3 shards)\n"
                         "  hosts:    gpu1,node[01-03]\n"
                         "  retries:  0 (backoff 1s x2 up to 1m)\n"
                         "  timeout:  none\n"
                         "  env:      TOKEN (values hidden; --show-env)\n"
                         "  [0] render --frame a --out /tmp/render\n"
                         "  [1] render --frame 'b c' --out /tmp/render\n"
                         "  [2] render --frame '$(x)' --out /tmp/render\n"
                         "\n"
                         "job train (priority 3, 6 shards)\n"
                         "  hosts:    gpu1\n"
                         "  retries:  2 (backoff 1s x2 up to 1m)\n"
                         "  timeout:  10m\n"
                         "  needs:    render\n"
                         "  [0] train --lr 0.1 --depth 2\n"
                         "  [1] train --lr 0.1 --depth 4\n"
                         "  [2] train --lr 0.1 --depth 8\n"
                         "  [3] train --lr 0.01 --depth 2\n"
                         "  [4] train --lr 0.01 --depth 4\n"
                         "  ... and 1 more (--format json lists every shard)\n");
}

// A command of several lines keeps its lines under its first, not at the margin among the plan's own lines.
TEST(PlanCommand, IndentsTheLinesOfMultiLineCommands) {
    std::string dir = make_temp_dir();
    std::string spec = dir + "/jobs.yaml";
    std::ofstream(spec) << "version: 1\nhosts: [n1]\njobs:\n  - name: multi\n    shards: {count: 11}\n"
                           "    command: |\n      set -e\n      echo {index}\n\n      echo done\n";
    Result r = run_sshard({"plan", spec});
    std::filesystem::remove_all(dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("  [0] set -e\n"
                         "      echo 0\n"
                         "\n"
                         "      echo done\n"
                         "  [1] set -e\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("  [4] set -e\n      echo 4\n\n      echo done\n  ... and 6 more"), std::string::npos)
        << r.out;
}

TEST(PlanCommand, ShowEnvRevealsValues) {
    Result r = run_sshard({"plan", data_path("plan_basic.yaml"), "--show-env"});
    EXPECT_NE(r.out.find("  env:      TOKEN=secret\n"), std::string::npos) << r.out;
}

TEST(PlanCommand, JsonListsEveryShard) {
    Result r = run_sshard({"plan", data_path("plan_basic.yaml"), "--format", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto plan = nlohmann::json::parse(r.out);
    EXPECT_EQ(plan["name"], "basic");
    ASSERT_EQ(plan["hosts"].size(), 4u);
    EXPECT_EQ(plan["hosts"][3]["name"], "gpu1");
    EXPECT_EQ(plan["hosts"][3]["slots"], 4);
    ASSERT_EQ(plan["jobs"].size(), 2u);
    EXPECT_EQ(plan["jobs"][0]["name"], "render");
    EXPECT_EQ(plan["jobs"][0]["env"]["TOKEN"], nullptr);
    EXPECT_EQ(plan["jobs"][1]["priority"], 3);
    EXPECT_EQ(plan["jobs"][1]["timeout_s"], 600.0);
    ASSERT_EQ(plan["jobs"][1]["shards"].size(), 6u);
    EXPECT_EQ(plan["jobs"][1]["shards"][5]["index"], 5);
    EXPECT_EQ(plan["jobs"][1]["shards"][5]["command"], "train --lr 0.01 --depth 8");
}

TEST(PlanCommand, HostsFlagReplacesHosts) {
    Result r = run_sshard({"plan", data_path("plan_hosts.yaml"), "--format", "json", "--hosts", "gpu1,x[1-2]"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto plan = nlohmann::json::parse(r.out);
    ASSERT_EQ(plan["hosts"].size(), 3u);
    EXPECT_EQ(plan["hosts"][2]["name"], "x2");
}

TEST(PlanCommand, EmptyHostsFlagIsAnErrorNotTheSpecsHosts) {
    for (const char* command : {"plan", "hosts"}) {
        Result r = run_sshard({command, data_path("plan_hosts.yaml"), "--hosts", ""});
        EXPECT_EQ(r.exit_code, 2) << command;
        EXPECT_EQ(r.err, "sshard: error: bad --hosts value '': empty hostlist\n") << command;
    }
}

TEST(PlanCommand, HostsFlagThatBreaksAFilterIsASpecError) {
    Result r = run_sshard({"plan", data_path("plan_basic.yaml"), "--hosts", "x[1-2]"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("error: job 'train' matches no host"), std::string::npos) << r.err;
}

TEST(PlanCommand, HostsFlagRefusesAHostListedTwice) {
    for (const char* command : {"plan", "hosts"}) {
        Result r = run_sshard({command, data_path("plan_hosts.yaml"), "--hosts", "n[1-3],n2"});
        EXPECT_EQ(r.exit_code, 2) << command;
        EXPECT_EQ(r.err, "sshard: error: bad --hosts value 'n[1-3],n2': host 'n2' is listed twice\n") << command;
    }
}

// A host file carries labels, so a job that picks its hosts by label runs where the spec meant.
TEST(PlanCommand, HostfileReplacesHostsWithTheirLabels) {
    std::string dir = make_temp_dir();
    std::string hostfile = dir + "/hosts.txt";
    std::ofstream(hostfile) << "# farm\nnode[01-03] slots=2\nbig1 slots=4 priority=5 labels=gpu,x  # the GPU\n";
    Result r = run_sshard({"plan", data_path("plan_basic.yaml"), "--hostfile", hostfile});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("hosts\n"
                         "  node[01-03] slots 2, priority 0, ssh\n"
                         "  big1        slots 4, priority 5, ssh, labels gpu,x\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("job train (priority 3, 6 shards)\n  hosts:    big1\n"), std::string::npos) << r.out;

    std::ofstream(hostfile) << "node1\nnode[0-2]\n";
    Result twice = run_sshard({"plan", data_path("plan_basic.yaml"), "--hostfile", hostfile});
    EXPECT_EQ(twice.exit_code, 2);
    EXPECT_EQ(twice.err, hostfile +
                             ":2:1: error: host 'node1' is listed twice (first at line 1)\n"
                             "    node[0-2]\n"
                             "    ^\n"
                             "sshard: 1 error in " +
                             hostfile + "; nothing was dispatched\n");
    Result both = run_sshard({"run", data_path("plan_basic.yaml"), "--hostfile", hostfile, "--hosts", "a"});
    EXPECT_EQ(both.exit_code, 2);
    Result missing = run_sshard({"hosts", data_path("plan_basic.yaml"), "--hostfile", dir + "/none"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_EQ(missing.err, "sshard: error: cannot read host file '" + dir + "/none': No such file or directory\n");
    std::filesystem::remove_all(dir);
}

TEST(PlanCommand, SpecErrorsAllAtOnceExit2) {
    std::string spec = data_path("plan_errors.yaml");
    Result r = run_sshard({"plan", spec});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, spec +
                         ":4:19: error: unknown placeholder '{itme}' (this job defines {index}, {count}, "
                         "{job}, {attempt}, {host}; for the text '{itme}' write '{{itme}}')\n"
                         "        command: echo {itme}\n"
                         "                      ^\n" +
                         spec +
                         ":5:5: error: unknown key 'retires' (did you mean 'retries'?)\n"
                         "        retires: 3\n"
                         "        ^\n"
                         "sshard: 2 errors in " +
                         spec + "; nothing was dispatched\n");
}

TEST(PlanCommand, MissingSpecFile) {
    Result r = run_sshard({"plan", "/nonexistent/jobs.yaml"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "sshard: error: cannot read spec '/nonexistent/jobs.yaml': No such file or directory\n");
}

TEST(PlanCommand, BadFlagsExit2) {
    EXPECT_EQ(run_sshard({"plan", data_path("plan_basic.yaml"), "--format", "xml"}).exit_code, 2);
    EXPECT_EQ(run_sshard({"plan"}).exit_code, 2);
    EXPECT_EQ(run_sshard({"frobnicate"}).exit_code, 2);
    EXPECT_EQ(run_sshard({}).exit_code, 2);
}

TEST(PlanCommand, HelpAndVersion) {
    Result help = run_sshard({"plan", "--help"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_NE(help.out.find("--format"), std::string::npos);
    Result version = run_sshard({"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out.rfind("sshard ", 0), 0u);
}

TEST(PlanCommand, ExampleSpecPlans) {
    Result r = run_sshard({"plan", std::string(SSHARD_SOURCE_DIR) + "/jobs.example.yaml"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

} // namespace
} // namespace sshard::test
