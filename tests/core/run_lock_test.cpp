#include "core/run_lock.hpp"

#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::core {
namespace {

namespace fs = std::filesystem;

class RunLockTest : public testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/sshard_run_lock_XXXXXX";
        ASSERT_NE(::mkdtemp(name), nullptr);
        m_dir = name;
        m_run = m_dir + "/runs/r1";
        RunDir::create_at(m_run, "spec");
        std::ofstream(m_run + "/journal.jsonl") << "{}\n";
    }
    void TearDown() override { fs::remove_all(m_dir); }

    // Whether another open file description can take the lock, as a second process would try it.
    bool lockable() const {
        int fd = ::open((m_run + "/lock").c_str(), O_RDONLY | O_CLOEXEC);
        bool free = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0;
        ::close(fd);
        return free;
    }

    std::string lock_text() const {
        std::ifstream in(m_run + "/lock");
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    std::string m_dir;
    std::string m_run;
};

TEST_F(RunLockTest, HeldWhileItLivesWithThePidInTheFile) {
    {
        RunLock lock(RunDir::open(m_run));
        EXPECT_FALSE(lockable());
        EXPECT_EQ(lock_text(), std::to_string(::getpid()) + "\n");
        struct stat info {};
        ASSERT_EQ(::stat((m_run + "/lock").c_str(), &info), 0);
        EXPECT_EQ(info.st_mode & 07777, 0600u);
    }
    EXPECT_TRUE(lockable());
    EXPECT_EQ(lock_text(), "") << "an orderly end leaves no pid behind";
}

TEST_F(RunLockTest, ASecondHolderIsRefusedWithTheFirstOnesPid) {
    RunDir dir = RunDir::open(m_run);
    RunLock first(dir);
    try {
        RunLock second(dir);
        ADD_FAILURE() << "a second lock was granted";
    } catch (const UsageError& e) {
        EXPECT_EQ(std::string(e.what()), "run r1 is in use by pid " + std::to_string(::getpid()));
    }
    EXPECT_EQ(lock_text(), std::to_string(::getpid()) + "\n") << "the refused one wrote nothing";
}

TEST_F(RunLockTest, AStalePidIsNotBelieved) {
    int holder = ::open((m_run + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_EQ(::flock(holder, LOCK_EX | LOCK_NB), 0);
    // A pid above the kernel's limit names no process: like one left by a runner that died.
    ASSERT_EQ(::write(holder, "999999999\n", 10), 10);
    try {
        RunLock second(RunDir::open(m_run));
        ADD_FAILURE() << "a second lock was granted";
    } catch (const UsageError& e) {
        EXPECT_EQ(std::string(e.what()), "run r1 is in use by another process");
    }
    ::close(holder);
    EXPECT_NO_THROW(RunLock(RunDir::open(m_run)));
}

TEST_F(RunLockTest, ALinkInPlaceOfTheLockFileIsRefused) {
    fs::create_symlink(m_dir + "/elsewhere", m_run + "/lock");
    try {
        RunLock lock(RunDir::open(m_run));
        ADD_FAILURE() << "locked through a link";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "cannot open lock file '" + m_run + "/lock': Too many levels of symbolic links");
    }
    EXPECT_FALSE(fs::exists(m_dir + "/elsewhere"));
}

} // namespace
} // namespace sshard::core
