// The live progress line, as a person sees it: the real binary in a tmux pane (a real pseudo-terminal), its
// screen read with `tmux capture-pane` and compared with what the journal says at the same time.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <optional>
#include <regex>
#include <sstream>
#include <unistd.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

using namespace std::chrono_literals;

// Shards that run until the test releases them, one file each; enough of them that the ETA after the first
// is several seconds.
constexpr int k_shards = 100;
constexpr const char* k_blocking_job = R"(jobs:
  - name: j
    command: while [ ! -e GO/{index} ]; do sleep 0.02; done
    shards: {count: 100}
)";

struct Counts {
    long done = -1;
    long running = -1;
    bool operator==(const Counts&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Counts& c) {
    return out << "[" << c.done << " done, " << c.running << " running]";
}

// A tmux server of its own (its own socket), one pane of the given size running `command`.
class Pane {
public:
    Pane(int width, int height, const std::string& command) : m_socket("sshard-test-" + std::to_string(getpid())) {
        std::string start = "tmux -L " + m_socket + " -f /dev/null new-session -d -x " + std::to_string(width) +
                            " -y " + std::to_string(height) + " '" + command + "'";
        EXPECT_EQ(std::system(start.c_str()), 0) << start;
    }
    ~Pane() { std::system(("tmux -L " + m_socket + " kill-server 2>/dev/null").c_str()); }

    // The screen's lines, as shown (a line the terminal wrapped is two).
    std::vector<std::string> screen() const {
        std::string path = "/tmp/" + m_socket + ".screen";
        std::system(("tmux -L " + m_socket + " capture-pane -p >" + path + " 2>/dev/null").c_str());
        std::istringstream text(read_file(path));
        std::filesystem::remove(path);
        std::vector<std::string> lines;
        for (std::string line; std::getline(text, line);) {
            lines.push_back(line);
        }
        while (!lines.empty() && lines.back().find_first_not_of(' ') == std::string::npos) {
            lines.pop_back();
        }
        return lines;
    }

private:
    std::string m_socket;
};

// The counts on the last progress line of the screen ("[2/6] 3 running, ...").
Counts screen_counts(const std::vector<std::string>& lines) {
    static const std::regex progress(R"(^\[(\d+)/\d+\] (\d+) running)");
    Counts counts;
    for (const auto& line : lines) {
        std::smatch m;
        if (std::regex_search(line, m, progress)) {
            counts = {std::stol(m[1]), std::stol(m[2])};
        }
    }
    return counts;
}

// The counts the journal gives: attempts started and not ended, and shards settled.
Counts journal_counts(const std::string& journal) {
    std::istringstream lines(read_file(journal));
    Counts counts{0, 0};
    for (std::string line; std::getline(lines, line);) {
        if (line.find("\"event\":\"attempt_start\"") != std::string::npos) {
            ++counts.running;
        } else if (line.find("\"event\":\"attempt_end\"") != std::string::npos) {
            --counts.running;
            if (line.find("\"verdict\":\"succeeded\"") != std::string::npos ||
                line.find("\"verdict\":\"failed\"") != std::string::npos) {
                ++counts.done;
            }
        }
    }
    return counts;
}

// The ETA on the last progress line, in whole seconds; -1 when there is none.
long screen_eta(const std::vector<std::string>& lines) {
    static const std::regex eta(R"(ETA (?:(\d+)h)?(?:(\d+)m)?(\d+)s)");
    long seconds = -1;
    for (const auto& line : lines) {
        std::smatch m;
        if (std::regex_search(line, m, eta)) {
            auto part = [&](int i) { return m[i].matched ? std::stol(m[i]) : 0L; };
            seconds = part(1) * 3600 + part(2) * 60 + part(3);
        }
    }
    return seconds;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) {
        text += line + "\n";
    }
    return text;
}

