#include "core/shard_set.hpp"

#include <gtest/gtest.h>

#include "core/spec_loader.hpp"

namespace sshard::core {
namespace {

JobSpec job_of(const std::string& command, const std::string& shards) {
    Spec spec = load_spec_text("jobs.yaml", "version: 1\njobs:\n  - name: j\n    command: '" + command +
                                                "'\n    shards: " + shards + "\n");
    return spec.jobs.at(0);
}

TEST(ShardSet, Count) {
    JobSpec job = job_of("x {index} of {count} in {job}", "{count: 3}");
    ShardSet set(job);
    ASSERT_EQ(set.size(), 3u);
    EXPECT_EQ(set.command(2), "x 2 of 3 in j");
}

TEST(ShardSet, RangeCutsHalfOpenChunksAndTheLastIsShorter) {
    JobSpec job = job_of("x {start} {end}", "{range: {from: -5, to: 20, chunk: 10}}");
    ShardSet set(job);
    ASSERT_EQ(set.size(), 3u);
    EXPECT_EQ(set.command(0), "x -5 5");
    EXPECT_EQ(set.command(1), "x 5 15");
    EXPECT_EQ(set.command(2), "x 15 20");
}

TEST(ShardSet, EmptyRangeHasNoShards) {
    JobSpec job = job_of("x", "{range: {from: 4, to: 4}}");
    EXPECT_EQ(ShardSet(job).size(), 0u);
}

TEST(ShardSet, ItemsAreShellQuoted) {
    JobSpec job = job_of("echo {item}", "{items: [plain, 'a b; c', '$(rm -rf ~)']}");
    ShardSet set(job);
    EXPECT_EQ(set.command(0), "echo plain");
    EXPECT_EQ(set.command(1), "echo 'a b; c'");
    EXPECT_EQ(set.command(2), "echo '$(rm -rf ~)'");
}

TEST(ShardSet, MatrixFirstKeyVariesSlowest) {
    JobSpec job = job_of("{os}-{cc}", "{matrix: {os: [linux, bsd], cc: [gcc, clang, icc]}}");
    ShardSet set(job);
    ASSERT_EQ(set.size(), 6u);
    std::vector<std::string> commands;
    for (std::uint64_t i = 0; i < set.size(); ++i) {
        commands.push_back(set.command(i));
    }
    EXPECT_EQ(commands,
              (std::vector<std::string>{"linux-gcc", "linux-clang", "linux-icc", "bsd-gcc", "bsd-clang", "bsd-icc"}));
}

TEST(ShardSet, AttemptAndHostStayAsWrittenUntilKnown) {
    JobSpec job = job_of("x {attempt} {host} {{literal}}", "{count: 1}");
    ShardSet set(job);
    EXPECT_EQ(set.command(0), "x {attempt} {host} {literal}");
    EXPECT_EQ(set.command(0, 2, "node1"), "x 2 node1 {literal}");
}

TEST(ShardSet, HugeCountsAreLazy) {
    JobSpec job = job_of("x {index}", "{count: 1000000000000}");
    ShardSet set(job);
    EXPECT_EQ(set.size(), 1000000000000u);
    EXPECT_EQ(set.command(999999999999u), "x 999999999999");
}

TEST(ShardSet, PlaceholdersPerKind) {
    EXPECT_EQ(shard_placeholders(CountShards{}), (std::vector<std::string>{"index", "count"}));
    EXPECT_EQ(shard_placeholders(RangeShards{}), (std::vector<std::string>{"index", "count", "start", "end"}));
    EXPECT_EQ(shard_placeholders(ItemsShards{}), (std::vector<std::string>{"index", "count", "item"}));
    EXPECT_EQ(shard_placeholders(LinesShards{}), (std::vector<std::string>{"index", "count", "item"}));
    MatrixShards matrix{{{"a", {"1"}}, {"b", {"2"}}}};
    EXPECT_EQ(shard_placeholders(matrix), (std::vector<std::string>{"index", "count", "a", "b"}));
}

// Matrix keys may not take a name sshard defines: the list the loader checks them against must hold every one.
TEST(ShardSet, EveryPlaceholderAKindDefinesIsBuiltin) {
    for (const ShardsSpec& kind :
         {ShardsSpec(CountShards{}), ShardsSpec(RangeShards{}), ShardsSpec(ItemsShards{}), ShardsSpec(LinesShards{})}) {
        for (const auto& name : shard_placeholders(kind)) {
            EXPECT_TRUE(is_builtin_placeholder(name)) << name;
        }
    }
    for (const auto& name : k_common_placeholders) {
        EXPECT_TRUE(is_builtin_placeholder(name)) << name;
    }
    EXPECT_FALSE(is_builtin_placeholder("gpu"));
}

} // namespace
} // namespace sshard::core
