// One case per diagnostic the loader can give: the spec, and the whole message the user would see.
#include <gtest/gtest.h>

#include "tests/core/spec_test_util.hpp"

namespace sshard::core {
namespace {

using test::spec_errors;

struct Case {
    const char* name;
    std::string jobs; // the body of the jobs list, or a whole spec when it starts with "version"
    std::string expected;
};

void PrintTo(const Case& c, std::ostream* out) {
    *out << c.name;
}

std::string spec_for(const Case& c) {
    if (c.jobs.rfind("version", 0) == 0) {
        return c.jobs;
    }
    return "version: 1\njobs:\n" + c.jobs;
}

class SpecDiagnostic : public testing::TestWithParam<Case> {};

TEST_P(SpecDiagnostic, WholeMessage) {
    EXPECT_EQ(spec_errors(spec_for(GetParam())), GetParam().expected);
}

// clang-format off
const Case k_cases[] = {
    {"JobNotAMapping", "  - just a string\n",
     "jobs.yaml:3:5: error: a job must be a mapping\n"
     "      - just a string\n"
     "        ^\n"},
    {"MissingName", "  - command: x\n",
     "jobs.yaml:3:5: error: a job needs a 'name'\n"
     "      - command: x\n"
     "        ^\n"},
    {"MissingCommand", "  - name: a\n",
     "jobs.yaml:3:5: error: a job needs a 'command'\n"
     "      - name: a\n"
     "        ^\n"},
    {"EmptyCommand", "  - {name: a, command: ' '}\n",
     "jobs.yaml:3:24: error: 'command' must not be empty\n      - {name: a, command: ' '}\n                           ^\n"},
    {"BadJobName", "  - {name: a/b, command: x}\n",
     "jobs.yaml:3:12: error: bad job name 'a/b' (letters, digits, '.', '_' and '-', not starting with '.', at most 100)\n"
     "      - {name: a/b, command: x}\n               ^\n"},
    {"DuplicateKey", "  - {name: a, command: x, command: y}\n",
     "jobs.yaml:3:27: error: duplicate key 'command' in a job\n      - {name: a, command: x, command: y}\n"
     "                              ^\n"},
    {"CommandIsAList", "  - {name: a, command: [x]}\n",
     "jobs.yaml:3:24: error: 'command' must be a single value, not a list\n      - {name: a, command: [x]}\n"
     "                           ^\n"},
    {"NullValue", "  - name: a\n    command: x\n    retries:\n",
     "jobs.yaml:5:5: error: 'retries' needs a value\n"
     "        retries:\n"
     "        ^\n"},
    {"NotANumber", "  - {name: a, command: x, priority: high}\n",
     "jobs.yaml:3:37: error: 'priority' must be a whole number, not 'high'\n"
     "      - {name: a, command: x, priority: high}\n                                        ^\n"},
    {"PlaceholderInAComment", "  - {name: a, command: 'echo {index} # {index}'}\n",
     "jobs.yaml:3:40: error: placeholder '{index}' in a comment in command: the shell never reads it\n"
     "      - {name: a, command: 'echo {index} # {index}'}\n                                           ^\n"},
    {"PlaceholderOfAnotherKind", "  - {name: a, command: 'x {start}', shards: {count: 2}}\n",
     "jobs.yaml:3:27: error: unknown placeholder '{start}' (this job defines {index}, {count}, {job}, {attempt}, {host}; "
     "for the text '{start}' write '{{start}}')\n"
     "      - {name: a, command: 'x {start}', shards: {count: 2}}\n"
     "                              ^\n"},
    {"PlaceholderInABlockPointsAtItsLine", "  - name: a\n    command: |\n      echo start # it's fine\n"
                                         "        echo `cat {index}`\n    shards: {count: 2}\n",
     "jobs.yaml:6:19: error: placeholder '{index}' inside `...` in command: write $(...) instead\n"
     "            echo `cat {index}`\n"
     "                      ^\n"},
    {"UnknownPlaceholderInAFoldedCommand", "  - name: a\n    command: >-\n      echo a\n      {itme}\n    shards: {items: [x]}\n",
     "jobs.yaml:6:7: error: unknown placeholder '{itme}' (did you mean '{item}'? for the text '{itme}' write '{{itme}}')\n"
     "          {itme}\n"
     "          ^\n"},
    {"ValueWouldEndTheHereDocument", "  - name: a\n    command: |\n      cat <<'EOF'\n      {item}\n      EOF\n"
                                     "    shards: {items: [ok, EOF, \"a\\nb\"]}\n",
     "jobs.yaml:6:7: error: value 'EOF' of '{item}' would end the here-document, whose delimiter is 'EOF' (2 values are "
     "refused)\n"
     "          {item}\n"
     "          ^\n"},
    {"ValueInArithmeticIsNotANumber", "  - {name: a, command: 'echo $(( {n} * 2 ))', shards: {matrix: {n: ['1', '010']}}}\n",
     "jobs.yaml:3:34: error: value '010' of '{n}' is not a whole number, which arithmetic in the command needs\n"
     "      - {name: a, command: 'echo $(( {n} * 2 ))', shards: {matrix: {n: ['1', '010']}}}\n"
     "                                     ^\n"},
    {"EnvValuesAreHidden", "version: 1\ndefaults:\n  env:\n    TOKEN: s3cret\n    LONG: |\n      more s3cret\n"
                           "    TOKEN: again\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:7:5: error: duplicate key 'TOKEN' in 'env'\n"
     "        TOKEN: ***\n"
     "        ^\n"},
    {"EnvValuesAreHiddenInYamlErrors", "version: 1\njobs:\n  - name: a\n    command: x\n    env:\n      TOKEN: @s3cret\n",
     "jobs.yaml:6:14: error: invalid YAML: unknown token\n"
     "          TOKEN: ***\n"
     "                 ^\n"},
    {"TwoShardKinds", "  - {name: a, command: x, shards: {count: 2, items: [a]}}\n",
     "jobs.yaml:3:35: error: 'shards' takes exactly one of 'count', 'range', 'items', 'lines', 'matrix', not 'count', 'items'\n"
     "      - {name: a, command: x, shards: {count: 2, items: [a]}}\n                                      ^\n"},
    {"NoShardKind", "  - {name: a, command: x, shards: {}}\n",
     "jobs.yaml:3:35: error: 'shards' needs one of 'count', 'range', 'items', 'lines', 'matrix'\n"
     "      - {name: a, command: x, shards: {}}\n                                      ^\n"},
    {"NegativeCount", "  - {name: a, command: x, shards: {count: -3}}\n",
     "jobs.yaml:3:43: error: 'count' must be from 0 to 1000000000000, not -3\n"
     "      - {name: a, command: x, shards: {count: -3}}\n                                              ^\n"},
    {"ZeroChunk", "  - {name: a, command: x, shards: {range: {from: 0, to: 9, chunk: 0}}}\n",
     "jobs.yaml:3:67: error: 'chunk' must be from 1 to 1000000000000000, not 0\n"
     "      - {name: a, command: x, shards: {range: {from: 0, to: 9, chunk: 0}}}\n"
     "                                                                      ^\n"},
    {"RangeBackwards", "  - {name: a, command: x, shards: {range: {from: 9, to: 1}}}\n",
     "jobs.yaml:3:57: error: range 'to' (1) is below 'from' (9)\n"
     "      - {name: a, command: x, shards: {range: {from: 9, to: 1}}}\n"
     "                                                            ^\n"},
    {"RangeWithoutTo", "  - {name: a, command: x, shards: {range: {from: 9}}}\n",
     "jobs.yaml:3:43: error: 'range' needs 'from' and 'to' (and optionally 'chunk')\n"
     "      - {name: a, command: x, shards: {range: {from: 9}}}\n"
     "                                              ^\n"},
    {"ItemsNotAList", "  - {name: a, command: x, shards: {items: a}}\n",
     "jobs.yaml:3:43: error: 'items' must be a list\n      - {name: a, command: x, shards: {items: a}}\n"
     "                                              ^\n"},
    {"ItemIsAMapping", "  - {name: a, command: x, shards: {items: [{k: v}]}}\n",
     "jobs.yaml:3:44: error: 'items' must be a single value, not a mapping\n"
     "      - {name: a, command: x, shards: {items: [{k: v}]}}\n                                               ^\n"},
    {"UnreadableLines", "  - {name: a, command: x, shards: {lines: /nonexistent/in.txt}}\n",
     "jobs.yaml:3:43: error: cannot read lines file '/nonexistent/in.txt': No such file or directory\n"
     "      - {name: a, command: x, shards: {lines: /nonexistent/in.txt}}\n                                              ^\n"},
    {"MatrixKeyHidesPlaceholder", "  - {name: a, command: x, shards: {matrix: {index: [1]}}}\n",
     "jobs.yaml:3:45: error: matrix key 'index' would hide the placeholder {index}\n"
     "      - {name: a, command: x, shards: {matrix: {index: [1]}}}\n"
     "                                                ^\n"},
    {"MatrixKeyNotAName", "  - {name: a, command: x, shards: {matrix: {a-b: [1]}}}\n",
     "jobs.yaml:3:45: error: bad matrix key 'a-b' (letters, digits and '_', not starting with a digit)\n"
     "      - {name: a, command: x, shards: {matrix: {a-b: [1]}}}\n"
     "                                                ^\n"},
    {"MatrixEmptyValues", "  - {name: a, command: x, shards: {matrix: {os: []}}}\n",
     "jobs.yaml:3:49: error: matrix key 'os' needs at least one value\n"
     "      - {name: a, command: x, shards: {matrix: {os: []}}}\n"
     "                                                    ^\n"},
    {"BadEnvName", "  - {name: a, command: x, env: {1X: y}}\n",
     "jobs.yaml:3:33: error: bad environment variable name '1X' (letters, digits and '_', not starting with a digit)\n"
     "      - {name: a, command: x, env: ***\n"
     "                                    ^\n"},
    {"ReservedEnvName", "  - {name: a, command: x, env: {SSHARD_JOB: y}}\n",
     "jobs.yaml:3:33: error: 'SSHARD_JOB' is set by sshard itself (names starting with SSHARD_ are reserved)\n"
     "      - {name: a, command: x, env: ***\n"
     "                                    ^\n"},
    {"EnvNotAMapping", "  - {name: a, command: x, env: [A]}\n",
     "jobs.yaml:3:32: error: 'env' must be a mapping of NAME: value\n"
     "      - {name: a, command: x, env: ***\n"
     "                                   ^\n"},
    {"ZeroTimeout", "  - {name: a, command: x, timeout: 0}\n",
     "jobs.yaml:3:36: error: 'timeout' must be longer than zero\n"
     "      - {name: a, command: x, timeout: 0}\n"
     "                                       ^\n"},
    {"BackoffMaxBelowInitial", "  - {name: a, command: x, backoff: {initial: 10s, max: 1s}}\n",
     "jobs.yaml:3:36: error: backoff 'max' (1s) is shorter than 'initial' (10s)\n"
     "      - {name: a, command: x, backoff: {initial: 10s, max: 1s}}\n"
     "                                       ^\n"},
    {"BackoffBadFactor", "  - {name: a, command: x, backoff: {factor: 0.5}}\n",
     "jobs.yaml:3:45: error: 'factor' must be a number from 1 to 100, not '0.5'\n"
     "      - {name: a, command: x, backoff: {factor: 0.5}}\n"
     "                                                ^\n"},
    {"EmptyWorkdir", "  - {name: a, command: x, workdir: ''}\n",
     "jobs.yaml:3:36: error: 'workdir' must not be empty\n"
     "      - {name: a, command: x, workdir: ''}\n"
     "                                       ^\n"},
    {"DetachNotABoolean", "  - {name: a, command: x, detach: yes}\n",
     "jobs.yaml:3:35: error: 'detach' must be true or false, not 'yes'\n"
     "      - {name: a, command: x, detach: yes}\n"
     "                                      ^\n"},
    {"NeedsItself", "  - {name: a, command: x, needs: a}\n",
     "jobs.yaml:3:34: error: 'needs' forms a cycle: a -> a\n"
     "      - {name: a, command: x, needs: a}\n"
     "                                     ^\n"},
    {"NeedsCycle", "  - {name: a, command: x, needs: [c]}\n  - {name: b, command: x, needs: [a]}\n"
                   "  - {name: c, command: x, needs: [b]}\n",
     "jobs.yaml:4:34: error: 'needs' forms a cycle: a -> c -> b -> a\n"
     "      - {name: b, command: x, needs: [a]}\n"
     "                                     ^\n"},
    {"NeedsTypo", "  - {name: build, command: x}\n  - {name: b, command: x, needs: [biuld]}\n",
     "jobs.yaml:4:34: error: job 'b' needs unknown job 'biuld' (did you mean 'build'?)\n"
     "      - {name: b, command: x, needs: [biuld]}\n"
     "                                     ^\n"},
    {"EmptyJobs", "version: 1\njobs: []\n",
     "jobs.yaml:2:7: error: 'jobs' is empty: there is nothing to run\n    jobs: []\n          ^\n"},
    {"JobsNotAList", "version: 1\njobs: {a: 1}\n",
     "jobs.yaml:2:7: error: 'jobs' must be a list of jobs\n    jobs: {a: 1}\n          ^\n"},
    {"UnknownTopLevelKey", "version: 1\nhost: [a]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:1: error: unknown key 'host' (did you mean 'hosts'?)\n    host: [a]\n    ^\n"},
    {"UnknownKeyNoHint", "version: 1\nzzz: 1\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:1: error: unknown key 'zzz' in the spec\n    zzz: 1\n    ^\n"},
    {"BadRunName", "version: 1\nname: ../x\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:7: error: bad run name '../x' (letters, digits, '.', '_' and '-', not starting with '.', at most 100)\n"
     "    name: ../x\n          ^\n"},
    {"DefaultsUnknownKey", "version: 1\ndefaults: {priority: 3}\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:12: error: unknown key 'priority' in 'defaults'\n    defaults: {priority: 3}\n               ^\n"},
    {"HostsNotAList", "version: 1\nhosts: a\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:8: error: 'hosts' must be a list of host strings or mappings, or 'slurm_allocation'\n    hosts: a\n           ^\n"},
    {"EmptyHosts", "version: 1\nhosts: []\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:8: error: 'hosts' is empty: there is nowhere to run\n    hosts: []\n           ^\n"},
    {"HostWithoutName", "version: 1\nhosts: [{slots: 2}]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:9: error: a host needs a 'name'\n    hosts: [{slots: 2}]\n            ^\n"},
    {"DuplicateHost", "version: 1\nhosts: [a, \"a[1-2]\", a2]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:22: error: duplicate host 'a2' (each host may be listed once; use an alias in your ssh config to "
     "reach one machine twice)\n    hosts: [a, \"a[1-2]\", a2]\n                         ^\n"},
    {"BadPort", "version: 1\nhosts: [\"a:99999\"]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:9: error: bad port '99999' in host 'a:99999' (a number from 1 to 65535)\n"
     "    hosts: [\"a:99999\"]\n            ^\n"},
    {"BadSlots", "version: 1\nhosts: [{name: a, slots: 0}]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:26: error: 'slots' must be from 1 to 100000, not 0\n    hosts: [{name: a, slots: 0}]\n"
     "                             ^\n"},
    {"EmptyUser", "version: 1\nhosts: [{name: a, user: ''}]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:25: error: 'user' must not be empty (leave it out to take ssh_config's)\n"
     "    hosts: [{name: a, user: ''}]\n"
     "                            ^\n"},
    {"BadTransport", "version: 1\nhosts: [{name: a, transport: rsh}]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:30: error: unknown transport 'rsh' (use 'ssh', 'local' or 'slurm')\n"
     "    hosts: [{name: a, transport: rsh}]\n                                 ^\n"},
    {"SlurmKeysOnAnSshHost", "version: 1\nhosts: [{name: a, slurm: {partition: p}}]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:26: error: 'slurm' is for hosts of 'transport: slurm'\n"
     "    hosts: [{name: a, slurm: {partition: p}}]\n"
     "                             ^\n"},
    {"SlurmHostAutoSlots",
     "version: 1\nhosts: [{name: a, transport: slurm, slots: auto, slurm: {time: 0s}}]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:44: error: a Slurm host's 'slots' must be a number (shards queued or running at most)\n"
     "    hosts: [{name: a, transport: slurm, slots: auto, slurm: {time: 0s}}]\n"
     "                                               ^\n"
     "jobs.yaml:2:64: error: 'time' must be longer than zero\n"
     "    hosts: [{name: a, transport: slurm, slots: auto, slurm: {time: 0s}}]\n"
     "                                                                   ^\n"},
    {"PasswordIsRefused", "version: 1\nhosts: [{name: a, password: x}]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:19: error: 'password' is refused: a spec never holds secrets; authenticate with an SSH key or "
     "ssh-agent (see the host's IdentityFile in ssh_config)\n"
     "    hosts: [{name: a, password: x}]\n"
     "                      ^\n"},
    {"FilterMatchesNoHost", "version: 1\nhosts: [a1]\njobs: [{name: a, command: x, hosts: [b*]}]\n",
     "jobs.yaml:3:37: error: job 'a' matches no host\n    jobs: [{name: a, command: x, hosts: [b*]}]\n"
     "                                        ^\n"},
    {"FilterLabelsMatchNoHost", "version: 1\nhosts: [a1]\njobs: [{name: a, command: x, hosts: {labels: gpu}}]\n",
     "jobs.yaml:3:37: error: job 'a' matches no host\n    jobs: [{name: a, command: x, hosts: {labels: gpu}}]\n"
     "                                        ^\n"},
    {"ShardNeedsMoreCpusThanAnyHostHas", "version: 1\nhosts: [2/a, 4/b]\njobs: [{name: big, command: x, cpus: 8}]\n",
     "jobs.yaml:3:38: error: job 'big': a shard needs 8 CPUs, more slots than any of its hosts has (the most: 4)\n"
     "    jobs: [{name: big, command: x, cpus: 8}]\n"
     "                                         ^\n"},
    {"BadCpus", "  - {name: a, command: x, cpus: 0}\n",
     "jobs.yaml:3:33: error: 'cpus' must be from 1 to 100000, not 0\n      - {name: a, command: x, cpus: 0}\n"
     "                                    ^\n"},
    {"BadMemory", "  - {name: a, command: x, memory: 2X}\n",
     "jobs.yaml:3:35: error: bad size '2X' for 'memory' (write e.g. 512M, 2G or 1.5T; units are powers of 1024)\n"
     "      - {name: a, command: x, memory: 2X}\n                                      ^\n"},
    {"BadMaxLoad", "version: 1\nhosts: [{name: a, max_load: 1.5}]\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:29: error: bad 'max_load' value '1.5' (a share of the host's CPU time above 0 and up to 1, such as "
     "0.9, or a percentage such as 90%)\n    hosts: [{name: a, max_load: 1.5}]\n                                ^\n"},
    {"BadMinFreeMemory", "version: 1\ndefaults: {min_free_memory: lots}\njobs: [{name: a, command: x}]\n",
     "jobs.yaml:2:29: error: bad size 'lots' for 'min_free_memory' (write e.g. 512M, 2G or 1.5T; units are powers "
     "of 1024)\n    defaults: {min_free_memory: lots}\n                                ^\n"},
};
// clang-format on

INSTANTIATE_TEST_SUITE_P(AllDiagnostics, SpecDiagnostic, testing::ValuesIn(k_cases),
                         [](const testing::TestParamInfo<Case>& param_info) {
                             return std::string(param_info.param.name);
                         });

} // namespace
} // namespace sshard::core
