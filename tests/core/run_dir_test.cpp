#include "core/run_dir.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::core {
namespace {

namespace fs = std::filesystem;

class RunDirTest : public testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/sshard_run_dir_XXXXXX";
        ASSERT_NE(::mkdtemp(name), nullptr);
        m_dir = name;
        m_root = m_dir + "/.sshard/runs";
    }
    void TearDown() override { fs::remove_all(m_dir); }

    static unsigned mode_of(const std::string& path) {
        struct stat info {};
        EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
        return info.st_mode & 07777;
    }

    static std::string contents(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    template <typename F> static std::string error_of(F&& action) {
        try {
            action();
        } catch (const Error& e) {
            return e.what();
        }
        return "(no error)";
    }

    // Runs `action` in a child process that became the unprivileged user 'nobody' and returns the message of
    // the error it threw: root ignores permissions, and CI runs the tests as root.
    template <typename F> static std::string error_as_nobody(F&& action) {
        int fds[2];
        if (::pipe(fds) != 0) {
            return "(no pipe)";
        }
        pid_t pid = ::fork();
        if (pid == 0) {
            ::close(fds[0]);
            bool nobody = ::setgroups(0, nullptr) == 0 && ::setgid(k_nobody) == 0 && ::setuid(k_nobody) == 0;
            std::string message = nobody ? error_of(action) : "(cannot become nobody)";
            bool written = ::write(fds[1], message.data(), message.size()) == static_cast<ssize_t>(message.size());
            ::_exit(written ? 0 : 1);
        }
        ::close(fds[1]);
        std::string message;
        char buffer[512];
        for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) {
            message.append(buffer, static_cast<std::size_t>(n));
        }
        ::close(fds[0]);
        int status = 0;
        ::waitpid(pid, &status, 0);
        return message;
    }

    static constexpr uid_t k_nobody = 65534;

    std::string m_dir;
    std::string m_root;
};

TEST_F(RunDirTest, CreateNamesTheRunAfterTheSpecAndTheTime) {
    RunDir dir = RunDir::create(m_root, "nightly", "version: 1\n");
    ASSERT_TRUE(dir.id().starts_with("nightly-")) << dir.id();
    std::string stamp = dir.id().substr(std::string("nightly-").size()); // YYYYMMDD-HHMMSS
    ASSERT_EQ(stamp.size(), 15u) << dir.id();
    EXPECT_EQ(stamp[8], '-') << dir.id();
    EXPECT_EQ(stamp.replace(8, 1, "0").find_first_not_of("0123456789"), std::string::npos) << dir.id();
    EXPECT_EQ(dir.path(), m_root + "/" + dir.id());
    EXPECT_EQ(dir.spec_path(), dir.path() + "/spec.yaml");
    EXPECT_EQ(dir.journal_path(), dir.path() + "/journal.jsonl");
    EXPECT_EQ(contents(dir.spec_path()), "version: 1\n");
}

TEST_F(RunDirTest, CreateTwiceInTheSameSecondGivesDistinctIds) {
    RunDir first = RunDir::create(m_root, "job", "a");
    RunDir second = RunDir::create(m_root, "job", "b");
    RunDir third = RunDir::create(m_root, "job", "c");
    EXPECT_NE(first.id(), second.id());
    EXPECT_NE(second.id(), third.id());
    EXPECT_NE(first.id(), third.id());
    // The clock may tick between two creations; when it does not, the suffix tells them apart.
    if (second.id().starts_with(first.id())) {
        EXPECT_EQ(second.id(), first.id() + "-2");
    }
    if (third.id().starts_with(first.id())) {
        EXPECT_EQ(third.id(), first.id() + "-3");
    }
    EXPECT_EQ(contents(first.spec_path()), "a");
    EXPECT_EQ(contents(second.spec_path()), "b");
}

TEST_F(RunDirTest, EverythingIsPrivate) {
    RunDir dir = RunDir::create(m_root, "job", "spec");
    EXPECT_EQ(mode_of(dir.path()), 0700u);
    EXPECT_EQ(mode_of(dir.path() + "/out"), 0700u);
    EXPECT_EQ(mode_of(dir.spec_path()), 0600u);
}

TEST_F(RunDirTest, LatestIsARelativeLinkToTheNewestRun) {
    RunDir first = RunDir::create(m_root, "job", "a");
    EXPECT_EQ(fs::read_symlink(m_root + "/latest"), first.id());
    RunDir second = RunDir::create(m_root, "job", "b");
    EXPECT_EQ(fs::read_symlink(m_root + "/latest"), second.id());
    for (const auto& entry : fs::directory_iterator(m_root)) {
        EXPECT_FALSE(entry.path().filename().string().starts_with("latest.tmp")) << entry.path();
    }
}

