#include "core/slurm_allocation.hpp"

#include <gtest/gtest.h>

#include "core/hostlist.hpp"

namespace sshard::core {
namespace {

std::string allocation_error(const char* nodelist, const char* cpus) {
    try {
        allocation_hosts(nodelist, cpus);
    } catch (const HostlistError& e) {
        return e.what();
    }
    return "";
}

TEST(AllocationHosts, CpusPerNodeFoldsRuns) {
    EXPECT_EQ(expand_cpus_per_node("2(x3),1"), (std::vector<int>{2, 2, 2, 1}));
    EXPECT_EQ(expand_cpus_per_node("8"), std::vector<int>{8});
    EXPECT_EQ(expand_cpus_per_node("1,4(x2)"), (std::vector<int>{1, 4, 4}));
}

TEST(AllocationHosts, NodesWithTheirCpusAsSlots) {
    auto hosts = allocation_hosts("node[1-3],gpu05", "2(x3),16");
    ASSERT_EQ(hosts.size(), 4u);
    EXPECT_EQ(hosts[0].name, "node1");
    EXPECT_EQ(hosts[3].name, "gpu05");
    EXPECT_EQ(hosts[2].slots, 2);
    EXPECT_EQ(hosts[3].slots, 16);
    EXPECT_EQ(hosts[3].transport, TransportKind::slurm_agent);
}

TEST(AllocationHosts, OutsideAnAllocationOrMalformedIsAClearError) {
    EXPECT_EQ(allocation_error(nullptr, "2"), "'slurm_allocation' needs a Slurm allocation, and SLURM_JOB_NODELIST is "
                                              "not set: run sshard inside salloc or sbatch, or use 'sshard submit'");
    EXPECT_EQ(allocation_error("n[1-2]", "2"), "SLURM_JOB_NODELIST 'n[1-2]' has 2 nodes but SLURM_JOB_CPUS_PER_NODE "
                                               "'2' 1");
    for (const char* bad : {"", "2,", "x", "2(x0)", "2(x3", "(x3)", "-1", "2(y3)"}) {
        EXPECT_NE(allocation_error("n1", bad), "") << bad;
    }
    EXPECT_EQ(allocation_error("n1", "2(x"), "bad SLURM_JOB_CPUS_PER_NODE item '2(x' (expected N or N(xM))");
    EXPECT_NE(allocation_error("n[1-", "2"), "");
}

} // namespace
} // namespace sshard::core
