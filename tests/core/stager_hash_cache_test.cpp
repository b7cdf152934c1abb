// The hashes kept between runs: reused only for a file whose stat is unchanged, and consulted by staging.
#include "core/stager_hash_cache.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <unistd.h>

#include "core/stager.hpp"

namespace sshard::core {
namespace {

namespace fs = std::filesystem;

class StageHashCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = (fs::temp_directory_path() / ("sshard-hashes-" + std::to_string(::getpid()))).string();
        fs::remove_all(m_dir);
        fs::create_directories(m_dir + "/tree");
        std::ofstream(m_dir + "/tree/a") << "alpha";
    }
    void TearDown() override { fs::remove_all(m_dir); }

    static std::string read_all(const std::string& path) {
        std::ifstream in(path);
        return {std::istreambuf_iterator<char>(in), {}};
    }

    std::string m_dir;
};

TEST_F(StageHashCacheTest, KeepsAHashForItsStampOnlyAndSavesWhatWasUsed) {
    StageHashCache::Stamp old{1, 2, 3, 1'000'000'000, 1'000'000'000};
    StageHashCache::Stamp fresh = old;
    fresh.ctime_ns = 9'000'000'000'000'000'000;
    {
        StageHashCache cache(m_dir + "/cache");
        cache.insert("/x y", old, "0123456789abcdef");
        cache.insert("/fresh", fresh, "fedcba9876543210");
        EXPECT_EQ(cache.find("/x y", old), "0123456789abcdef");
        EXPECT_EQ(cache.find("/fresh", fresh), std::nullopt) << "a file changed just now may change again unseen";
        StageHashCache::Stamp moved = old;
        moved.inode = 7;
        EXPECT_EQ(cache.find("/x y", moved), std::nullopt);
        cache.save();
    }
    StageHashCache reloaded(m_dir + "/cache");
    EXPECT_EQ(reloaded.find("/x y", old), "0123456789abcdef");
}

// The cache file is written by hand with the file's real stamp and a made-up hash: staging must take it rather
// than read the file, and read the file again once it changed.
TEST_F(StageHashCacheTest, StagingTakesAHashFromTheCacheWhileTheFileIsUnchanged) {
    std::string file = m_dir + "/tree/a";
    auto stamp = StageHashCache::stamp(file);
    ASSERT_TRUE(stamp);
    std::ofstream(m_dir + "/cache") << fmt::format("{} {} {} {} {} feedfacefeedface {}\n", stamp->device, stamp->inode,
                                                   stamp->size, stamp->mtime_ns, stamp->ctime_ns, file);
    auto hashes = std::make_shared<StageHashCache>(m_dir + "/cache");
    StageSet cached({StageSpec{"tree", m_dir + "/tree", "t", std::nullopt}}, "");
    cached.use_hash_cache(hashes);
    StageSet plain({StageSpec{"tree", m_dir + "/tree", "t", std::nullopt}}, "");
    EXPECT_NE(cached.key(0), plain.key(0));
    std::ofstream(file, std::ios::app) << "!";
    StageSet changed({StageSpec{"tree", m_dir + "/tree", "t", std::nullopt}}, "");
    changed.use_hash_cache(hashes);
    StageSet changed_plain({StageSpec{"tree", m_dir + "/tree", "t", std::nullopt}}, "");
    EXPECT_EQ(changed.key(0), changed_plain.key(0));
}

// A cache file cut short, overwritten with garbage or made a link by someone else: lines that do not parse
// whole are ignored (each file is hashed again), and saving replaces the link instead of writing through it.
TEST_F(StageHashCacheTest, ACorruptCacheIsIgnoredAndALinkIsReplacedNotFollowed) {
    std::string file = m_dir + "/tree/a";
    auto stamp = StageHashCache::stamp(file);
    ASSERT_TRUE(stamp);
    std::ofstream(m_dir + "/victim") << fmt::format("{} {} {} {} 99999999999999999999999 feedfacefeedface {}\n"
                                                    "{} {} {} {} {}\n\x01\xff\xfe garbage\n{} {} {}",
                                                    stamp->device, stamp->inode, stamp->size, stamp->mtime_ns, file,
                                                    stamp->device, stamp->inode, stamp->size, stamp->mtime_ns,
                                                    stamp->ctime_ns, stamp->device, stamp->inode, stamp->size);
    std::string victim = read_all(m_dir + "/victim");
    fs::create_symlink(m_dir + "/victim", m_dir + "/cache");
    auto hashes = std::make_shared<StageHashCache>(m_dir + "/cache");
    StageSet cached({StageSpec{"tree", m_dir + "/tree", "t", std::nullopt}}, "");
    cached.use_hash_cache(hashes);
    StageSet plain({StageSpec{"tree", m_dir + "/tree", "t", std::nullopt}}, "");
    EXPECT_EQ(cached.key(0), plain.key(0)) << "no line of the corrupt cache was taken";
    hashes->save();
    EXPECT_FALSE(fs::is_symlink(m_dir + "/cache"));
    EXPECT_EQ(read_all(m_dir + "/victim"), victim);
}

} // namespace
} // namespace sshard::core
