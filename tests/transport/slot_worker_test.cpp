// The slot worker, run as an SSH server's login shell would run it (in a session of its own, its stdin, stdout
// and stderr on pipes): as sshard sends it, which picks the local bash, and in the local dash, as on a host
// without bash.
#include "transport/slot_worker.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "core/shell_quote.hpp"
#include "transport/remote_command.hpp"

namespace sshard::transport {
namespace {

using namespace std::chrono_literals;

struct Shard {
    std::string out;
    std::string err;
    core::Outcome outcome;
    bool ended = false;
};

// A worker started in a new session, as sshd starts a channel's command: worker_command when `shell` is
// "sshard", else the worker in that shell. `prefix` goes before the command (assignments).
class LocalWorker {
public:
    LocalWorker(const std::string& shell, const std::string& marker, const std::string& prefix = "")
        : m_reader(marker) {
        std::string command =
            prefix + (shell == "sshard" ? worker_command(1000ms) : worker_command_in("/bin/" + shell, 1000ms));
        int in[2], out[2], err[2];
        EXPECT_EQ(pipe2(in, O_CLOEXEC) | pipe2(out, O_CLOEXEC) | pipe2(err, O_CLOEXEC), 0);
        m_pid = fork();
        if (m_pid == 0) {
            setsid();
            dup2(in[0], 0);
            dup2(out[1], 1);
            dup2(err[1], 2);
            close_range(3, ~0U, 0); // as sshd starts a session: nothing open but the three streams
            execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        close(in[0]);
        close(out[1]);
        close(err[1]);
        m_in = in[1];
        m_out = out[0];
        m_err = err[0];
        send(marker + "\n");
    }
    ~LocalWorker() {
        close_stdin();
        kill(-m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
        close(m_out);
        close(m_err);
    }

    void send(const std::string& line) { ASSERT_EQ(write(m_in, line.data(), line.size()), ssize_t(line.size())); }
    void close_stdin() {
        if (m_in >= 0) {
            close(m_in);
            m_in = -1;
        }
    }
    // Runs one shard and reads until its end records (at most 20 s).
    Shard run(const core::Launch& launch) {
        send(worker_request(launch));
        return read_shard([](const Shard&) { return false; });
    }
    // Reads until the shard has ended or a `stop` says so.
    Shard read_shard(
        const std::function<bool(const Shard&)>& stop,
        const std::function<bool(const WorkerReader&)>& stop_reader = [](const WorkerReader&) { return false; }) {
        Shard shard;
        auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!m_reader.ended() && !m_reader.broken() && !stop(shard) && !stop_reader(m_reader) &&
               std::chrono::steady_clock::now() < deadline) {
            pollfd fds[] = {{m_out, POLLIN, 0}, {m_err, POLLIN, 0}};
            poll(fds, 2, 100);
            read_into(m_out, core::Stream::out, shard.out);
            read_into(m_err, core::Stream::err, shard.err);
        }
        shard.ended = m_reader.ended();
        shard.outcome = m_reader.outcome();
        if (shard.ended) {
            m_reader.next_shard();
        }
        return shard;
    }
    WorkerReader& reader() { return m_reader; }

private:
    void read_into(int fd, core::Stream stream, std::string& text) {
        char buffer[4096];
        pollfd p{fd, POLLIN, 0};
        // One byte at a time first: the reader must not depend on how the streams are cut.
        while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0) {
            ssize_t n = read(fd, buffer, text.size() < 64 ? 1 : sizeof buffer);
            if (n <= 0) {
                return;
            }
            text += m_reader.feed(stream, std::string_view(buffer, static_cast<std::size_t>(n)));
        }
    }

