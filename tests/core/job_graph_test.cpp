#include "core/job_graph.hpp"

#include <gtest/gtest.h>
#include <map>

namespace sshard::core {
namespace {

using Names = std::vector<std::string>;

// Jobs named by `needs`' keys, in that order, each needing the jobs listed.
std::vector<JobSpec> jobs(const std::vector<std::pair<std::string, Names>>& needs,
                          const std::map<std::string, int>& priorities = {}) {
    std::vector<JobSpec> out;
    for (const auto& [name, list] : needs) {
        JobSpec job;
        job.name = name;
        job.needs = list;
        job.priority = priorities.count(name) != 0 ? priorities.at(name) : 0;
        out.push_back(job);
    }
    return out;
}

Names names(const std::vector<JobSpec>& specs, const std::vector<std::size_t>& order) {
    Names out;
    for (std::size_t index : order) {
        out.push_back(specs[index].name);
    }
    return out;
}

TEST(JobGraph, UnknownNeedsInSpecOrder) {
    auto specs = jobs({{"a", {"x", "b"}}, {"b", {}}, {"c", {"y"}}});
    auto unknown = JobGraph(specs).unknown_needs();
    ASSERT_EQ(unknown.size(), 2u);
    EXPECT_EQ(unknown[0].job, 0u);
    EXPECT_EQ(unknown[0].need, "x");
    EXPECT_EQ(unknown[1].job, 2u);
    EXPECT_EQ(unknown[1].need, "y");
}

TEST(JobGraph, EveryCycleOnceWithItsPath) {
    auto specs = jobs({{"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}, {"d", {"d"}}, {"e", {"a"}}});
    auto cycles = JobGraph(specs).cycles();
    ASSERT_EQ(cycles.size(), 2u);
    EXPECT_EQ(cycles[0].job, 2u);
    EXPECT_EQ(cycles[0].path, (Names{"a", "b", "c", "a"}));
    EXPECT_EQ(cycles[1].job, 3u);
    EXPECT_EQ(cycles[1].path, (Names{"d", "d"}));
}

TEST(JobGraph, NoCycleInADiamond) {
    auto specs = jobs({{"top", {"left", "right"}}, {"left", {"base"}}, {"right", {"base"}}, {"base", {}}});
    EXPECT_TRUE(JobGraph(specs).cycles().empty());
}

TEST(JobGraph, DispatchOrderPutsNeedsFirstThenPriorityThenSpecOrder) {
    auto specs = jobs({{"report", {"crunch"}}, {"crunch", {"fetch"}}, {"fetch", {}}, {"other", {}}, {"low", {}}},
                      {{"report", 100}, {"other", 1}, {"low", -1}});
    JobGraph graph(specs);
    EXPECT_EQ(names(specs, graph.dispatch_order()), (Names{"other", "fetch", "crunch", "report", "low"}));
}

TEST(JobGraph, ANeedListedTwiceCountsOnce) {
    auto specs = jobs({{"b", {"a", "a"}}, {"a", {}}});
    EXPECT_EQ(names(specs, JobGraph(specs).dispatch_order()), (Names{"a", "b"}));
}

TEST(JobGraph, ReadyOnlyWhenEveryNeedSucceeded) {
    auto specs = jobs({{"a", {}}, {"b", {}}, {"c", {"a", "b"}}});
    JobGraph graph(specs);
    std::map<std::size_t, std::optional<bool>> results;
    auto result = [&](std::size_t job) { return results[job]; };
    EXPECT_FALSE(graph.readiness(2, result).ready);
    results[0] = true;
    EXPECT_FALSE(graph.readiness(2, result).ready);
    EXPECT_FALSE(graph.readiness(2, result).failed_need);
    results[1] = true;
    EXPECT_TRUE(graph.readiness(2, result).ready);
    EXPECT_TRUE(graph.readiness(0, result).ready); // no needs: ready at once
}

TEST(JobGraph, AFailedNeedSettlesItWhileOthersStillRun) {
    auto specs = jobs({{"a", {}}, {"b", {}}, {"c", {}}, {"d", {"a", "b", "c"}}});
    JobGraph graph(specs);
    std::map<std::size_t, std::optional<bool>> results{{1, false}, {2, false}};
    auto readiness = graph.readiness(3, [&](std::size_t job) { return results[job]; });
    EXPECT_FALSE(readiness.ready);
    EXPECT_EQ(readiness.failed_need, 1u); // the first failed need in the job's order
}

} // namespace
} // namespace sshard::core
