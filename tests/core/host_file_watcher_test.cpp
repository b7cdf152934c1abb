#include "core/host_file_watcher.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "core/error.hpp"

namespace sshard::core {
namespace {

class HostFileWatcherTest : public ::testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/sshard_watch_XXXXXX";
        m_dir = mkdtemp(name);
        m_path = m_dir + "/hosts";
        write("a\nb slots=2\n");
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }
    void write(const std::string& text) { std::ofstream(m_path, std::ios::trunc) << text; }
    // Polls until the content has settled: twice.
    std::optional<HostFileWatcher::Change> settle(HostFileWatcher& watcher) {
        EXPECT_FALSE(watcher.poll()) << "taken before it settled";
        return watcher.poll();
    }

    std::string m_dir;
    std::string m_path;
};

std::vector<std::string> names(const std::vector<HostSpec>& hosts) {
    std::vector<std::string> out;
    for (const auto& host : hosts) {
        out.push_back(host.name);
    }
    return out;
}

TEST_F(HostFileWatcherTest, TellsTheHostsAddedAndRemovedOnceTheFileHasSettled) {
    HostFileWatcher watcher(m_path, {"a", "b"});
    EXPECT_FALSE(settle(watcher)) << "as loaded: no change";
    write("b slots=2\nc[1-2] slots=4\n");
    auto change = settle(watcher);
    ASSERT_TRUE(change);
    EXPECT_EQ(names(change->added), (std::vector<std::string>{"c1", "c2"}));
    EXPECT_EQ(change->added[0].slots, 4);
    EXPECT_EQ(change->removed, std::vector<std::string>{"a"});
    EXPECT_FALSE(watcher.poll());
    EXPECT_FALSE(watcher.poll());
    write("a\nb\nc1\nc2\n"); // a comes back
    change = settle(watcher);
    ASSERT_TRUE(change);
    EXPECT_EQ(names(change->added), std::vector<std::string>{"a"});
    EXPECT_TRUE(change->removed.empty());
}

TEST_F(HostFileWatcherTest, AFileThatIsNoHostListKeepsTheHostsAndIsToldOnce) {
    HostFileWatcher watcher(m_path, {"a", "b"});
    write("a\nb slots=lots\n");
    EXPECT_FALSE(watcher.poll());
    try {
        watcher.poll();
        FAIL() << "no error";
    } catch (const SpecError& e) {
        ASSERT_EQ(e.diagnostics().size(), 1u);
        EXPECT_EQ(e.diagnostics()[0].location.line, 2);
        EXPECT_EQ(e.diagnostics()[0].message, "bad slots 'lots' (a number from 1 to 100000, or auto)");
    }
    EXPECT_FALSE(watcher.poll()) << "the same content is not told twice";
    write(""); // emptied: lists no host
    EXPECT_FALSE(watcher.poll());
    EXPECT_THROW(watcher.poll(), SpecError);
    std::filesystem::remove(m_path);
    EXPECT_FALSE(watcher.poll());
    EXPECT_THROW(watcher.poll(), UsageError);
    EXPECT_FALSE(watcher.poll());
    write("a\nb\nd\n"); // fixed: compared with the last good list
    auto change = settle(watcher);
    ASSERT_TRUE(change);
    EXPECT_EQ(names(change->added), std::vector<std::string>{"d"});
    EXPECT_TRUE(change->removed.empty());
}

TEST_F(HostFileWatcherTest, AFileStillBeingWrittenIsNotTaken) {
    HostFileWatcher watcher(m_path, {"a", "b"});
    write("a\n"); // half of what is to come
    EXPECT_FALSE(watcher.poll());
    write("a\nb\ne\n");
    EXPECT_FALSE(watcher.poll()) << "changed since the last poll";
    auto change = watcher.poll();
    ASSERT_TRUE(change);
    EXPECT_TRUE(change->removed.empty()) << "b was never seen gone";
    EXPECT_EQ(names(change->added), std::vector<std::string>{"e"});
}

} // namespace
} // namespace sshard::core
