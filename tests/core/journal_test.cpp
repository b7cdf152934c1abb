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

// A small event for tests: host_down carries two strings.
HostDownEvent note(const std::string& host, const std::string& reason = "") {
    return {0, host, reason};
}

const char* const k_line = R"({"event":"host_down","host":"a","reason":"","time":0.0})";

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
    std::string file_text() const {
        std::ifstream in(m_path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

    std::vector<HostDownEvent> read_all() const {
        std::vector<HostDownEvent> events;
        read_journal(m_path, [&](const JournalEvent& event, int line) {
            EXPECT_EQ(line, static_cast<int>(events.size()) + 1);
            events.push_back(std::get<HostDownEvent>(event));
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
                    journal.append(note(std::to_string(t), std::to_string(i) + " line\nbreak \"quoted\""));
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
        int t = std::stoi(event.host);
        EXPECT_EQ(event.reason, std::to_string(next[t]) + " line\nbreak \"quoted\"") << "thread " << t;
        ++next[t];
    }
    EXPECT_EQ(next, std::vector<int>(k_threads, k_events));
}

TEST_F(Journal, EachEventIsOneLine) {
    {
        JournalWriter journal(m_path);
        journal.append(note("a"));
        journal.append(note("b", "x\ny"));
    }
    EXPECT_EQ(file_text(),
              std::string(k_line) + "\n" + R"({"event":"host_down","host":"b","reason":"x\ny","time":0.0})" + "\n");
}

TEST_F(Journal, SyncMakesAppendedEventsVisibleToAReader) {
    JournalWriter journal(m_path, k_never);
    journal.append(note("one"));
    journal.append(note("two"));
    EXPECT_TRUE(read_all().empty()) << "nothing is written before a commit";
    journal.sync();
    std::vector<HostDownEvent> events = read_all();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].host, "two");
    journal.append(note("three"));
    journal.sync();
    EXPECT_EQ(read_all().size(), 3u);
}

TEST_F(Journal, DestructorCommitsWhatIsPending) {
    {
        JournalWriter journal(m_path, k_never);
        journal.append(note("last"));
    }
    std::vector<HostDownEvent> events = read_all();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].host, "last");
}

TEST_F(Journal, AppendsToAnExistingJournal) {
    write_file(std::string(k_line) + "\n");
    {
        JournalWriter journal(m_path);
        journal.append(note("new"));
    }
    std::vector<HostDownEvent> events = read_all();
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].host, "a");
    EXPECT_EQ(events[1].host, "new");
}

TEST_F(Journal, OpeningCutsOffATornLastLineBeforeAppending) {
    write_file(std::string(k_line) + "\n" + R"({"event":"host_down","time":0.0,"ho)");
    {
        JournalWriter journal(m_path);
        journal.append(note("new"));
    }
    EXPECT_EQ(file_text(),
              std::string(k_line) + "\n" + R"({"event":"host_down","host":"new","reason":"","time":0.0})" + "\n");
    write_file(R"({"event":"run_st)");
    { JournalWriter journal(m_path); }
    EXPECT_EQ(file_text(), "") << "a journal whose only line is torn";
}

TEST_F(Journal, InvalidUtf8IsReplacedNotThrown) {
    {
        JournalWriter journal(m_path);
        journal.append(note("a\xff"
                            "b"));
    }
    std::vector<HostDownEvent> events = read_all();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].host, "a\xEF\xBF\xBD"
                              "b");
}

TEST_F(Journal, FileIsPrivate) {
    JournalWriter journal(m_path);
    struct stat info {};
    ASSERT_EQ(::stat(m_path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 07777, 0600u);
}

TEST_F(Journal, SymbolicLinkIsNeverFollowed) {
    std::string elsewhere = m_dir + "/elsewhere";
    write_file("");
    std::filesystem::rename(m_path, elsewhere);
    std::filesystem::create_symlink(elsewhere, m_path);
    try {
        JournalWriter journal(m_path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "cannot open journal '" + m_path + "': Too many levels of symbolic links");
    }
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

TEST_F(Journal, WriteFailureIsReportedOnceAndThrownBySync) {
    if (::access("/dev/full", W_OK) != 0) {
        GTEST_SKIP() << "no writable /dev/full";
    }
    std::vector<std::string> reported;
    JournalWriter journal("/dev/full", k_never, [&](const std::string& message) { reported.push_back(message); });
    journal.append(note("lost"));
    try {
        journal.sync();
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "cannot write journal '/dev/full': No space left on device");
    }
    journal.append(note("also lost"));
    EXPECT_THROW(journal.sync(), Error) << "the failure is remembered";
    EXPECT_EQ(reported, std::vector<std::string>{"cannot write journal '/dev/full': No space left on device"});
}

TEST_F(Journal, ReadsAnEmptyJournal) {
    write_file("");
    EXPECT_TRUE(read_all().empty());
}

TEST_F(Journal, TornLastLineIsIgnored) {
    write_file(std::string(k_line) + "\n" + k_line + "\n{\"c\":");
    EXPECT_EQ(read_all().size(), 2u);
}

TEST_F(Journal, LastLineWithoutItsLineBreakIsTornEvenWhenItParses) {
    // The writer ends every line; a resume cuts such a line off, so a reader must not count it either.
    write_file(std::string(k_line) + "\n" + k_line);
    EXPECT_EQ(read_all().size(), 1u);
}

TEST_F(Journal, DamagedMiddleLineIsReportedWithItsNumber) {
    write_file(std::string(k_line) + "\n{\"b\":\n" + k_line + "\n");
    EXPECT_EQ(read_error(), "journal '" + m_path +
                                "' line 2 is not valid JSON: parse error at line 1, column 6: syntax error while "
                                "parsing value - unexpected end of input; expected '[', '{', or a literal");
}

TEST_F(Journal, DamagedLastLineWithItsLineBreakIsReported) {
    write_file(std::string(k_line) + "\n{\"b\":\n");
    EXPECT_EQ(read_error().rfind("journal '" + m_path + "' line 2 is not valid JSON: ", 0), 0u);
}

TEST_F(Journal, LineThatIsNotAnEventIsReported) {
    write_file(std::string(k_line) + "\n[1,2]\n");
    EXPECT_EQ(read_error(), "journal '" + m_path + "' line 2 is not a JSON object");
    write_file(std::string(k_line) + "\n{\"event\":\"host_down\"}\n");
    EXPECT_EQ(read_error(), "journal '" + m_path + "' line 2 holds a bad host_down event: key 'host' not found");
}

TEST_F(Journal, UnreadableJournalThrows) {
    EXPECT_EQ(read_error(), "cannot read journal '" + m_path + "': No such file or directory");
    std::filesystem::create_directory(m_path);
    EXPECT_EQ(read_error(), "cannot read journal '" + m_path + "': Is a directory");
}

} // namespace
} // namespace sshard::core
