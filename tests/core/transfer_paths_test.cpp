#include "core/transfer_paths.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/error.hpp"

namespace sshard::core {
namespace {

TEST(TransferPaths, NormalRelativePathNeverLeavesItsDirectory) {
    EXPECT_EQ(normal_relative_path("a//b/./c/"), "a/b/c");
    EXPECT_EQ(normal_relative_path("./x"), "x");
    for (const char* bad : {"", "/etc/passwd", ".", "./", "..", "../../x", "a/../../b", "a/..", "a/../b"}) {
        EXPECT_FALSE(normal_relative_path(bad)) << bad;
    }
    EXPECT_FALSE(normal_relative_path(std::string("a\0b", 3)));
}

TEST(TransferPaths, FillsPlaceholdersVerbatim) {
    auto value = [](std::string_view name) { return name == "index" ? std::string("7") : std::string("a b'"); };
    EXPECT_EQ(fill_path("out-{index}/{job}.json", value), "out-7/a b'.json");
    EXPECT_EQ(fill_path("{{index}}", value), "{index}");
    EXPECT_EQ(path_placeholders("{a}-{{b}}-{c}"), (std::vector<std::string>{"a", "c"}));
}

TEST(TransferPaths, ScansATreeInOrderAndRefusesLinks) {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("sshard-scan-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "b/c");
    fs::create_directories(dir / "b/empty");
    std::ofstream(dir / "b/c/z") << "zzz";
    std::ofstream(dir / "a") << "a";
    fs::permissions(dir / "a", fs::perms(0750));
    std::vector<std::string> directories;
    auto files = scan_stage_tree(dir.string(), &directories);
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].path, "a");
    EXPECT_EQ(files[0].mode, 0750u);
    EXPECT_EQ(files[1].path, "b/c/z");
    EXPECT_EQ(files[1].size, 3u);
    EXPECT_EQ(directories, (std::vector<std::string>{"b", "b/c", "b/empty"}));
    EXPECT_EQ(scan_stage_tree((dir / "a").string())[0].path, "");
    fs::create_symlink("..", dir / "b/up");
    EXPECT_THROW(scan_stage_tree(dir.string()), Error);
    fs::remove_all(dir);
}

} // namespace
} // namespace sshard::core
