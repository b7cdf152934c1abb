// The Slurm tests' base: the one-node cluster that tests/slurm/cluster.sh runs (node1, 8 CPUs, in partition
// debug), which ctest starts as a fixture. A test skips when Slurm is not installed (scripts/setup installs it).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <string>

#include "tests/cli/binary.hpp"

namespace sshard::test {

inline const std::string k_slurm_cluster = SSHARD_SLURM_DIR;

class SlurmTest : public E2eTest {
protected:
    void SetUp() override {
        for (const char* program : {"/usr/sbin/slurmctld", "/usr/bin/sbatch", "/usr/bin/salloc"}) {
            if (!std::filesystem::exists(program)) {
                GTEST_SKIP() << "Slurm is not installed (scripts/setup installs slurm-wlm and munge)";
            }
        }
        E2eTest::SetUp();
        ASSERT_TRUE(std::filesystem::exists(k_slurm_cluster + "/slurm.conf"))
            << "no Slurm test cluster in " << k_slurm_cluster;
        ::setenv("SLURM_CONF", (k_slurm_cluster + "/slurm.conf").c_str(), 1);
    }
    void TearDown() override {
        if (!m_dir.empty()) { // a skipped test made no directory
            E2eTest::TearDown();
        }
    }
};

} // namespace sshard::test
