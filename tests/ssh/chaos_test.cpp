// Chaos over the loopback cluster: a few thousand short shards run while the cluster's hosts are killed,
// stopped and brought back at random, and the runner itself is SIGKILLed and resumed again and again. Then
// every shard must be accounted for exactly once in the journal, as succeeded or as failed with a reason, no
// shard recorded as finished may have started again, and resuming must finish the rest.
//
// The faults follow a seeded random sequence: a fixed seed by default, so that CI runs the same faults each
// time; SSHARD_CHAOS_SEED picks another ("random" for a fresh one; the seed is printed, so a failure can be
// replayed). SSHARD_CHAOS_SHARDS makes a longer run, SSHARD_CHAOS_KILLS kills the runner more often. A run's
// faults are printed as "chaos: ..." lines.
#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sys/wait.h>
#include <thread>

#include "tests/cli/binary.hpp"
#include "tests/ssh/ssh_fixture.hpp"

namespace sshard::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int k_hosts = 4;

unsigned long env_number(const char* name, unsigned long fallback) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? std::stoul(value) : fallback;
}

constexpr unsigned long k_ci_seed = 20261130;

unsigned long chaos_seed() {
    const char* value = std::getenv("SSHARD_CHAOS_SEED");
    if (value != nullptr && std::string(value) == "random") {
        return std::random_device{}();
    }
    return env_number("SSHARD_CHAOS_SEED", k_ci_seed);
}

// Whether a spawned sshard has exited, leaving it for wait_sshard to collect.
bool exited(const Spawned& running) {
    siginfo_t info{};
    return waitid(P_PID, static_cast<id_t>(running.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == running.pid;
}

// Breaks the cluster's hosts at random, keeping at least one host up, and heals them all when done.
class Chaos {
public:
    explicit Chaos(unsigned long seed) : m_rng(seed) { m_state.fill(State::up); }
    ~Chaos() { heal(); }

    // Continues the stopped hosts whose time has come, then strikes a random host: a dead one is started
    // again, a running one killed or stopped. A stop lasts 0.5 to 3 s, or one time in four 12 to 15 s: long
    // enough for sshard to find the host unresponsive and give its shards to others.
    void strike() {
        for (int host = 1; host <= k_hosts; ++host) {
            if (m_state[host - 1] == State::paused && Clock::now() >= m_resume_at[host - 1]) {
                act("resume-host", host, m_state[host - 1], State::up, resumes);
            }
        }
        int host = std::uniform_int_distribution<int>(1, k_hosts)(m_rng);
        State& state = m_state[host - 1];
        if (state == State::dead) {
            act("start-host", host, state, State::up, restarts);
        } else if (state == State::up && up_count() > 1) {
            if (std::bernoulli_distribution(0.5)(m_rng)) {
                act("kill-host", host, state, State::dead, kills);
            } else {
                bool long_stop = std::bernoulli_distribution(0.25)(m_rng);
                m_resume_at[host - 1] = Clock::now() + (long_stop ? between(12'000, 15'000) : between(500, 3000));
                act("pause-host", host, state, State::paused, pauses);
            }
        }
    }

    // Faults come 200 ms to 1.2 s apart.
    Clock::duration pause() { return std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 1200)(m_rng)); }

    // A time in [low, high) milliseconds.
    Clock::duration between(int low, int high) {
        return std::chrono::milliseconds(std::uniform_int_distribution<int>(low, high - 1)(m_rng));
    }

    void heal() {
        for (int host = 1; host <= k_hosts; ++host) {
            State& state = m_state[host - 1];
            if (state == State::dead) {
                act("start-host", host, state, State::up, restarts);
            } else if (state == State::paused) {
                act("resume-host", host, state, State::up, resumes);
            }
        }
    }

    int kills = 0;
    int pauses = 0;
    int restarts = 0;
    int resumes = 0;

private:
    enum class State { up, dead, paused };

    int up_count() const { return static_cast<int>(std::count(m_state.begin(), m_state.end(), State::up)); }

    void act(const std::string& verb, int host, State& state, State next, int& counter) {
        EXPECT_TRUE(cluster(verb, host)) << verb << " " << host;
        state = next;
        ++counter;
        std::printf("chaos: %s node%d\n", verb.c_str(), host);
    }

    std::mt19937_64 m_rng;
    std::array<State, k_hosts> m_state{};
    std::array<Clock::time_point, k_hosts> m_resume_at{};
};