TEST_F(RunDirTest, OpenViaTheRootFollowsLatest) {
    RunDir created = RunDir::create(m_root, "job", "spec");
    std::ofstream(created.journal_path()) << "{}\n";
    RunDir opened = RunDir::open(m_root);
    EXPECT_EQ(opened.path(), created.path());
    EXPECT_EQ(opened.id(), created.id());
}

TEST_F(RunDirTest, OpenARunDirectory) {
    RunDir created = RunDir::create(m_root, "job", "spec");
    std::ofstream(created.journal_path()) << "{}\n";
    RunDir opened = RunDir::open(created.path());
    EXPECT_EQ(opened.path(), created.path());
    EXPECT_EQ(opened.id(), created.id());
    EXPECT_EQ(RunDir::open(created.path() + "/").id(), created.id());
}

TEST_F(RunDirTest, OpenAnEmptyDirectoryFails) {
    EXPECT_EQ(error_of([&] { RunDir::open(m_dir); }),
              "'" + m_dir + "' is not a run directory (no journal.jsonl in it)");
}

TEST_F(RunDirTest, OpenARootWhoseLatestHasNoJournalFails) {
    RunDir::create(m_root, "job", "spec");
    EXPECT_EQ(error_of([&] { RunDir::open(m_root); }),
              "'" + m_root + "' is not a run directory (no journal.jsonl in it)");
}

TEST_F(RunDirTest, RootThatIsAFileFails) {
    std::string root = m_dir + "/file";
    std::ofstream(root) << "x";
    EXPECT_EQ(error_of([&] { RunDir::create(root, "job", "spec"); }), "runs folder '" + root + "' is not a directory");
    EXPECT_EQ(error_of([&] { RunDir::create(root + "/runs", "job", "spec"); }),
              "cannot create run directory root '" + root + "/runs': Not a directory");
}

TEST_F(RunDirTest, UnwritableRootFails) {
    fs::create_directories(m_root);
    fs::permissions(m_root, fs::perms::owner_read | fs::perms::owner_exec);
    auto create = [&] { RunDir::create(m_root, "job", "spec"); };
    std::string message;
    if (::geteuid() == 0) {
        // The runs folder becomes nobody's own (sshard uses only its own user's), and nobody tries.
        fs::permissions(m_dir, fs::perms::others_exec, fs::perm_options::add);
        ASSERT_EQ(::chown(m_root.c_str(), k_nobody, k_nobody), 0);
        message = error_as_nobody(create);
    } else {
        message = error_of(create);
    }
    fs::permissions(m_root, fs::perms::owner_all);
    EXPECT_TRUE(message.starts_with("cannot create run directory '" + m_root + "/job-")) << message;
    EXPECT_TRUE(message.ends_with("': Permission denied")) << message;
}

TEST_F(RunDirTest, CreateAtMakesThePathItself) {
    std::string path = m_dir + "/some/where/myrun";
    RunDir dir = RunDir::create_at(path, "spec");
    EXPECT_EQ(dir.path(), path);
    EXPECT_EQ(dir.id(), "myrun");
    EXPECT_EQ(mode_of(path), 0700u);
    EXPECT_EQ(mode_of(path + "/out"), 0700u);
    EXPECT_EQ(mode_of(dir.spec_path()), 0600u);
    EXPECT_EQ(contents(dir.spec_path()), "spec");
    EXPECT_FALSE(fs::exists(m_dir + "/some/where/latest"));
}

TEST_F(RunDirTest, CreateAtTakesAnEmptyDirectoryAndMakesItPrivate) {
    std::string path = m_dir + "/empty";
    fs::create_directory(path);
    fs::permissions(path, fs::perms::all);
    RunDir dir = RunDir::create_at(path + "/", "spec");
    EXPECT_EQ(dir.id(), "empty");
    EXPECT_EQ(mode_of(path), 0700u);
}

TEST_F(RunDirTest, CreateAtRefusesANonEmptyDirectory) {
    std::ofstream(m_dir + "/something") << "x";
    EXPECT_EQ(error_of([&] { RunDir::create_at(m_dir, "spec"); }),
              "run directory '" + m_dir + "' already exists and is not empty (use --resume to continue a run)");
}

