#include "core/private_dir.hpp"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::core {
namespace {

namespace fs = std::filesystem;

class PrivateDirTest : public testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/sshard_private_dir_XXXXXX";
        ASSERT_NE(::mkdtemp(name), nullptr);
        m_dir = name;
    }
    void TearDown() override { fs::remove_all(m_dir); }

    template <typename F> static std::string error_of(F&& action) {
        try {
            action();
        } catch (const UsageError& e) {
            return std::string("usage: ") + e.what();
        } catch (const Error& e) {
            return e.what();
        }
        return "(no error)";
    }

    std::string m_dir;
};

TEST_F(PrivateDirTest, OwnPrivateDirectoryPasses) {
    EXPECT_EQ(error_of([&] { check_private_dir(m_dir, "run directory"); }), "(no error)");
    fs::create_directory_symlink(m_dir, m_dir + "-link");
    EXPECT_EQ(error_of([&] { check_private_dir(m_dir + "-link", "run directory"); }), "(no error)")
        << "the user's own link is followed";
    fs::remove(m_dir + "-link");
}

TEST_F(PrivateDirTest, WritableByOthersFailsWithTheFix) {
    fs::permissions(m_dir, fs::perms::owner_all | fs::perms::group_all);
    EXPECT_EQ(error_of([&] { check_private_dir(m_dir, "run directory"); }),
              "usage: run directory '" + m_dir +
                  "' is writable by group (mode 0770): make it private with 'chmod "
                  "go-w " +
                  m_dir + "'");
    EXPECT_EQ(error_of([&] { check_own_dir(m_dir, "run directory"); }), "(no error)");
}

TEST_F(PrivateDirTest, NotADirectoryFails) {
    std::ofstream(m_dir + "/file") << "x";
    EXPECT_EQ(error_of([&] { check_own_dir(m_dir + "/file", "runs folder"); }),
              "usage: runs folder '" + m_dir + "/file' is not a directory");
    EXPECT_EQ(error_of([&] { check_own_dir(m_dir + "/missing", "runs folder"); }),
              "cannot open runs folder '" + m_dir + "/missing': No such file or directory");
}

TEST_F(PrivateDirTest, ForeignOwnerFails) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "making a directory of another user needs root";
    }
    std::string theirs = m_dir + "/theirs";
    fs::create_directory(theirs);
    ASSERT_EQ(::chown(theirs.c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_of([&] { check_own_dir(theirs, "run directory"); }),
              "usage: run directory '" + theirs +
                  "' is owned by 'nobody', not by 'root': sshard uses only its own "
                  "user's run directories");
    // Our directory behind another user's link: the link is refused, whatever it points at.
    fs::create_directory_symlink(m_dir, m_dir + "/link");
    ASSERT_EQ(::lchown((m_dir + "/link").c_str(), 65534, 65534), 0);
    EXPECT_EQ(error_of([&] { check_own_dir(m_dir + "/link", "run directory"); }),
              "usage: link '" + m_dir +
                  "/link' is owned by 'nobody', not by 'root': sshard follows only its own "
                  "user's links");
    ASSERT_EQ(::lchown((m_dir + "/link").c_str(), 0, 0), 0);
    EXPECT_EQ(error_of([&] { check_own_link(m_dir + "/link"); }), "(no error)");
    EXPECT_EQ(error_of([&] { check_own_link(m_dir + "/missing"); }), "(no error)");
}

TEST_F(PrivateDirTest, OpenDirRefusesALink) {
    fs::create_directory(m_dir + "/real");
    fs::create_directory_symlink(m_dir + "/real", m_dir + "/link");
    EXPECT_EQ(error_of([&] { OpenDir dir(m_dir + "/link"); }),
              "usage: '" + m_dir + "/link' is a symbolic link: sshard writes run records only in real directories");
    EXPECT_EQ(error_of([&] { OpenDir dir(m_dir + "/missing"); }),
              "cannot open '" + m_dir + "/missing': No such file or directory");
    OpenDir real(m_dir + "/real");
    EXPECT_EQ(real.path(), m_dir + "/real");
    EXPECT_GE(real.fd(), 0);
}

TEST_F(PrivateDirTest, FoldersAndFilesAreMadePrivateAndNeverFollowLinks) {
    OpenDir dir(m_dir);
    int folder = open_folder_at(dir.fd(), "job");
    ASSERT_GE(folder, 0);
    int file = create_file_at(folder, "0.1.out");
    ASSERT_GE(file, 0);
    ::close(file);
    ::close(folder);
    struct stat info {};
    ASSERT_EQ(::stat((m_dir + "/job").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0700u);
    ASSERT_EQ(::stat((m_dir + "/job/0.1.out").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0600u);

    fs::create_directory_symlink(m_dir + "/job", m_dir + "/linked");
    EXPECT_EQ(open_folder_at(dir.fd(), "linked"), -1);
    EXPECT_EQ(errno, ELOOP);
    fs::create_symlink(m_dir + "/job/0.1.out", m_dir + "/file-link");
    EXPECT_EQ(create_file_at(dir.fd(), "file-link"), -1);
    EXPECT_EQ(errno, ELOOP);
}

} // namespace
} // namespace sshard::core