// What one shard's records in a journal add up to.
struct ShardRecord {
    int succeeded = 0;
    int failed = 0;    // failed for good
    bool lost = false; // failed because its hosts kept dying under it
};

struct JournalTally {
    std::map<std::pair<std::string, int>, ShardRecord> shards;
    // Attempts that started after their shard was recorded as succeeded, or as failed.
    int started_after_success = 0;
    int started_after_failure = 0;
    // Of the last run segment: the run_end event (null when the run did not end) and shards not run, by job.
    nlohmann::json last_end;
    std::map<std::string, int> not_run;
    int run_starts = 0;
    int host_downs = 0;
};

JournalTally tally(const std::string& journal_path) {
    JournalTally t;
    std::ifstream in(journal_path);
    for (std::string line; std::getline(in, line);) {
        nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
        if (event.is_discarded()) {
            continue; // a line cut short by the runner's death
        }
        if (event["event"] == "run_start") {
            ++t.run_starts;
            t.last_end = nullptr;
            t.not_run.clear();
        } else if (event["event"] == "host_down") {
            ++t.host_downs;
        } else if (event["event"] == "run_end") {
            t.last_end = event;
        } else if (event["event"] == "shards_not_run") {
            t.not_run[event["job"]] += event["count"].get<int>();
        } else if (event["event"] == "attempt_start") {
            const ShardRecord& shard = t.shards[{event["job"], event["index"].get<int>()}];
            t.started_after_success += shard.succeeded > 0 ? 1 : 0;
            t.started_after_failure += shard.failed > 0 ? 1 : 0;
        } else if (event["event"] == "attempt_end") {
            ShardRecord& shard = t.shards[{event["job"], event["index"].get<int>()}];
            if (event["verdict"] == "succeeded") {
                ++shard.succeeded;
            } else if (event["verdict"] == "failed") {
                EXPECT_FALSE(event.value("reason", "").empty()) << line;
                ++shard.failed;
                shard.lost = event.value("reason", "").starts_with("lost its host");
            }
        }
    }
    return t;
}

// The shards, run as the test user, look for the fix in the fixture's directory.
class ChaosRun : public SshFixture {
protected:
    // Runs sshard with chaos until it exits; with `kill_after`, kills it with SIGKILL then if it still runs.
    Result run_under_chaos(Chaos& chaos, std::vector<std::string> args,
                           std::optional<Clock::duration> kill_after = std::nullopt) {
        args.insert(args.end(), {"--ssh-config", k_cluster + "/ssh_config", "--down-limit", "1m"});
        Spawned running = spawn_sshard(args);
        auto start = Clock::now();
        while (!exited(running)) {
            if (kill_after && Clock::now() - start >= *kill_after) {
                std::printf("chaos: kill -KILL sshard\n");
                ::kill(running.pid, SIGKILL);
                ++m_runner_kills;
                break;
            }
            if (Clock::now() - start > 5min) {
                ::kill(running.pid, SIGKILL);
                ADD_FAILURE() << "the run did not end within 5 minutes";
                break;
            }
            std::this_thread::sleep_for(chaos.pause());
            chaos.strike();
        }
        return wait_sshard(running);
    }

    int m_runner_kills = 0;
};