TEST_F(RunDirTest, ReplaceSpecSwapsTheText) {
    RunDir dir = RunDir::create(m_root, "job", "old");
    dir.replace_spec("new");
    EXPECT_EQ(contents(dir.spec_path()), "new");
    EXPECT_EQ(mode_of(dir.spec_path()), 0600u);
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"out", "spec.yaml"}));
}

TEST_F(RunDirTest, RootIsMadePrivateWhateverTheUmask) {
    mode_t old = ::umask(002);
    RunDir::create(m_root, "job", "spec");
    ::umask(old);
    EXPECT_EQ(mode_of(m_dir + "/.sshard"), 0700u);
    EXPECT_EQ(mode_of(m_root), 0700u);
}

TEST_F(RunDirTest, RootOthersCanWriteIsRefused) {
    fs::create_directories(m_root);
    fs::permissions(m_root, fs::perms::all);
    EXPECT_EQ(error_of([&] { RunDir::create(m_root, "job", "spec"); }),
              "runs folder '" + m_root +
                  "' is writable by group and others (mode 0777): make it private with "
                  "'chmod go-w " +
                  m_root + "'");
    EXPECT_EQ(std::distance(fs::directory_iterator(m_root), fs::directory_iterator()), 0);
}

TEST_F(RunDirTest, OpenRefusesWhatOthersCanWrite) {
    RunDir created = RunDir::create(m_root, "job", "spec");
    std::ofstream(created.journal_path()) << "{}\n";
    fs::permissions(created.path(), fs::perms::group_write, fs::perm_options::add);
    EXPECT_EQ(error_of([&] { RunDir::open(created.path()); }),
              "run directory '" + created.path() +
                  "' is writable by group (mode 0720): make it private with "
                  "'chmod go-w " +
                  created.path() + "'");
    EXPECT_EQ(error_of([&] { RunDir::open(m_root); }), error_of([&] { RunDir::open(created.path()); }));
    fs::permissions(created.path(), fs::perms::group_write, fs::perm_options::remove);
    fs::permissions(m_root, fs::perms::others_write, fs::perm_options::add);
    EXPECT_EQ(error_of([&] { RunDir::open(m_root); }),
              "runs folder '" + m_root + "' is writable by others (mode 0702): make it private with 'chmod go-w " +
                  m_root + "'");
    EXPECT_EQ(RunDir::open(created.path()).id(), created.id()) << "by its own path, the root does not matter";
}

TEST_F(RunDirTest, OutputsAreOpenedAndMadeAgainWhenRemovedButNeverThroughALink) {
    RunDir dir = RunDir::create(m_root, "job", "spec");
    fs::remove(dir.path() + "/out");
    EXPECT_EQ(dir.open_outputs().path(), dir.path() + "/out");
    EXPECT_EQ(mode_of(dir.path() + "/out"), 0700u);
    fs::remove(dir.path() + "/out");
    fs::create_directory_symlink(m_dir, dir.path() + "/out");
    EXPECT_EQ(error_of([&] { dir.open_outputs(); }),
              "'" + dir.path() + "/out' is a symbolic link: sshard writes run records only in real directories");
}

TEST_F(RunDirTest, WhatAnotherUserOwnsIsRefused) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "making a directory of another user needs root";
    }
    RunDir created = RunDir::create(m_root, "job", "spec");
    std::ofstream(created.journal_path()) << "{}\n";
    ASSERT_EQ(::lchown((m_root + "/latest").c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_of([&] { RunDir::open(m_root); }),
              "link '" + m_root +
                  "/latest' is owned by 'nobody', not by 'root': sshard follows only its own user's "
                  "links");
    ASSERT_EQ(::chown(created.path().c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_of([&] { RunDir::open(created.path()); }),
              "run directory '" + created.path() +
                  "' is owned by 'nobody', not by 'root': sshard uses only its own "
                  "user's run directories");
    ASSERT_EQ(::chown(m_root.c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_of([&] { RunDir::create(m_root, "job", "spec"); }),
              "runs folder '" + m_root +
                  "' is owned by 'nobody', not by 'root': sshard uses only its own user's "
                  "run directories");
    std::string empty = m_dir + "/empty";
    fs::create_directory(empty);
    ASSERT_EQ(::chown(empty.c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_of([&] { RunDir::create_at(empty, "spec"); }),
              "run directory '" + empty +
                  "' is owned by 'nobody', not by 'root': sshard uses only its own user's "
                  "run directories");
    EXPECT_TRUE(fs::is_empty(empty));
}

} // namespace
} // namespace sshard::core
