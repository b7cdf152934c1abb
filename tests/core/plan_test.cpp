#include "core/plan.hpp"

#include <gtest/gtest.h>

#include "core/spec_loader.hpp"

namespace sshard::core {
namespace {

std::vector<std::string> job_order(const Plan& plan) {
    std::vector<std::string> names;
    for (const auto& job : plan.jobs) {
        names.push_back(job.job->name);
    }
    return names;
}

TEST(Plan, HighestPriorityFirstThenSpecOrder) {
    Spec spec = load_spec_text("j.yaml", R"(version: 1
jobs:
  - {name: low, command: x, priority: -1}
  - {name: a, command: x}
  - {name: high, command: x, priority: 5}
  - {name: b, command: x}
)");
    EXPECT_EQ(job_order(make_plan(spec)), (std::vector<std::string>{"high", "a", "b", "low"}));
}

TEST(Plan, AJobComesAfterWhatItNeeds) {
    Spec spec = load_spec_text("j.yaml", R"(version: 1
jobs:
  - {name: report, command: x, priority: 100, needs: [crunch]}
  - {name: crunch, command: x, needs: [fetch]}
  - {name: fetch, command: x}
  - {name: other, command: x, priority: 1}
)");
    EXPECT_EQ(job_order(make_plan(spec)), (std::vector<std::string>{"other", "fetch", "crunch", "report"}));
}

TEST(Plan, EligibleHostsByFilterAndPriority) {
    Spec spec = load_spec_text("j.yaml", R"(version: 1
hosts:
  - cpu[1-3]
  - {name: "gpu[1-2]", labels: [gpu], priority: 10}
  - {name: big, labels: [gpu, big]}
jobs:
  - {name: any, command: x, shards: {count: 4}}
  - {name: gpu, command: x, hosts: {labels: [gpu]}}
  - {name: named, command: x, hosts: ["cpu[2-3]", "g*2"]}
  - {name: both, command: x, hosts: {names: ["gpu*", big], labels: [big]}}
)");
    Plan plan = make_plan(spec);
    auto names = [&](const PlannedJob& job) {
        std::vector<std::string> out;
        for (std::size_t index : job.hosts) {
            out.push_back(spec.hosts[index].name);
        }
        return out;
    };
    EXPECT_EQ(names(plan.jobs[0]), (std::vector<std::string>{"gpu1", "gpu2", "cpu1", "cpu2", "cpu3", "big"}));
    EXPECT_EQ(names(plan.jobs[1]), (std::vector<std::string>{"gpu1", "gpu2", "big"}));
    EXPECT_EQ(names(plan.jobs[2]), (std::vector<std::string>{"gpu2", "cpu2", "cpu3"}));
    EXPECT_EQ(names(plan.jobs[3]), (std::vector<std::string>{"big"}));
    EXPECT_EQ(plan.total_shards, 7u);
}

} // namespace
} // namespace sshard::core
