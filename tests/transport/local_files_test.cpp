// LocalCollectSource against a host's files that change under it: a file that grows while it is read, a FIFO
// put where a file was. Either must end the copy, never keep it reading or waiting.
#include "transport/local_files.hpp"

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/unique_fd.hpp"
#include "tests/small_disk.hpp"

namespace sshard::transport {
namespace {

namespace fs = std::filesystem;

class LocalFiles : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() / ("sshard-local-files-" + std::to_string(::getpid()));
        fs::create_directories(m_dir);
    }
    void TearDown() override { fs::remove_all(m_dir); }
    fs::path m_dir;
};

// The copy's output is the file itself, appended to: it grows by what is read, as fast as it is read. Read to
// its end it would fill the small disk; the copy takes the size the file had when opened, as scp does.
TEST_F(LocalFiles, AFileThatGrowsWhileReadIsCopiedAtItsSizeWhenOpened) {
    test::SmallDisk disk((m_dir / "disk").string(), 2 << 20);
    if (!disk.mounted()) {
        GTEST_SKIP() << "mounting a tmpfs needs root";
    }
    const std::uint64_t size = 300 * 1024; // more than one buffer
    std::ofstream(m_dir / "disk/log") << std::string(size, 'l');
    core::UniqueFd append(::open((m_dir / "disk/log").c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
    ASSERT_TRUE(append.is_open());
    LocalCollectSource source((m_dir / "disk").string());
    EXPECT_EQ(source.copy_to("log", append.get(), "copy"), size);
    EXPECT_EQ(fs::file_size(m_dir / "disk/log"), 2 * size);
}

// A FIFO where kind() saw a file: opening it to read would wait for a writer for ever.
TEST_F(LocalFiles, AFifoInAFilesPlaceIsRefusedWithoutWaiting) {
    ASSERT_EQ(::mkfifo((m_dir / "fifo").c_str(), 0600), 0);
    core::UniqueFd out(::open((m_dir / "out").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    LocalCollectSource source(m_dir.string());
    auto copy = std::async(std::launch::async, [&] {
        try {
            source.copy_to("fifo", out.get(), "copy");
            return std::string("copied");
        } catch (const core::Error& e) {
            return std::string(e.what());
        }
    });
    if (copy.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        core::UniqueFd writer(::open((m_dir / "fifo").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
        ADD_FAILURE() << "the copy waited on the FIFO";
    }
    EXPECT_EQ(copy.get(), "collect refused: '" + (m_dir / "fifo").string() + "' is not a regular file");
}

} // namespace
} // namespace sshard::transport
