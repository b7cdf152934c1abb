#include "core/spec_files.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::core {
namespace {

class SpecFiles : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = std::filesystem::temp_directory_path() / ("sshard_spec_files_" + std::to_string(::getpid()));
        std::filesystem::create_directories(m_dir);
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }

    std::string write(const std::string& name, const std::string& text) {
        std::ofstream(m_dir / name, std::ios::binary) << text;
        return (m_dir / name).string();
    }

    std::filesystem::path m_dir;
};

TEST_F(SpecFiles, LinesWithoutBreaksBlanksOrCarriageReturns) {
    std::string error;
    auto lines = read_lines_file(write("in.txt", "alpha\r\n\n  \t\nbeta gamma\nlast"), error);
    ASSERT_TRUE(lines) << error;
    EXPECT_EQ(*lines, (std::vector<std::string>{"alpha", "beta gamma", "last"}));
}

TEST_F(SpecFiles, LinesFileThatCannotBeRead) {
    std::string error;
    EXPECT_FALSE(read_lines_file((m_dir / "missing").string(), error));
    EXPECT_EQ(error, "cannot read lines file '" + (m_dir / "missing").string() + "': No such file or directory");
    EXPECT_FALSE(read_lines_file(m_dir.string(), error));
    EXPECT_EQ(error, "cannot read lines file '" + m_dir.string() + "': is a directory");
}

TEST_F(SpecFiles, LineLongerThanTheBoundNamesItsNumber) {
    std::string error;
    EXPECT_FALSE(read_lines_file(write("long.txt", "a\nb\n" + std::string((1u << 20) + 1, 'x') + "\n"), error));
    EXPECT_EQ(error, "line 3 of lines file '" + (m_dir / "long.txt").string() + "' is longer than 1 MiB");
}

TEST_F(SpecFiles, SpecFile) {
    EXPECT_EQ(read_spec_file(write("j.yaml", "version: 1\n")), "version: 1\n");
    EXPECT_THROW(read_spec_file(m_dir.string()), UsageError);
}

} // namespace
} // namespace sshard::core
