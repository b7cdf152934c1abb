#include "core/output_files.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <utility>
#include <vector>

#include "tests/small_disk.hpp"

namespace sshard::core {
namespace {

namespace fs = std::filesystem;

using sshard::test::SmallDisk;
using Lines = std::vector<std::pair<Stream, std::string>>;

class OutputFilesTest : public testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/sshard_output_files_XXXXXX";
        ASSERT_NE(::mkdtemp(name), nullptr);
        m_dir = name;
        fs::create_directory(m_dir + "/out");
        m_outputs = std::make_unique<OpenDir>(m_dir + "/out");
        m_out = m_dir + "/out/job/3.1.out";
        m_err = m_dir + "/out/job/3.1.err";
    }
    void TearDown() override { fs::remove_all(m_dir); }

    static std::string contents(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    static unsigned mode_of(const std::string& path) {
        struct stat info {};
        EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
        return info.st_mode & 07777;
    }

    LineListener recorder() {
        return [this](Stream stream, std::string_view line) { m_lines.emplace_back(stream, std::string(line)); };
    }

    std::string m_dir;
    std::unique_ptr<OpenDir> m_outputs;
    std::string m_out;
    std::string m_err;
    Lines m_lines;
};

TEST_F(OutputFilesTest, NothingWrittenMakesNoFiles) {
    {
        OutputFiles files(*m_outputs, "job", "3.1");
        files.write(Stream::out, "");
        EXPECT_EQ(files.close(), "");
        EXPECT_EQ(files.bytes(Stream::out), 0u);
        EXPECT_EQ(files.stderr_tail(), "");
    }
    EXPECT_FALSE(fs::exists(m_dir + "/out/job"));
}

TEST_F(OutputFilesTest, StreamsGoToTheirOwnPrivateFiles) {
    OutputFiles files(*m_outputs, "job", "3.1");
    files.write(Stream::out, "hello\n");
    files.write(Stream::err, "oops\n");
    files.write(Stream::out, "world");
    EXPECT_EQ(files.close(), "");
    EXPECT_EQ(contents(m_out), "hello\nworld");
    EXPECT_EQ(contents(m_err), "oops\n");
    EXPECT_EQ(files.bytes(Stream::out), 11u);
    EXPECT_EQ(files.bytes(Stream::err), 5u);
    EXPECT_EQ(files.stderr_tail(), "oops\n");
    EXPECT_EQ(mode_of(m_out), 0600u);
    EXPECT_EQ(mode_of(m_err), 0600u);
    EXPECT_EQ(mode_of(m_dir + "/out/job"), 0700u);
}

TEST_F(OutputFilesTest, OnlyTheStreamWrittenGetsAFile) {
    OutputFiles files(*m_outputs, "job", "3.1");
    files.write(Stream::out, "x");
    files.close();
    EXPECT_TRUE(fs::exists(m_out));
    EXPECT_FALSE(fs::exists(m_err));
}

TEST_F(OutputFilesTest, LargeStderrKeepsOnlyItsTail) {
    std::string chunk(100'003, '\0'); // an odd size, so the tail straddles chunks
    std::string last;
    OutputFiles files(*m_outputs, "job", "3.1");
    std::uint64_t total = 0;
    for (int i = 0; total < 10'000'000; ++i) {
        for (std::size_t j = 0; j < chunk.size(); ++j) {
            chunk[j] = static_cast<char>('a' + (i * 7 + j) % 26);
        }
        files.write(Stream::err, chunk);
        total += chunk.size();
        last = chunk;
    }
    files.write(Stream::err, "end\n"); // a small write after a big one
    files.write(Stream::out, std::string(10'000'000, 'o'));
    files.close();
    std::string expected = last.substr(last.size() - 4092) + "end\n";
    EXPECT_EQ(fs::file_size(m_err), total + 4);
    EXPECT_EQ(files.bytes(Stream::err), total + 4);
    EXPECT_EQ(files.stderr_tail().size(), 4096u);
    EXPECT_EQ(files.stderr_tail(), expected);
    EXPECT_EQ(fs::file_size(m_out), 10'000'000u);
}

TEST_F(OutputFilesTest, ListenerGetsLinesSplitAcrossChunks) {
    OutputFiles files(*m_outputs, "job", "3.1", recorder());
    files.write(Stream::out, "ab");
    files.write(Stream::out, "c\nde");
    files.write(Stream::err, "warn");
    files.write(Stream::out, "f\n\ng");
    files.write(Stream::err, "ing\n");
    files.write(Stream::out, "h");
    EXPECT_EQ(m_lines,
              (Lines{{Stream::out, "abc"}, {Stream::out, "def"}, {Stream::out, ""}, {Stream::err, "warning"}}));
    m_lines.clear();
    files.close();
    EXPECT_EQ(m_lines, (Lines{{Stream::out, "gh"}}));
    m_lines.clear();
    files.close();
    EXPECT_TRUE(m_lines.empty()) << "close() is idempotent";
    EXPECT_EQ(contents(m_out), "abc\ndef\n\ngh");
}

TEST_F(OutputFilesTest, LongLinesArePassedOnInPieces) {
    constexpr std::size_t k_piece = 64 * 1024;
    OutputFiles files(*m_outputs, "job", "3.1", recorder());
    files.write(Stream::out, std::string(k_piece, 'a') + "\n"); // exactly the limit: one line
    files.write(Stream::out, std::string(k_piece - 1, 'b'));
    files.write(Stream::out, std::string(k_piece + 10, 'b')); // crosses the limit inside one write
    files.write(Stream::out, "\n");
    files.write(Stream::out, std::string(3 * k_piece, 'c') + "\nd\n");
    files.close();
    Lines expected{{Stream::out, std::string(k_piece, 'a')}, {Stream::out, std::string(k_piece, 'b')},
                   {Stream::out, std::string(k_piece, 'b')}, {Stream::out, std::string(9, 'b')},
                   {Stream::out, std::string(k_piece, 'c')}, {Stream::out, std::string(k_piece, 'c')},
                   {Stream::out, std::string(k_piece, 'c')}, {Stream::out, "d"}};
    EXPECT_EQ(m_lines.size(), expected.size());
    EXPECT_TRUE(m_lines == expected);
}

TEST_F(OutputFilesTest, WriteFailureIsReportedNotThrown) {
    std::ofstream(m_dir + "/out/file") << "x";
    OutputFiles files(*m_outputs, "file", "0.1");
    EXPECT_NO_THROW(files.write(Stream::out, "lost"));
    EXPECT_NO_THROW(files.write(Stream::out, " and lost"));
    EXPECT_EQ(files.close(), "cannot write '" + m_dir + "/out/file/0.1.out': Not a directory");
    EXPECT_EQ(files.bytes(Stream::out), 13u);
}

TEST_F(OutputFilesTest, FullDiskFailsTheStreamAndTheOtherGoesOn) {
    SmallDisk disk(m_dir + "/small", 64 * 1024);
    if (!disk.mounted()) {
        GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
    }
    OpenDir small(m_dir + "/small");
    OutputFiles files(small, "job", "0.1", recorder());
    files.write(Stream::err, "kept\n");
    std::string chunk(16 * 1024, 'x');
    for (int i = 0; i < 8; ++i) {
        files.write(Stream::out, chunk + "\n");
    }
    EXPECT_EQ(files.close(), "cannot write '" + m_dir + "/small/job/0.1.out': No space left on device");
    EXPECT_EQ(files.bytes(Stream::out), 8 * (chunk.size() + 1));
    EXPECT_EQ(m_lines.size(), 9u) << "the listener still hears it all";
    EXPECT_EQ(contents(m_dir + "/small/job/0.1.err"), "kept\n") << "the other stream goes on";
}

TEST_F(OutputFilesTest, NeverWritesThroughASymbolicLink) {
    std::string elsewhere = m_dir + "/elsewhere";
    fs::create_directory(elsewhere);
    fs::create_directory_symlink(elsewhere, m_dir + "/out/swapped");
    OutputFiles swapped(*m_outputs, "swapped", "0.1");
    swapped.write(Stream::out, "secret");
    EXPECT_EQ(swapped.close(), "cannot write '" + m_dir + "/out/swapped/0.1.out': Too many levels of symbolic links");

    fs::create_directory(m_dir + "/out/job");
    fs::create_symlink(elsewhere + "/target", m_err);
    OutputFiles linked(*m_outputs, "job", "3.1");
    linked.write(Stream::err, "secret");
    linked.write(Stream::out, "kept");
    EXPECT_EQ(linked.close(), "cannot write '" + m_err + "': Too many levels of symbolic links");
    EXPECT_EQ(contents(m_out), "kept");
    EXPECT_TRUE(fs::is_empty(elsewhere));
}

TEST_F(OutputFilesTest, HeldDirectoryWinsOverASwappedPath) {
    OpenDir held(m_dir + "/out");
    fs::rename(m_dir + "/out", m_dir + "/moved");
    fs::create_directory_symlink(m_dir + "/elsewhere", m_dir + "/out");
    OutputFiles files(held, "job", "0.1");
    files.write(Stream::out, "x");
    EXPECT_EQ(files.close(), "");
    EXPECT_EQ(contents(m_dir + "/moved/job/0.1.out"), "x");
    EXPECT_FALSE(fs::exists(m_dir + "/elsewhere"));
}

TEST_F(OutputFilesTest, DataAfterCloseDoesNotReopenTheFile) {
    OutputFiles files(*m_outputs, "job", "3.1");
    files.write(Stream::out, "kept");
    files.close();
    files.write(Stream::out, "late");
    EXPECT_EQ(contents(m_out), "kept");
    EXPECT_EQ(files.bytes(Stream::out), 8u);
}

TEST_F(OutputFilesTest, DestructorCloses) {
    {
        OutputFiles files(*m_outputs, "job", "3.1", recorder());
        files.write(Stream::err, "no newline");
    }
    EXPECT_EQ(m_lines, (Lines{{Stream::err, "no newline"}}));
    EXPECT_EQ(contents(m_err), "no newline");
}

TEST_F(OutputFilesTest, ManySinksMakeTheSameFolderAtOnce) {
    constexpr int k_sinks = 16;
    std::vector<std::unique_ptr<OutputFiles>> sinks;
    for (int i = 0; i < k_sinks; ++i) {
        sinks.push_back(std::make_unique<OutputFiles>(*m_outputs, "job", std::to_string(i) + ".1"));
    }
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (auto& sink : sinks) {
        threads.emplace_back([&go, &sink] {
            while (!go) {
                std::this_thread::yield();
            }
            sink->write(Stream::out, "x");
        });
    }
    go = true;
    for (auto& thread : threads) {
        thread.join();
    }
    for (int i = 0; i < k_sinks; ++i) {
        EXPECT_EQ(sinks[i]->close(), "") << i;
        EXPECT_EQ(contents(m_dir + "/out/job/" + std::to_string(i) + ".1.out"), "x");
    }
}

TEST_F(OutputFilesTest, ReadsWhileAnotherThreadWrites) {
    OutputFiles files(*m_outputs, "job", "3.1", [](Stream, std::string_view) {});
    std::thread writer([&files] {
        for (int i = 0; i < 2000; ++i) {
            files.write(i % 2 == 0 ? Stream::out : Stream::err, "line\n");
        }
    });
    while (files.bytes(Stream::err) < 5000) {
        EXPECT_LE(files.stderr_tail().size(), 4096u);
        std::this_thread::yield();
    }
    writer.join();
    files.close();
    EXPECT_EQ(files.bytes(Stream::out), 5000u);
    EXPECT_EQ(fs::file_size(m_err), 5000u);
}

} // namespace
} // namespace sshard::core
