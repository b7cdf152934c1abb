#include "core/shard_history.hpp"

#include <gtest/gtest.h>

namespace sshard::core {
namespace {

TEST(ShardHistory, FindsByJobIndexInputsAndCommand) {
    ShardHistory done;
    done.add_finished("a", 0, {{"item", "x"}}, "echo x", true);
    done.add_finished("a", 1, {{"item", "y"}}, "echo y", false);
    done.add_finished("b", 0, {}, "run", false);
    done.seal();
    EXPECT_EQ(done.find("a", 0, {{"item", "x"}}, "echo x"), true);
    EXPECT_EQ(done.find("a", 1, {{"item", "y"}}, "echo y"), false);
    EXPECT_EQ(done.find("b", 0, {}, "run"), false);
    EXPECT_EQ(done.find("b", 1, {}, "run"), std::nullopt) << "the same command at another index is another shard";
    EXPECT_EQ(done.find("a", 0, {{"item", "z"}}, "echo x"), std::nullopt) << "another input";
    EXPECT_EQ(done.find("a", 0, {{"item", "x"}}, "echo  x"), std::nullopt) << "another command";
    EXPECT_EQ(done.find("c", 0, {}, "run"), std::nullopt) << "another job";
    EXPECT_EQ(done.find("a", 0, {{"ite", "mx"}}, "echo x"), std::nullopt) << "parts do not run together";
}

TEST(ShardHistory, ASuccessAfterAFailureCountsAsSuccess) {
    ShardHistory done;
    done.add_finished("a", 0, {}, "x", false);
    done.add_finished("a", 0, {}, "x", true);
    done.seal();
    EXPECT_EQ(done.find("a", 0, {}, "x"), true);
}

TEST(ShardHistory, FindsValuesWithBytesThatAreNotUtf8AsTheJournalRecordsThem) {
    // The journal is JSON: "\xff" is written, and read back, as U+FFFD.
    ShardHistory done;
    done.add_finished("a", 0, {{"item", "caf\xef\xbf\xbd"}}, "cat caf\xef\xbf\xbd.txt", true);
    done.seal();
    EXPECT_EQ(done.find("a", 0, {{"item", "caf\xff"}}, "cat caf\xff.txt"), true);
    EXPECT_EQ(done.find("a", 0, {{"item", "caf\xef\xbf\xbd"}}, "cat caf\xef\xbf\xbd.txt"), true);
    EXPECT_EQ(done.find("a", 0, {{"item", "cafe"}}, "cat cafe.txt"), std::nullopt);
}

TEST(ShardHistory, KeepsTheHighestAttemptOfEachShard) {
    ShardHistory history;
    history.add_attempt("a", 0, 1);
    history.add_attempt("a", 0, 3);
    history.add_attempt("a", 0, 2);
    history.add_attempt("a", 1, 1);
    history.seal();
    EXPECT_EQ(history.attempts("a", 0), 3);
    EXPECT_EQ(history.attempts("a", 1), 1);
    EXPECT_EQ(history.attempts("a", 2), 0);
    EXPECT_EQ(history.attempts("b", 0), 0);
    EXPECT_FALSE(history.empty());
}

TEST(ShardHistory, EmptyUntilSomethingIsAdded) {
    ShardHistory done;
    done.seal();
    EXPECT_TRUE(done.empty());
    EXPECT_EQ(done.find("a", 0, {}, "x"), std::nullopt);
}

} // namespace
} // namespace sshard::core
