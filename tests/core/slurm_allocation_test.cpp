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

// --mem is per node, --mem-per-cpu times the node's CPUs; no memory asked, or 0 (all of a node's), and values
// that are not megabytes leave the node's own.
TEST(AllocationMemory, PerNodeOrPerCpuInMegabytes) {
    constexpr std::uint64_t mib = 1024 * 1024;
    EXPECT_EQ(allocation_memory("4096", nullptr).on_node(8), 4096 * mib);
    EXPECT_EQ(allocation_memory(nullptr, "100").on_node(8), 800 * mib);
    EXPECT_EQ(allocation_memory(nullptr, nullptr).on_node(8), std::nullopt);
    EXPECT_EQ(allocation_memory("0", nullptr).on_node(8), std::nullopt);
    for (const char* bad : {"", "-1", "1G", "12x", " 5", "99999999999999999999", "17592186044416"}) {
        EXPECT_EQ(allocation_memory(bad, bad).on_node(8), std::nullopt) << bad;
    }
    EXPECT_EQ(allocation_memory(nullptr, "17592186044415").on_node(2), std::nullopt); // past 2^64 bytes
    EXPECT_EQ(allocation_memory(nullptr, "100").on_node(0), std::nullopt);
}

} // namespace
} // namespace sshard::core
