#include "core/journal.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include "core/error.hpp"

namespace sshard::core {
namespace {

using namespace std::chrono_literals;

// Long enough that only sync() or the destructor commits during a test.
constexpr std::chrono::milliseconds k_never = 3600s;

class Journal : public testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/sshard_journal_XXXXXX";
        ASSERT_NE(::mkdtemp(name), nullptr);
        m_dir = name;
        m_path = m_dir + "/journal.jsonl";
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }

    void write_file(const std::string& text) const { std::ofstream(m_path, std::ios::binary) << text; }

    std::vector<nlohmann::json> read_all() const {
        std::vector<nlohmann::json> events;
        read_journal(m_path, [&](const nlohmann::json& event, int line) {
            EXPECT_EQ(line, static_cast<int>(events.size()) + 1);
            events.push_back(event);
        });
        return events;
    }

    std::string read_error() const {
        try {
            read_all();
        } catch (const Error& e) {
            return e.what();
        }
        return "(no error)";
    }

    std::string m_dir;
    std::string m_path;
};

TEST_F(Journal, RoundTripFromSeveralThreadsKeepsEachThreadsOrder) {
    constexpr int k_threads = 4;
    constexpr int k_events = 500;
    {
        JournalWriter journal(m_path, 1ms);
        std::vector<std::thread> threads;
        for (int t = 0; t < k_threads; ++t) {
            threads.emplace_back([&journal, t] {
                for (int i = 0; i < k_events; ++i) {
                    journal.append({{"thread", t}, {"seq", i}, {"text", "line\nbreak \"quoted\""}});
                }
            });
        }
        for (auto& thread : threads) {
            thread.join();
        }
        journal.sync();
    }
    std::vector<int> next(k_threads, 0);
    for (const auto& event : read_all()) {
        int t = event.at("thread").get<int>();
        EXPECT_EQ(event.at("seq").get<int>(), next[t]) << "thread " << t;
        EXPECT_EQ(event.at("text").get<std::string>(), "line\nbreak \"quoted\"");
        next[t] = event.at("seq").get<int>() + 1;
    }
    EXPECT_EQ(next, std::vector<int>(k_threads, k_events));
}

TEST_F(Journal, EachEventIsOneLine) {
    {
        JournalWriter journal(m_path);
        journal.append({{"a", 1}});
        journal.append({{"b", "x\ny"}});
    }
    std::ifstream in(m_path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), "{\"a\":1}\n{\"b\":\"x\\ny\"}\n");
}

TEST_F(Journal, SyncMakesAppendedEventsVisibleToAReader) {
    JournalWriter journal(m_path, k_never);
    journal.append({{"event", "one"}});
    journal.append({{"event", "two"}});
    EXPECT_TRUE(read_all().empty()) << "nothing is written before a commit";
    journal.sync();
    std::vector<nlohmann::json> events = read_all();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].at("event"), "two");
    journal.append({{"event", "three"}});
    journal.sync();
    EXPECT_EQ(read_all().size(), 3u);
}

TEST_F(Journal, DestructorCommitsWhatIsPending) {
    {
        JournalWriter journal(m_path, k_never);
        journal.append({{"event", "last"}});
    }
    std::vector<nlohmann::json> events = read_all();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].at("event"), "last");
}

TEST_F(Journal, AppendsToAnExistingJournal) {
    write_file("{\"event\":\"old\"}\n");
    {
        JournalWriter journal(m_path);
        journal.append({{"event", "new"}});
    }
    std::vector<nlohmann::json> events = read_all();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].at("event"), "old");
    EXPECT_EQ(events[1].at("event"), "new");
}

TEST_F(Journal, InvalidUtf8IsReplacedNotThrown) {
    {
        JournalWriter journal(m_path);
        journal.append({{"out", std::string("a\xff"
                                            "b")}});
    }
    std::vector<nlohmann::json> events = read_all();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].at("out"), "a\xEF\xBF\xBD"
                                   "b");
}

TEST_F(Journal, FileIsPrivate) {
    JournalWriter journal(m_path);
    struct stat info {};
    ASSERT_EQ(::stat(m_path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0600u);
}

TEST_F(Journal, UnopenablePathThrows) {
    std::string path = m_dir + "/missing/journal.jsonl";
    try {
        JournalWriter journal(path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "cannot open journal '" + path + "': No such file or directory");
    }
}

TEST_F(Journal, WriteFailureIsThrownBySync) {
    if (::access("/dev/full", W_OK) != 0) {
        GTEST_SKIP() << "no writable /dev/full";
    }
    JournalWriter journal("/dev/full", k_never);
    journal.append({{"event", "lost"}});
    try {
        journal.sync();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "cannot write journal '/dev/full': No space left on device");
    }
    journal.append({{"event", "also lost"}});
    EXPECT_THROW(journal.sync(), Error) << "the failure is remembered";
}

TEST_F(Journal, ReadsAnEmptyJournal) {
    write_file("");
    EXPECT_TRUE(read_all().empty());
}

TEST_F(Journal, TruncatedLastLineIsIgnored) {
    write_file("{\"a\":1}\n{\"b\":2}\n{\"c\":");
    std::vector<nlohmann::json> events = read_all();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].at("b"), 2);
}

TEST_F(Journal, CompleteLastLineWithoutNewlineIsRead) {
    write_file("{\"a\":1}\n{\"b\":2}");
    EXPECT_EQ(read_all().size(), 2u);
}

TEST_F(Journal, CorruptMiddleLineIsReportedWithItsNumber) {
    write_file("{\"a\":1}\n{\"b\":\n{\"c\":3}\n");
    EXPECT_EQ(read_error(), "journal '" + m_path +
                                "' line 2 is not valid JSON: parse error at line 1, column 6: syntax error while "
                                "parsing value - unexpected end of input; expected '[', '{', or a literal");
}

TEST_F(Journal, CorruptLastLineWithNewlineIsReported) {
    write_file("{\"a\":1}\n{\"b\":\n");
    EXPECT_EQ(read_error(), "journal '" + m_path +
                                "' line 2 is not valid JSON: parse error at line 1, column 6: syntax error while "
                                "parsing value - unexpected end of input; expected '[', '{', or a literal");
}

TEST_F(Journal, LineThatIsNotAnObjectIsReported) {
    write_file("{\"a\":1}\n[1,2]\n");
    EXPECT_EQ(read_error(), "journal '" + m_path + "' line 2 is not a JSON object");
}

TEST_F(Journal, UnreadableJournalThrows) {
    EXPECT_EQ(read_error(), "cannot read journal '" + m_path + "': No such file or directory");
    std::filesystem::create_directory(m_path);
    EXPECT_EQ(read_error(), "cannot read journal '" + m_path + "': Is a directory");
}

} // namespace
} // namespace sshard::core
