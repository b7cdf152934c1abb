#include "core/spec_loader.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/shard_set.hpp"
#include "tests/core/spec_test_util.hpp"

namespace sshard::core {
namespace {

using test::spec_errors;

Spec load(const std::string& text, const LoadOptions& options = {}) {
    return load_spec_text("dir/jobs.yaml", text, options);
}

TEST(SpecLoader, MinimalSpecRunsLocally) {
    LoadOptions options;
    options.local_cpus = 6;
    Spec spec = load("version: 1\njobs:\n  - name: a\n    command: echo hi\n", options);
    EXPECT_EQ(spec.name, "jobs");
    EXPECT_EQ(spec.hash.size(), 16u);
    ASSERT_EQ(spec.hosts.size(), 1u);
    EXPECT_EQ(spec.hosts[0].name, "localhost");
    EXPECT_EQ(spec.hosts[0].slots, 6);
    EXPECT_EQ(spec.hosts[0].transport, TransportKind::local);
    ASSERT_EQ(spec.jobs.size(), 1u);
    EXPECT_EQ(spec.jobs[0].command.source(), "echo hi");
    EXPECT_EQ(std::get<CountShards>(spec.jobs[0].shards).count, 1u);
    EXPECT_EQ(spec.jobs[0].retries, 0);
    EXPECT_FALSE(spec.jobs[0].timeout);
}

// `sshard submit` checks a spec before its allocation exists: the hosts are not read, nor is anything matched
// or fitted to them, and the rest is checked as always.
TEST(SpecLoader, HostsLaterLeavesTheHostsOut) {
    LoadOptions options;
    options.hosts_later = true;
    Spec spec = load("version: 1\nhosts: 42\nhosts_file: nosuch\njobs:\n"
                     "  - {name: a, command: 'echo {host}', hosts: [gpu1], cpus: 999, memory: 1T}\n",
                     options);
    EXPECT_TRUE(spec.hosts.empty());
    ASSERT_EQ(spec.jobs.size(), 1u);
    EXPECT_EQ(spec_errors("version: 1\njobs:\n  - {name: a, command: 'echo {nosuch}', hosts: [gpu1]}\n", options),
              "jobs.yaml:3:30: error: unknown placeholder '{nosuch}' (this job defines {index}, {count}, {job}, "
              "{attempt}, {host}; for the text '{nosuch}' write '{{nosuch}}')\n"
              "      - {name: a, command: 'echo {nosuch}', hosts: [gpu1]}\n"
              "                                 ^\n");
}

TEST(SpecLoader, EveryJobKeyAndDefaultsInheritance) {
    Spec spec = load(R"(version: 1
name: nightly
defaults:
  retries: 2
  backoff: 5s
  timeout: 1m
  env: {A: "1", B: two}
  workdir: /srv
hosts: [n1]
jobs:
  - name: first
    command: "true"
  - name: second
    command: run {index}
    shards: {count: 3}
    priority: 7
    retries: 4
    backoff: {initial: 250ms, max: 10s, factor: 3}
    timeout: 1h30m
    env: {B: three, C: "4"}
    workdir: /tmp
    needs: first
    hosts: [n1]
)");
    EXPECT_EQ(spec.name, "nightly");
    const JobSpec& first = spec.jobs[0];
    EXPECT_EQ(first.retries, 2);
    EXPECT_EQ(first.backoff.initial, std::chrono::seconds(5));
    EXPECT_EQ(first.backoff.max, std::chrono::seconds(60));
    EXPECT_EQ(first.timeout, std::chrono::minutes(1));
    EXPECT_EQ(first.workdir, "/srv");
    ASSERT_EQ(first.env.size(), 2u);
    const JobSpec& second = spec.jobs[1];
    EXPECT_EQ(second.priority, 7);
    EXPECT_EQ(second.retries, 4);
    EXPECT_EQ(second.backoff.initial, std::chrono::milliseconds(250));
    EXPECT_EQ(second.backoff.max, std::chrono::seconds(10));
    EXPECT_EQ(second.backoff.factor, 3.0);
    EXPECT_EQ(second.timeout, std::chrono::minutes(90));
    EXPECT_EQ(second.workdir, "/tmp");
    std::vector<std::pair<std::string, std::string>> env = {{"A", "1"}, {"B", "three"}, {"C", "4"}};
    EXPECT_EQ(second.env, env);
    EXPECT_EQ(second.needs, std::vector<std::string>{"first"});
    ASSERT_TRUE(second.hosts);
    EXPECT_EQ(second.hosts->patterns, std::vector<std::string>{"n1"});
    EXPECT_EQ(second.location.line, 13);
}

TEST(SpecLoader, HostStringsAndMappings) {
    Spec spec = load(R"(version: 1
hosts:
  - 8/alice@node[01-02]:2222
  - web3
  - name: gpu[1-2]
    user: bob
    port: 22
    slots: auto
    priority: 5
    labels: [gpu, big]
  - {name: here, transport: local, slots: 3}
jobs: [{name: a, command: x}]
)");
    ASSERT_EQ(spec.hosts.size(), 6u);
    EXPECT_EQ(spec.hosts[0].name, "node01");
    EXPECT_EQ(spec.hosts[0].user, "alice");
    EXPECT_EQ(spec.hosts[0].port, 2222);
    EXPECT_EQ(spec.hosts[0].slots, 8);
    EXPECT_EQ(spec.hosts[1].name, "node02");
    EXPECT_EQ(spec.hosts[2].name, "web3");
    EXPECT_EQ(spec.hosts[2].slots, 1);
    EXPECT_EQ(spec.hosts[2].port, 0);
    EXPECT_EQ(spec.hosts[3].name, "gpu1");
    EXPECT_TRUE(spec.hosts[3].auto_slots);
    EXPECT_EQ(spec.hosts[3].priority, 5);
    EXPECT_EQ(spec.hosts[4].labels, (std::vector<std::string>{"gpu", "big"}));
    EXPECT_EQ(spec.hosts[5].transport, TransportKind::local);
    EXPECT_EQ(spec.hosts[5].slots, 3);
}

TEST(SpecLoader, LocalAutoSlotsUseTheCpuCount) {
    LoadOptions options;
    options.local_cpus = 12;
    Spec spec = load("version: 1\nhosts: [{name: me, transport: local, slots: auto}]\njobs: [{name: a, command: x}]\n",
                     options);
    EXPECT_EQ(spec.hosts[0].slots, 12);
}

TEST(SpecLoader, ResourcesPerJobAndHoldBackLimitsPerHostOrFromDefaults) {
    Spec spec = load(R"(version: 1
defaults: {cpus: 2, memory: 1G, max_load: 90%, min_free_memory: 512M}
hosts:
  - {name: a, slots: 8, max_load: 0.5}
  - {name: b, slots: 8, min_free_memory: 2G}
jobs:
  - {name: x, command: x}
  - {name: y, command: x, cpus: 4, memory: 1.5G}
)");
    EXPECT_EQ(spec.jobs[0].cpus, 2);
    EXPECT_EQ(spec.jobs[0].memory, 1ull << 30);
    EXPECT_EQ(spec.jobs[1].cpus, 4);
    EXPECT_EQ(spec.jobs[1].memory, 3ull << 29);
    EXPECT_EQ(spec.hosts[0].max_load, 0.5);
    EXPECT_EQ(spec.hosts[0].min_free_memory, 512ull << 20);
    EXPECT_EQ(spec.hosts[1].max_load, 0.9);
    EXPECT_EQ(spec.hosts[1].min_free_memory, 2ull << 30);
    Spec plain = load("version: 1\nhosts: [a]\njobs: [{name: a, command: x}]\n");
    EXPECT_EQ(plain.jobs[0].cpus, 1);
    EXPECT_FALSE(plain.jobs[0].memory);
    EXPECT_FALSE(plain.hosts[0].max_load);
    EXPECT_FALSE(plain.hosts[0].min_free_memory);
}

TEST(SpecLoader, AShardTooBigIsAnErrorOnlyWhereTheHostsSizesAreKnown) {
    LoadOptions options;
    options.local_cpus = 4;
    options.local_memory = 8ull << 30;
    auto spec = [](const std::string& hosts, const std::string& job) {
        return "version: 1\nhosts: " + hosts + "\njobs: [{name: j, command: x, " + job + "}]\n";
    };
    // `slots: auto` over SSH and remote memory are known only on connect: the scheduler checks then.
    EXPECT_EQ(spec_errors(spec("[{name: a, slots: auto}]", "cpus: 64"), options), "");
    EXPECT_EQ(spec_errors(spec("[4/a]", "memory: 1T"), options), "");
    EXPECT_EQ(spec_errors(spec("[{name: a, slots: 2}, {name: b, slots: auto}]", "cpus: 3"), options), "");
    // A local host's slots and memory are this machine's.
    EXPECT_EQ(spec_errors(spec("[{name: me, transport: local, slots: auto}]", "cpus: 4, memory: 8G"), options), "");
    EXPECT_THAT(spec_errors(spec("[{name: me, transport: local, slots: auto}]", "cpus: 5"), options),
                testing::HasSubstr("a shard needs 5 CPUs, more slots than any of its hosts has (the most: 4)"));
    EXPECT_THAT(spec_errors(spec("[{name: me, transport: local}]", "memory: 9G"), options),
                testing::HasSubstr("a shard needs 9 GiB of memory, more than any of its hosts has (the most: 8 GiB)"));
    // Only the job's own hosts count.
    EXPECT_THAT(spec_errors(spec("[2/a, 8/b]", "cpus: 4, hosts: [a]"), options),
                testing::HasSubstr("job 'j': a shard needs 4 CPUs"));
}

TEST(SpecLoader, DefaultRunNameIsMadeSafeForADirectory) {
    EXPECT_EQ(load_spec_text("dir/my jobs (v2).yaml", "version: 1\njobs: [{name: a, command: x}]\n").name,
              "my-jobs--v2-");
    EXPECT_EQ(load_spec_text("dir/.hidden.yaml", "version: 1\njobs: [{name: a, command: x}]\n").name, "run.hidden");
}

TEST(SpecLoader, BadShardsDoNotAlsoMakeTheirPlaceholdersUnknown) {
    EXPECT_EQ(spec_errors("version: 1\njobs: [{name: a, command: 'x {os}', shards: {matrix: {os: []}}}]\n"),
              "jobs.yaml:2:59: error: matrix key 'os' needs at least one value\n"
              "    jobs: [{name: a, command: 'x {os}', shards: {matrix: {os: []}}}]\n"
              "                                                              ^\n");
}

TEST(SpecLoader, SlurmHost) {
    Spec spec = load(R"(version: 1
hosts:
  - name: hpc
    transport: slurm
    slots: 256
    slurm: {partition: debug, account: proj42, time: 30m, options: ["--qos=normal", --mem=2G]}
  - {name: other, transport: slurm}
jobs: [{name: a, command: x}]
)");
    ASSERT_EQ(spec.hosts.size(), 2u);
    EXPECT_EQ(spec.hosts[0].transport, TransportKind::slurm);
    EXPECT_EQ(spec.hosts[0].slots, 256);
    EXPECT_EQ(spec.hosts[0].slurm.partition, "debug");
    EXPECT_EQ(spec.hosts[0].slurm.account, "proj42");
    EXPECT_EQ(spec.hosts[0].slurm.time, std::chrono::minutes(30));
    EXPECT_THAT(spec.hosts[0].slurm.options, testing::ElementsAre("--qos=normal", "--mem=2G"));
    EXPECT_EQ(spec.hosts[1].slurm.partition, "");
    EXPECT_FALSE(spec.hosts[1].slurm.time);
}

TEST(SpecLoader, HostsFlagReplacesTheSpecsHosts) {
    LoadOptions options;
    options.hosts_override = "2/a[1-2],root@b:2200";
    Spec spec = load("version: 1\nhosts: [x, y, z]\njobs: [{name: a, command: x}]\n", options);
    ASSERT_EQ(spec.hosts.size(), 3u);
    EXPECT_EQ(spec.hosts[1].name, "a2");
    EXPECT_EQ(spec.hosts[1].slots, 2);
    EXPECT_EQ(spec.hosts[2].user, "root");
    EXPECT_EQ(spec.hosts[2].port, 2200);
}

TEST(SpecLoader, BadHostsFlagIsAnError) {
    LoadOptions options;
    options.hosts_override = "a[1-";
    try {
        load("version: 1\njobs: [{name: a, command: x}]\n", options);
        FAIL();
    } catch (const SpecError&) {
        FAIL() << "a flag error is not a spec error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("bad --hosts value 'a[1-': ", 0), 0u) << e.what();
    }
}

TEST(SpecLoader, ShardKinds) {
    Spec spec = load(R"(version: 1
jobs:
  - {name: c, command: "x {index}", shards: {count: 4}}
  - {name: r, command: "x {start} {end}", shards: {range: {from: 10, to: 25, chunk: 10}}}
  - {name: i, command: "x {item}", shards: {items: [a, 2, "c d"]}}
  - {name: m, command: "x {os} {cc}", shards: {matrix: {os: [linux, bsd], cc: [gcc, clang, icc]}}}
)");
    EXPECT_EQ(std::get<CountShards>(spec.jobs[0].shards).count, 4u);
    auto range = std::get<RangeShards>(spec.jobs[1].shards);
    EXPECT_EQ(range.from, 10);
    EXPECT_EQ(range.to, 25);
    EXPECT_EQ(range.chunk, 10);
    EXPECT_EQ(std::get<ItemsShards>(spec.jobs[2].shards).items, (std::vector<std::string>{"a", "2", "c d"}));
    auto matrix = std::get<MatrixShards>(spec.jobs[3].shards);
    ASSERT_EQ(matrix.axes.size(), 2u);
    EXPECT_EQ(matrix.axes[0].first, "os");
    EXPECT_EQ(matrix.axes[1].second.size(), 3u);
}

TEST(SpecLoader, LinesFileIsReadRelativeToTheSpec) {
    auto dir = std::filesystem::temp_directory_path() / "sshard_lines_test";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "in.txt") << "alpha\r\n\n   \nbeta gamma\nlast";
    Spec spec = load_spec_text((dir / "jobs.yaml").string(),
                               "version: 1\njobs: [{name: a, command: 'x {item}', shards: {lines: in.txt}}]\n");
    auto lines = std::get<LinesShards>(spec.jobs[0].shards);
    EXPECT_EQ(lines.path, "in.txt");
    EXPECT_EQ(lines.lines, (std::vector<std::string>{"alpha", "beta gamma", "last"}));
    std::filesystem::remove_all(dir);
}

TEST(SpecLoader, UnknownKeySuggestsTheRightOne) {
    EXPECT_EQ(spec_errors("version: 1\njobs:\n  - name: a\n    command: x\n    retires: 3\n"),
              "jobs.yaml:5:5: error: unknown key 'retires' (did you mean 'retries'?)\n"
              "        retires: 3\n"
              "        ^\n");
}

TEST(SpecLoader, ReportsEveryProblemInOneGo) {
    EXPECT_EQ(spec_errors(R"(version: 1
hosts: ["node[3-1]"]
jobs:
  - name: a
    command: echo {itme}
    shards: {items: [x]}
    retries: -1
  - name: a
    command: x
    timeout: soon
  - name: b
    command: x
    needs: [c]
)"),
              "jobs.yaml:2:9: error: bad range '3-1' in hostlist 'node[3-1]' (the start is after the end)\n"
              "    hosts: [\"node[3-1]\"]\n"
              "            ^\n"
              "jobs.yaml:5:19: error: unknown placeholder '{itme}' (did you mean '{item}'? for the text '{itme}' write "
              "'{{itme}}')\n"
              "        command: echo {itme}\n"
              "                      ^\n"
              "jobs.yaml:7:14: error: 'retries' must be from 0 to 1000, not -1\n"
              "        retries: -1\n"
              "                 ^\n"
              "jobs.yaml:8:11: error: duplicate job name 'a' (first defined at line 4)\n"
              "      - name: a\n"
              "              ^\n"
              "jobs.yaml:10:14: error: bad duration 'soon' for 'timeout' (write e.g. 250ms, 30s, 5m, 1h30m or a "
              "number of seconds)\n"
              "        timeout: soon\n"
              "                 ^\n"
              "jobs.yaml:13:12: error: job 'b' needs unknown job 'c'\n"
              "        needs: [c]\n"
              "               ^\n");
}

TEST(SpecLoader, LongLinesFilesAreReadWholeAcrossBlocks) {
    auto dir = std::filesystem::temp_directory_path() / "sshard_long_lines_test";
    std::filesystem::create_directories(dir);
    {
        std::ofstream out(dir / "in.txt");
        for (int i = 0; i < 100'000; ++i) {
            out << "line-" << i << (i % 3 == 0 ? "\r\n" : "\n");
        }
        out << std::string(500'000, 'x'); // a long last line without a line break
    }
    Spec spec = load_spec_text((dir / "jobs.yaml").string(),
                               "version: 1\njobs: [{name: a, command: 'x {item}', shards: {lines: in.txt}}]\n");
    const auto& lines = std::get<LinesShards>(spec.jobs[0].shards).lines;
    ASSERT_EQ(lines.size(), 100'001u);
    for (int i : {0, 1, 5000, 5957, 99'999}) {
        EXPECT_EQ(lines[static_cast<std::size_t>(i)], "line-" + std::to_string(i));
    }
    EXPECT_EQ(lines.back(), std::string(500'000, 'x'));
    std::filesystem::remove_all(dir);
}

TEST(SpecLoader, EndlessOrHugeInputIsRefusedNotRead) {
    EXPECT_EQ(spec_errors("version: 1\njobs: [{name: a, command: 'x {item}', shards: {lines: /dev/zero}}]\n"),
              "jobs.yaml:2:55: error: line 1 of lines file '/dev/zero' is longer than 1 MiB\n"
              "    jobs: [{name: a, command: 'x {item}', shards: {lines: /dev/zero}}]\n"
              "                                                          ^\n");
    try {
        read_spec_file("/dev/zero");
        ADD_FAILURE() << "read an endless spec";
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "spec '/dev/zero' is larger than 16 MiB: put long lists of shards in a 'lines' file");
    }
}

TEST(SpecLoader, BackoffMaxGrowsToALongerInitialUnlessGiven) {
    for (const char* backoff : {"2m", "{initial: 2m}", "{initial: 2m, factor: 3}"}) {
        Spec spec = load(std::string("version: 1\njobs: [{name: a, command: x, backoff: ") + backoff + "}]\n");
        EXPECT_EQ(spec.jobs[0].backoff.initial, std::chrono::minutes(2)) << backoff;
        EXPECT_EQ(spec.jobs[0].backoff.max, std::chrono::minutes(2)) << backoff;
    }
    EXPECT_NE(spec_errors("version: 1\njobs: [{name: a, command: x, backoff: {initial: 2m, max: 1m}}]\n")
                  .find("backoff 'max' (1m) is shorter than 'initial' (2m)"),
              std::string::npos);
}

TEST(SpecLoader, TimeoutNoneLiftsTheDefaultsTimeout) {
    Spec spec = load("version: 1\ndefaults: {timeout: 5m}\n"
                     "jobs: [{name: a, command: x}, {name: b, command: x, timeout: none}]\n");
    EXPECT_EQ(spec.jobs[0].timeout, std::chrono::minutes(5));
    EXPECT_EQ(spec.jobs[1].timeout, std::nullopt);
}

TEST(SpecLoader, DetachIsOffUnlessAJobSaysSo) {
    Spec spec = load("version: 1\njobs: [{name: a, command: x}, {name: b, command: x, detach: true}]\n");
    EXPECT_FALSE(spec.jobs[0].detach);
    EXPECT_TRUE(spec.jobs[1].detach);
}

TEST(SpecLoader, LargeSpecsLoadWhole) {
    std::string text = "version: 1\njobs:\n  - name: big\n    command: 'echo {item}'\n    shards:\n      items:\n";
    for (int i = 0; i < 100'000; ++i) {
        text += "        - item-" + std::to_string(i) + "\n";
    }
    Spec spec = load(text);
    const auto& items = std::get<ItemsShards>(spec.jobs[0].shards).items;
    ASSERT_EQ(items.size(), 100'000u);
    EXPECT_EQ(items.back(), "item-99999");
}

TEST(SpecLoader, DeeplyNestedYamlIsAnErrorNotACrash) {
    std::string deep = "version: 1\njobs: [{name: a, command: x, shards: {items: " + std::string(100'000, '[') +
                       std::string(100'000, ']') + "}}]\n";
    // yaml-cpp sets the limit (500 levels in Debian 12's).
    EXPECT_THAT(spec_errors(deep),
                testing::MatchesRegex("jobs.yaml:2:[0-9]+: error: invalid YAML: nested [0-9]+ or more "
                                      "levels deep\n(.|\n)*"));
    std::string deep_maps = "version: 1\njobs: [{name: a, command: x, env: ";
    for (int i = 0; i < 100'000; ++i) {
        deep_maps += "{a: ";
    }
    deep_maps += "b" + std::string(100'000, '}') + "}]\n";
    EXPECT_THAT(spec_errors(deep_maps), testing::HasSubstr(" or more levels deep\n"));
}

TEST(SpecLoader, AliasesThatExpandExponentiallyAreNeverExpanded) {
    // "Billion laughs": ten levels of ten aliases each would be 10^10 items if anything expanded them.
    std::string laughs = "version: 1\njobs:\n  - name: a\n    command: 'echo {item}'\n    shards:\n      items:\n"
                         "        - &l0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int level = 1; level < 10; ++level) {
        laughs += "        - &l" + std::to_string(level) + " [";
        for (int i = 0; i < 10; ++i) {
            laughs += (i > 0 ? ", *l" : "*l") + std::to_string(level - 1);
        }
        laughs += "]\n";
    }
    std::string errors = spec_errors(laughs);
    // Refused where the expansion first passes the limit: level 7, 10^8 values.
    EXPECT_NE(errors.find("jobs.yaml:14:11: error: aliases expand this to more than"), std::string::npos) << errors;
    EXPECT_LT(errors.size(), 10'000u) << "each level is reported once, not once per expanded item";

    // Aliases used where they are allowed share one list: a matrix of 1000^3 shards is planned, not stored.
    std::string values;
    for (int i = 0; i < 1000; ++i) {
        values += (i > 0 ? ", " : "") + std::to_string(i);
    }
    Spec spec = load("version: 1\njobs: [{name: a, command: 'echo {a}{b}{c}', shards: {matrix: {a: &v [" + values +
                     "], b: *v, c: *v}}}]\n");
    ShardSet shards(spec.jobs[0]);
    EXPECT_EQ(shards.size(), 1'000'000'000u);
    EXPECT_EQ(shards.command(999'999'999), "echo 999999999");
}

TEST(SpecLoader, BytesThatAreNotUtf8ReachCommandsAsTheyAre) {
    Spec spec =
        load("version: 1\njobs: [{name: a, command: \"cat caf\xe9-{item}\", shards: {items: [\"\xff\xfe\"]}}]\n");
    ShardSet shards(spec.jobs[0]);
    EXPECT_EQ(shards.command(0), "cat caf\xe9-'\xff\xfe'");
    EXPECT_NE(spec_errors("version: 1\njobs: [{name: \"caf\xe9\", command: x}]\n").find("bad job name"),
              std::string::npos);
}

TEST(SpecLoader, YamlSyntaxError) {
    EXPECT_EQ(spec_errors("version: 1\njobs: [\n  {name: a\n"),
              "jobs.yaml:4:1: error: invalid YAML: end of map flow not found\n");
}

TEST(SpecLoader, NotAMapping) {
    EXPECT_EQ(spec_errors("- a\n- b\n"),
              "jobs.yaml:1:1: error: a job spec must be a mapping with 'version: 1' and 'jobs'\n"
              "    - a\n"
              "    ^\n");
}

TEST(SpecLoader, MissingVersionAndJobs) {
    EXPECT_EQ(spec_errors("name: x\n"), "jobs.yaml:1:1: error: missing 'version: 1' (the spec format's version)\n"
                                        "    name: x\n"
                                        "    ^\n"
                                        "jobs.yaml:1:1: error: missing 'jobs' (the list of jobs to run)\n"
                                        "    name: x\n"
                                        "    ^\n");
}

TEST(SpecLoader, WrongVersion) {
    EXPECT_EQ(spec_errors("version: 2\njobs: [{name: a, command: x}]\n"),
              "jobs.yaml:1:10: error: unsupported spec version 2 (this sshard reads version 1)\n"
              "    version: 2\n"
              "             ^\n");
}

} // namespace
} // namespace sshard::core