TEST_F(ChaosRun, EveryShardIsAccountedForOnceAndResumeFinishesTheRest) {
    const unsigned long seed = chaos_seed();
    const unsigned long shards = env_number("SSHARD_CHAOS_SHARDS", 2000);
    const unsigned long runner_kills = env_number("SSHARD_CHAOS_KILLS", 2);
    const int dependents = 100;
    std::printf("chaos: seed %lu, %lu shards, %lu runner kills (SSHARD_CHAOS_SEED=%lu replays this run)\n", seed,
                shards, runner_kills, seed);
    Chaos chaos(seed);

    // One shard in 101 fails until the fix exists; one in 53 fails on its first attempt only.
    const std::string fix = m_dir + "/fixed";
    std::string spec = m_dir + "/chaos.yaml";
    std::ofstream(spec) << "version: 1\nname: chaos\nhosts: [\"4/node[1-4]\"]\njobs:\n"
                        << "  - name: work\n"
                        << "    command: 'sleep 0.0$(({index} % 7)); [ $(({index} % 101)) -ne 7 ] || [ -e " << fix
                        << " ]; r1=$?; [ {attempt} -gt 1 ] || [ $(({index} % 53)) -ne 3 ]; r2=$?; "
                        << "[ $r1 -eq 0 ] && [ $r2 -eq 0 ] && echo {index}'\n"
                        << "    shards: {count: " << shards << "}\n"
                        << "    retries: 2\n    backoff: {initial: 100ms, max: 1s}\n"
                        << "  - {name: sum, command: 'echo {index}', shards: {count: " << dependents
                        << "}, needs: work}\n";
    const std::string run_dir = m_dir + "/run";
    const std::string journal = run_dir + "/journal.jsonl";

    // The first run and each resume but the last die abruptly a few seconds in; the last resume runs to its
    // end, all under chaos. A run may end before its kill comes: then the next resume has nothing to do.
    std::vector<std::string> args = {"run", spec, "--run-dir", run_dir};
    for (unsigned long kill = 0; kill < runner_kills; ++kill) {
        Result killed = run_under_chaos(chaos, args, chaos.between(1000, 3000));
        ASSERT_TRUE(killed.exit_code == 128 + SIGKILL || killed.exit_code == 1) << killed.out << killed.err;
        JournalTally so_far = tally(journal);
        ASSERT_GE(so_far.run_starts, 1) << "a run killed after it started left no run_start";
        for (const auto& [shard, record] : so_far.shards) {
            EXPECT_LE(record.succeeded + record.failed, 1) << shard.first << "[" << shard.second << "]";
        }
        EXPECT_EQ(so_far.started_after_success + so_far.started_after_failure, 0)
            << "a shard recorded as finished started again";
        args = {"run", "--resume", run_dir};
    }

    Result resumed = run_under_chaos(chaos, args);
    chaos.heal();
    EXPECT_EQ(resumed.exit_code, 1) << "the unfixed shards fail\n" << resumed.out << resumed.err;
    JournalTally after = tally(journal);
    EXPECT_EQ(after.started_after_success + after.started_after_failure, 0)
        << "a shard recorded as finished started again";
    ASSERT_FALSE(after.last_end.is_null()) << "the resumed run ended without a run_end";
    EXPECT_FALSE(after.last_end["interrupted"].get<bool>());
    std::map<std::string, int> outcomes;
    for (const auto& [shard, record] : after.shards) {
        EXPECT_LE(record.succeeded + record.failed, 1) << shard.first << "[" << shard.second << "] ran twice";
        if (record.succeeded + record.failed == 1) {
            ++outcomes[shard.first];
        }
        // Only the unfixed shards fail, or, rarely, one whose host died under it again and again.
        const bool should_fail = shard.first == "work" && shard.second % 101 == 7;
        EXPECT_EQ(record.failed, should_fail || record.lost ? 1 : 0) << shard.first << "[" << shard.second << "]";
    }
    // Every shard has exactly one outcome, or was given up on as a whole (the dependents of failed work).
    EXPECT_EQ(outcomes["work"], static_cast<int>(shards));
    EXPECT_EQ(outcomes["sum"] + after.not_run["sum"], dependents);
    EXPECT_EQ(after.not_run["sum"], dependents);
    for (const auto& job : after.last_end["jobs"]) {
        EXPECT_EQ(job["unfinished"].get<int>(), 0) << job;
        EXPECT_EQ(job["succeeded"].get<int>() + job["failed"].get<int>() + job["skipped"].get<int>(),
                  job["total"].get<int>())
            << job;
    }

    // With the cause fixed, resuming with --retry-failed finishes the rest: each shard then succeeded once.
    std::ofstream(fix) << "fixed\n";
    fs::permissions(fix, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    Result finished =
        run_sshard({"run", "--resume", run_dir, "--retry-failed", "--ssh-config", k_cluster + "/ssh_config"});
    EXPECT_EQ(finished.exit_code, 0) << finished.out << finished.err;
    JournalTally last = tally(journal);
    EXPECT_EQ(last.started_after_success, 0) << "a shard recorded as succeeded started again";
    std::map<std::string, int> succeeded;
    for (const auto& [shard, record] : last.shards) {
        EXPECT_LE(record.succeeded, 1) << shard.first << "[" << shard.second << "] succeeded twice";
        succeeded[shard.first] += record.succeeded;
    }
    EXPECT_EQ(succeeded["work"], static_cast<int>(shards));
    EXPECT_EQ(succeeded["sum"], dependents);

    std::printf("chaos: survived %d host kills, %d host restarts, %d stops, %d continues, %d runner kills over "
                "%d runs; the journal records %d hosts going down\n",
                chaos.kills, chaos.restarts, chaos.pauses, chaos.resumes, m_runner_kills, last.run_starts,
                last.host_downs);
}

} // namespace
} // namespace sshard::test
