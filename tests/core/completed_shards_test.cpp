#include "core/completed_shards.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

TEST(CompletedShards, FindsByJobAndKey) {
    CompletedShards done;
    done.add("a", "echo 1", true);
    done.add("a", "echo 2", false);
    done.add("b", "echo 1", false);
    done.seal();
    EXPECT_EQ(done.find("a", "echo 1"), true);
    EXPECT_EQ(done.find("a", "echo 2"), false);
    EXPECT_EQ(done.find("b", "echo 1"), false);
    EXPECT_EQ(done.find("b", "echo 2"), std::nullopt);
    EXPECT_EQ(done.find("ab", "echo 1"), std::nullopt) << "the job name and the key do not run together";
}

TEST(CompletedShards, ASuccessAfterAFailureCountsAsSuccess) {
    CompletedShards done;
    done.add("a", "x", false);
    done.add("a", "x", true);
    done.seal();
    EXPECT_EQ(done.find("a", "x"), true);
}

TEST(CompletedShards, FindsKeysWithBytesThatAreNotUtf8AsTheJournalRecordsThem) {
    // The journal is JSON: "\xff" is written, and read back, as U+FFFD.
    CompletedShards done;
    done.add("a", "cat caf\xef\xbf\xbd.txt", true);
    done.add("a", "caf\xc3\xa9 ok", true);
    done.seal();
    EXPECT_EQ(done.find("a", "cat caf\xff.txt"), true);
    EXPECT_EQ(done.find("a", "cat caf\xef\xbf\xbd.txt"), true);
    EXPECT_EQ(done.find("a", "caf\xc3\xa9 ok"), true);
    EXPECT_EQ(done.find("a", "cat cafe.txt"), std::nullopt);
}

TEST(CompletedShards, EmptyUntilSomethingIsAdded) {
    CompletedShards done;
    done.seal();
    EXPECT_TRUE(done.empty());
    EXPECT_EQ(done.find("a", "x"), std::nullopt);
}

} // namespace
} // namespace sshard::core