class ProgressLine : public testing::Test {
protected:
    void SetUp() override {
        if (std::system("command -v tmux >/dev/null") != 0) {
            GTEST_SKIP() << "tmux is not installed";
        }
        m_dir = make_temp_dir();
        std::filesystem::create_directories(m_dir + "/go");
    }
    void TearDown() override {
        if (m_pane) {
            release(0, k_shards);
            eventually([&] { return read_file(m_dir + "/run/journal.jsonl").find("run_end") != std::string::npos; });
            m_pane.reset();
        }
        std::filesystem::remove_all(m_dir);
    }
    // Writes the spec (the blocking job on `hosts`) and runs it in a pane of the given size.
    Pane& start(int width, const std::string& hosts) {
        std::string job = std::regex_replace(k_blocking_job, std::regex("GO"), m_dir + "/go");
        std::ofstream(m_dir + "/jobs.yaml") << "version: 1\nhosts: " << hosts << "\n" << job;
        m_pane.emplace(width, 20,
                       sshard_binary() + " run " + m_dir + "/jobs.yaml --run-dir " + m_dir +
                           "/run --ssh-config /dev/null; sleep 60");
        return *m_pane;
    }
    void release(int from, int to) {
        for (int i = from; i < to; ++i) {
            std::ofstream(m_dir + "/go/" + std::to_string(i));
        }
    }
    // The screen and the journal agree (polled: the journal is written in batches, the screen redrawn).
    void expect_screen_follows_journal(const Pane& pane, long done) {
        std::string journal = m_dir + "/run/journal.jsonl";
        ASSERT_TRUE(eventually([&] { return journal_counts(journal).done == done; }, 10s)) << done;
        bool agree = eventually([&] { return screen_counts(pane.screen()) == journal_counts(journal); }, 3s);
        EXPECT_TRUE(agree) << "journal " << journal_counts(journal) << ", screen:\n" << joined(pane.screen());
    }

    std::string m_dir;
    std::optional<Pane> m_pane;
};

TEST_F(ProgressLine, ShowsTheJournalsCountsWithinARedrawAndTheEtaCountsDown) {
    Pane& pane = start(100, "[{name: h, transport: local, slots: 3}]");
    ASSERT_TRUE(eventually([&] { return journal_counts(m_dir + "/run/journal.jsonl").running == 3; }));
    expect_screen_follows_journal(pane, 0);
    release(0, 1);
    expect_screen_follows_journal(pane, 1);
    // Nothing changes now until the next release: the ETA still counts down, redrawn every second.
    long first = -1;
    ASSERT_TRUE(eventually([&] { return (first = screen_eta(pane.screen())) > 1; }, 5s)) << joined(pane.screen());
    EXPECT_TRUE(eventually([&] { return screen_eta(pane.screen()) < first; }, 3s)) << joined(pane.screen());
    // Three shards end and three start within a few milliseconds: the last change is drawn too.
    release(1, 4);
    expect_screen_follows_journal(pane, 4);
}

TEST_F(ProgressLine, FitsANarrowTerminalWithHostMessagesAboveIt) {
    Pane& pane = start(30, "[{name: h, transport: local, slots: 3}, {name: 127.0.0.1, port: 1}]");
    ASSERT_TRUE(eventually([&] { return joined(pane.screen()).find("is down") != std::string::npos; }, 10s))
        << joined(pane.screen());
    for (int i = 0; i < 3; ++i) { // a redraw for each
        release(i, i + 1);
        expect_screen_follows_journal(pane, i + 1);
    }
    std::vector<std::string> lines = pane.screen();
    ASSERT_FALSE(lines.empty());
    std::size_t progress_lines = 0;
    for (const auto& line : lines) {
        if (line.starts_with("[")) {
            ++progress_lines;
            EXPECT_LE(line.size(), 29u) << line;
        }
    }
    EXPECT_EQ(progress_lines, 1u) << "a redraw leaves no line behind:\n" << joined(lines);
    EXPECT_TRUE(lines.back().starts_with("[3/100] 3 running")) << "the line is the last, below the messages:\n"
                                                               << joined(lines);
    EXPECT_NE(joined(lines).find("sshard: host 127.0.0.1 is down"), std::string::npos) << joined(lines);
}

// The interrupt's message goes above the progress line, which is then drawn again below it: no stale progress
// line stays on the screen when the run ends.
TEST_F(ProgressLine, InterruptMessageIsPrintedAboveTheLine) {
    Pane& pane = start(100, "[{name: h, transport: local, slots: 3}]");
    ASSERT_TRUE(eventually([&] { return journal_counts(m_dir + "/run/journal.jsonl").running == 3; }));
    expect_screen_follows_journal(pane, 0);
    int pid = std::stoi(read_file(m_dir + "/run/lock")); // the runner's, as Ctrl-C would signal it
    ASSERT_EQ(::kill(pid, SIGINT), 0);
    ASSERT_TRUE(
        eventually([&] { return read_file(m_dir + "/run/journal.jsonl").find("run_end") != std::string::npos; }, 20s));
    std::vector<std::string> lines;
    bool shown = eventually(
        [&] {
            lines = pane.screen();
            return joined(lines).find("records in") != std::string::npos;
        },
        10s);
    ASSERT_TRUE(shown) << joined(lines);
    std::size_t messages = 0;
    for (const auto& line : lines) {
        EXPECT_FALSE(line.starts_with("[0/100]")) << "a progress line was left behind:\n" << joined(lines);
        messages += line.starts_with("sshard: interrupted: stopping the running shards") ? 1 : 0;
    }
    EXPECT_EQ(messages, 1u) << joined(lines);
}

} // namespace
} // namespace sshard::test