    WorkerReader m_reader;
    pid_t m_pid = -1;
    int m_in = -1;
    int m_out = -1;
    int m_err = -1;
};

// The state letter of /proc/PID/stat: 'S' sleeping, 'R' running, 'T' stopped, 'Z' a zombie; 0 when gone.
char process_state(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    auto paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() ? stat[paren + 2] : '\0';
}

bool process_alive(int pid) {
    char state = process_state(pid);
    return state != '\0' && state != 'Z';
}

// Polls (up to 10 s) until `pid` is gone.
bool gone_soon(int pid) {
    for (int i = 0; i < 200 && process_alive(pid); ++i) {
        std::this_thread::sleep_for(50ms);
    }
    return !process_alive(pid);
}

class WorkerDir : public testing::Test {
protected:
    void SetUp() override {
        m_dir = std::filesystem::temp_directory_path() / ("sshard_worker_" + std::to_string(getpid()));
        std::filesystem::create_directories(m_dir);
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }
    core::Launch launch(const std::string& command) {
        core::Launch l;
        l.command = command;
        return l;
    }
    // "PATH=DIR ", DIR holding only `tools`: a host that lacks the others.
    std::string path_with_only(std::initializer_list<const char*> tools) {
        std::filesystem::create_directories(m_dir + "/bin");
        for (const char* tool : tools) {
            std::filesystem::create_symlink(std::string("/bin/") + tool, m_dir + "/bin/" + tool);
        }
        return "PATH=" + m_dir + "/bin ";
    }
    std::string m_dir;
};

class SlotWorker : public WorkerDir, public testing::WithParamInterface<std::string> {};

// In a UTF-8 locale (where bash's `read -N` counts characters, not bytes), with values beyond a pipe's buffer.
TEST_P(SlotWorker, HostileEnvValuesArriveLiterallyAndTheWorkerSeesNoMarkerLeak) {
    LocalWorker worker(GetParam(), make_marker(), "LC_ALL=C.UTF-8 ");
    std::vector<std::string> values = {"it's",
                                       "a\nb",
                                       "$(touch " + m_dir + "/x)",
                                       "`touch " + m_dir + "/y`",
                                       "\\\"'\\n",
                                       "-e",
                                       "#; exit 9",
                                       " lead and trail ",
                                       "*",
                                       "\xff\xfe",
                                       "EOF\n'\"$sshard_nl\"'",
                                       "\u00e9\u65e5\u672c",
                                       std::string(70000, 'x') + "\u00e9"};
    core::Launch l =
        launch("for v in \"$V0\" \"$V1\" \"$V2\" \"$V3\" \"$V4\" \"$V5\" \"$V6\" \"$V7\" \"$V8\" \"$V9\" "
               "\"$V10\" \"$V11\" \"$V12\"; do printf '%s|' \"$v\"; done; env | grep -c SSHARD- >&2; exit 3");
    std::string expected;
    for (std::size_t i = 0; i < values.size(); ++i) {
        l.env.emplace_back("V" + std::to_string(i), values[i]);
        expected += values[i] + "|";
    }
    l.workdir = m_dir;
    Shard shard = worker.run(l);
    ASSERT_TRUE(shard.ended) << shard.out << shard.err;
    EXPECT_EQ(shard.out, expected);
    EXPECT_EQ(shard.err, "0\n") << "the marker is in no shard's environment";
    EXPECT_EQ(shard.outcome.kind, core::Outcome::Kind::exited);
    EXPECT_EQ(shard.outcome.exit_code, 3);
    EXPECT_FALSE(std::filesystem::exists(m_dir + "/x"));
    EXPECT_FALSE(std::filesystem::exists(m_dir + "/y"));
}

TEST_P(SlotWorker, ExitCodesSignalsWorkdirAndCpuTimes) {
    LocalWorker worker(GetParam(), make_marker());
    Shard exited = worker.run(launch("exit 143"));
    EXPECT_EQ(exited.outcome.kind, core::Outcome::Kind::exited);
    EXPECT_EQ(exited.outcome.exit_code, 143);
    Shard killed = worker.run(launch("kill -TERM $$"));
    EXPECT_EQ(killed.outcome.kind, core::Outcome::Kind::signaled);
    EXPECT_EQ(killed.outcome.signal, SIGTERM);
    core::Launch bad = launch("echo never");
    bad.workdir = "/nonexistent dir";
    Shard nowhere = worker.run(bad);
    EXPECT_EQ(nowhere.outcome.exit_code, 127);
    EXPECT_EQ(nowhere.err, "sshard: cannot change to directory '/nonexistent dir'\n");
    EXPECT_EQ(nowhere.out, "");
    Shard busy = worker.run(launch("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"));
    ASSERT_TRUE(busy.outcome.cpu_user_s);
    EXPECT_GT(*busy.outcome.cpu_user_s + *busy.outcome.cpu_sys_s, 0.0);
    Shard idle = worker.run(launch("true"));
    EXPECT_LT(*idle.outcome.cpu_user_s, *busy.outcome.cpu_user_s) << "times are per shard, not cumulative";
}

// Exit codes above 128 and deaths by signal go through the FIFO that also carries the requests: each must be
// read back before the next request, or the next shard would read a stale code as its request.
TEST_P(SlotWorker, ExitCodesAbove128AndSignalsKeepTheWorkerInStep) {
    LocalWorker worker(GetParam(), make_marker());
    struct Case {
        std::string command;
        core::Outcome::Kind kind;
        int value;
    };
    const std::vector<Case> cases = {{"exit 129", core::Outcome::Kind::exited, 129},
                                     {"kill -KILL $$", core::Outcome::Kind::signaled, SIGKILL},
                                     {"exit 0", core::Outcome::Kind::exited, 0},
                                     {"exit 255", core::Outcome::Kind::exited, 255},
                                     {"exit 255", core::Outcome::Kind::exited, 255},
                                     {"kill -INT $$", core::Outcome::Kind::signaled, SIGINT},
                                     {"kill -TERM $$", core::Outcome::Kind::signaled, SIGTERM},
                                     {"exit 7", core::Outcome::Kind::exited, 7}};
    for (const auto& c : cases) {
        Shard shard = worker.run(launch(c.command));
        ASSERT_TRUE(shard.ended) << c.command << ": " << shard.err;
        EXPECT_EQ(shard.outcome.kind, c.kind) << c.command;
        EXPECT_EQ(c.kind == core::Outcome::Kind::exited ? shard.outcome.exit_code : shard.outcome.signal, c.value)
            << c.command;
    }
}

// A shard's commands hold no descriptor of the worker's (its FIFO of requests): only stdin (/dev/null),
// stdout and stderr, and the directory `ls` opens to list them.
TEST_P(SlotWorker, AShardHoldsOnlyItsThreeStreams) {
    LocalWorker worker(GetParam(), make_marker());
    Shard shard = worker.run(launch("ls /proc/self/fd | tr '\\n' ' '; readlink /proc/self/fd/0"));
    ASSERT_TRUE(shard.ended) << shard.err;
    EXPECT_EQ(shard.out, "0 1 2 3 /dev/null\n");
    EXPECT_EQ(worker.run(launch("echo next")).out, "next\n");
}

TEST_P(SlotWorker, ABackgroundedWriterEndsWithItsShardAndNeverReachesTheNext) {
    LocalWorker worker(GetParam(), make_marker());
    Shard first = worker.run(
        launch("(while :; do echo bg; echo bg >&2; done) & echo $! > " + m_dir + "/bg.pid; sleep 6 & echo started"));
    ASSERT_TRUE(first.ended);
    EXPECT_NE(first.out.find("started\n"), std::string::npos);
    int writer = 0;
    std::ifstream(m_dir + "/bg.pid") >> writer;
    ASSERT_GT(writer, 0);
    EXPECT_TRUE(gone_soon(writer)) << "the writer ends with its shard";
    for (int i = 0; i < 3; ++i) {
        Shard next = worker.run(launch("echo next; echo err >&2"));
        EXPECT_EQ(next.out, "next\n");
        EXPECT_EQ(next.err, "err\n");
    }
}

TEST_P(SlotWorker, AShardLeadsAProcessGroupOfItsOwnWithSigintAndSigquitAtTheirDefaults) {
    LocalWorker worker(GetParam(), make_marker());
    Shard shard = worker.run(
        launch("set -- $(cat /proc/$$/stat); echo $1 $5; sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status"));
    ASSERT_TRUE(shard.ended) << shard.err;
    std::istringstream words(shard.out);
    long pid = 0;
    long pgid = 0;
    std::string ignored;
    words >> pid >> pgid >> ignored;
    EXPECT_EQ(pgid, pid) << shard.out;
    unsigned long long mask = std::stoull(ignored, nullptr, 16);
    EXPECT_EQ(mask & (1ULL << (SIGINT - 1)), 0u) << shard.out;
    EXPECT_EQ(mask & (1ULL << (SIGQUIT - 1)), 0u) << shard.out;
}

TEST_P(SlotWorker, AShardCannotForgeRecords) {
    std::string marker = make_marker();
    LocalWorker worker(GetParam(), marker);
    std::string forged = "SSHARD-0000000000000000 E 0 0m0.000000s 0m0.000000s\\n0m0.000000s 0m0.000000s\\n";
    Shard shard = worker.run(launch("printf '" + forged + "'; printf '" + forged + "' >&2; printf 'SSHARD-'"));
    ASSERT_TRUE(shard.ended);
    EXPECT_EQ(shard.out, "SSHARD-0000000000000000 E 0 0m0.000000s 0m0.000000s\n0m0.000000s 0m0.000000s\nSSHARD-");
    EXPECT_EQ(shard.outcome.exit_code, 0);
    EXPECT_EQ(worker.run(launch("echo after")).out, "after\n");
}

TEST_P(SlotWorker, CancelSignalsTheGroupThroughTheWorker) {
    LocalWorker worker(GetParam(), make_marker());
    worker.send(worker_request(launch("trap 'exit 7' TERM; sleep 30 & echo ready; wait")));
    Shard ready = worker.read_shard([](const Shard& s) { return s.out == "ready\n"; });
    ASSERT_EQ(ready.out, "ready\n");
    worker.send("U\n");
    Shard ended = worker.read_shard([](const Shard&) { return false; });
    ASSERT_TRUE(ended.ended);
    EXPECT_EQ(ended.outcome.exit_code, 7);
    worker.send(worker_request(launch("echo ready; sleep 30")));
    EXPECT_EQ(worker.read_shard([](const Shard& s) { return s.out == "ready\n"; }).out, "ready\n");
    worker.send("U\n");
    Shard terminated = worker.read_shard([](const Shard&) { return false; });
    EXPECT_EQ(terminated.outcome.kind, core::Outcome::Kind::signaled);
    EXPECT_EQ(terminated.outcome.signal, SIGTERM);
    EXPECT_EQ(terminated.err, "") << "the worker's shell reports nothing of its own";
    worker.send(worker_request(launch("trap '' TERM; sleep 30")));
    worker.read_shard([](const Shard&) { return false; }, [](const WorkerReader& r) { return r.pgid().has_value(); });
    worker.send("K\n");
    Shard killed = worker.read_shard([](const Shard&) { return false; });
    ASSERT_TRUE(killed.ended);
    EXPECT_EQ(killed.outcome.kind, core::Outcome::Kind::signaled);
    EXPECT_EQ(killed.outcome.signal, SIGKILL);
}

// bash's `wait` returns when a job of its own stops: the runner sleeps meanwhile, and waits on.
TEST_P(SlotWorker, AStoppedShardIsWaitedForWithoutSpinning) {
    LocalWorker worker(GetParam(), make_marker());
    worker.send(worker_request(launch("echo $PPID > " + m_dir + "/runner; kill -STOP $$; echo resumed")));
    worker.read_shard([](const Shard&) { return false; }, [](const WorkerReader& r) { return r.pgid().has_value(); });
    ASSERT_TRUE(worker.reader().pgid());
    int shard = static_cast<int>(*worker.reader().pgid());
    int runner = 0;
    for (int i = 0; i < 500 && (process_state(shard) != 'T' || runner == 0); ++i) {
        std::this_thread::sleep_for(10ms);
        std::ifstream(m_dir + "/runner") >> runner;
    }
    ASSERT_EQ(process_state(shard), 'T');
    int sleeping = 0;
    for (int i = 0; i < 50; ++i) {
        sleeping += process_state(runner) == 'S' ? 1 : 0;
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_GT(sleeping, 25) << "the runner sleeps while its shard is stopped";
    kill(-shard, SIGCONT);
    Shard resumed = worker.read_shard([](const Shard&) { return false; });
    ASSERT_TRUE(resumed.ended);
    EXPECT_EQ(resumed.out, "resumed\n");
    EXPECT_EQ(resumed.outcome.kind, core::Outcome::Kind::exited);
    EXPECT_EQ(resumed.outcome.exit_code, 0);
}

TEST_P(SlotWorker, ClosingStdinKillsTheShardTermThenKill) {
    LocalWorker worker(GetParam(), make_marker());
    worker.send(worker_request(
        launch("trap '' TERM; sleep 30 & echo $! > " + m_dir + "/pid; echo $$ >> " + m_dir + "/pid; wait")));
    worker.read_shard([](const Shard&) { return false; }, [](const WorkerReader& r) { return r.pgid().has_value(); });
    ASSERT_TRUE(worker.reader().pgid());
    std::vector<int> pids;
    for (int i = 0; i < 200 && pids.size() < 2; ++i) {
        std::this_thread::sleep_for(20ms);
        pids.clear();
        std::ifstream in(m_dir + "/pid");
        for (int pid; in >> pid;) {
            pids.push_back(pid);
        }
    }
    ASSERT_EQ(pids.size(), 2u);
    worker.close_stdin();
    for (int pid : pids) {
        EXPECT_TRUE(gone_soon(pid)) << pid;
    }
}

TEST_P(SlotWorker, AHostWithoutBashOrSetsidSaysWhyAndNeverBecomesReady) {
    LocalWorker worker(GetParam(), make_marker(), path_with_only({"mktemp", "mkfifo", "rm", "sleep", "env"}));
    Shard shard = worker.read_shard([](const Shard& s) { return s.err.find('\n') != std::string::npos; });
    EXPECT_FALSE(worker.reader().ready());
    EXPECT_EQ(shard.err, "sshard: no setsid(1) on this host\n");
}

// With bash, a shard's group and signals come from its job control: a host needs no setsid(1) or env(1).
TEST_F(WorkerDir, WithBashAHostNeedsNoSetsid) {
    LocalWorker worker("sshard", make_marker(), path_with_only({"bash", "mktemp", "mkfifo", "rm", "sleep"}));
    Shard shard = worker.run(launch("echo ran"));
    EXPECT_TRUE(shard.ended) << shard.err;
    EXPECT_EQ(shard.out, "ran\n");
}

INSTANTIATE_TEST_SUITE_P(Shells, SlotWorker, testing::Values("sshard", "dash"),
                         [](const testing::TestParamInfo<std::string>& shell) { return shell.param; });

// A process group of its own that ignores TERM, as a stubborn shard would: `sleep 30` after setsid.
pid_t stubborn_group() {
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        signal(SIGTERM, SIG_IGN);
        execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
        _exit(127);
    }
    return pid;
}

TEST(Supervisor, KillsTheGroupsItStillHoldsWhenItsInputCloses) {
    pid_t held = stubborn_group();
    pid_t released = stubborn_group();
    std::string command = "setsid /bin/sh -c " + core::shell_quote(supervisor_command(1000ms));
    FILE* supervisor = popen(command.c_str(), "w");
    ASSERT_NE(supervisor, nullptr);
    fprintf(supervisor, "+%d\n+%d\n-%d\n", held, released, released);
    pclose(supervisor); // its input closes; it waits for its grace before KILL, then exits
    pid_t reaped = 0;
    for (int i = 0; i < 100 && reaped == 0; ++i) { // KILLed before pclose returned; allow for a slow machine
        reaped = waitpid(held, nullptr, WNOHANG);
        std::this_thread::sleep_for(reaped == 0 ? 50ms : 0ms);
    }
    EXPECT_EQ(reaped, held) << "the held group was killed";
    EXPECT_TRUE(process_alive(released)) << "a group that ended is no longer its business";
    kill(released, SIGKILL);
    waitpid(released, nullptr, 0);
}

TEST(WorkerReader, TakesRecordsOutWhereverTheStreamsAreCut) {
    std::string m = "SSHARD-0123456789abcdef";
    std::string out = m + " R\nhello" + m + "\n";
    std::string err = "warn " + m + " S 42\nmore" + m + " E k9 0m0.5s 0m0.25s\n0m1.5s 0m0.75s\n";
    for (std::size_t cut : {std::size_t(1), std::size_t(3), std::size_t(1000)}) {
        WorkerReader reader(m);
        std::string user_out;
        std::string user_err;
        for (std::size_t i = 0; i < out.size(); i += cut) {
            user_out += reader.feed(core::Stream::out, out.substr(i, cut));
        }
        for (std::size_t i = 0; i < err.size(); i += cut) {
            user_err += reader.feed(core::Stream::err, err.substr(i, cut));
        }
        EXPECT_EQ(user_out, "hello");
        EXPECT_EQ(user_err, "warn more");
        ASSERT_TRUE(reader.ended());
        EXPECT_EQ(reader.pgid(), 42);
        EXPECT_EQ(reader.outcome().kind, core::Outcome::Kind::signaled);
        EXPECT_EQ(reader.outcome().signal, 9);
        EXPECT_EQ(reader.outcome().cpu_user_s, 1.5);
        EXPECT_EQ(reader.outcome().cpu_sys_s, 0.75);
    }
}

TEST(WorkerReader, RecordsOutOfPlaceBreakTheWorker) {
    std::string m = "SSHARD-0123456789abcdef";
    WorkerReader early(m);
    early.feed(core::Stream::err, m + " E 0 0 0\n0 0\n");
    EXPECT_TRUE(early.broken()) << "an end before a start";
    WorkerReader garbled(m);
    garbled.feed(core::Stream::out, m + " R\n");
    garbled.feed(core::Stream::err, m + " S 7\n" + m + " E zero 0 0\n0 0\n");
    EXPECT_TRUE(garbled.broken());
    WorkerReader fine(m);
    fine.feed(core::Stream::out, "SSHARD-0123 R\n");
    EXPECT_FALSE(fine.broken());
    EXPECT_FALSE(fine.ready());
}

TEST(WorkerRequest, ALengthThenOneLineWhateverTheValues) {
    core::Launch l;
    l.command = "echo 'a'\nb";
    l.env = {{"A", "x\ny"}};
    std::string body =
        "export A='x'\"$sshard_nl\"'y'; sshard_w=''; sshard_s='/bin/sh'; sshard_c='echo '\\''a'\\'''\"$sshard_nl\"'b'";
    EXPECT_EQ(worker_request(l), "Q" + std::to_string(body.size()) + "\n" + body + "\n");
    EXPECT_EQ(env_line(l), "export A='x'\"$sshard_nl\"'y'\n");
}

} // namespace
} // namespace sshard::transport
