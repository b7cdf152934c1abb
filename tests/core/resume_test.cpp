// The journal as resume reads it: what JournalRecorder writes, read_recorded_run reads back.
#include "core/resume.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/journal_recorder.hpp"
#include "core/spec_loader.hpp"

namespace sshard::core {
namespace {

class Resume : public testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/sshard_resume_XXXXXX";
        m_dir = mkdtemp(name);
        m_path = m_dir + "/journal.jsonl";
    }
    void TearDown() override { std::filesystem::remove_all(m_dir); }

    std::string m_dir;
    std::string m_path;
};

TEST_F(Resume, ReadsBackWhatTheRecorderWrote) {
    Spec spec = load_spec_text("/specs/jobs.yaml",
                               "version: 1\nhosts: [a]\njobs: [{name: j, command: 'x {index}', shards: {count: 3}}]\n");
    Plan plan = make_plan(spec);
    {
        JournalWriter journal(m_path);
        JournalRecorder recorder(journal, plan);
        recorder.run_started({"run-1", "/specs/jobs.yaml", false, 0, {}}, std::chrono::system_clock::now());
        HostState up;
        up.up = true;
        recorder.host_changed(0, up);
        for (int i = 0; i < 3; ++i) {
            Attempt attempt{static_cast<std::uint64_t>(i + 1),
                            &spec.jobs[0],
                            static_cast<std::uint64_t>(i),
                            1,
                            0,
                            "x " + std::to_string(i),
                            "x " + std::to_string(i),
                            {},
                            {}};
            recorder.attempt_started(attempt);
            AttemptEnd end;
            end.verdict = i == 0 ? Verdict::succeeded : i == 1 ? Verdict::failed : Verdict::retry;
            recorder.attempt_finished(attempt, end);
        }
        journal.sync();
    }
    RecordedRun run = read_recorded_run(m_path);
    EXPECT_TRUE(run.started);
    EXPECT_EQ(run.run_id, "run-1");
    EXPECT_EQ(run.spec_path, "/specs/jobs.yaml");
    EXPECT_EQ(run.attempts, 3u);
    EXPECT_EQ(run.last_attempt_id, 3u);
    EXPECT_EQ(run.history.find("j", 0, {}, "x 0"), true);
    EXPECT_EQ(run.history.find("j", 1, {}, "x 1"), false);
    EXPECT_EQ(run.history.find("j", 2, {}, "x 2"), std::nullopt) << "a shard waiting for its retry is not done";
    EXPECT_EQ(run.history.attempts("j", 2), 1);
}

// A submitted attempt that never ended is recalled with its handle; one that ended, or whose shard ended in a
// later attempt, is not.
TEST_F(Resume, RecallsSubmittedAttemptsThatDidNotEnd) {
    std::ofstream(m_path)
        << R"({"event":"run_start","run":"r","spec":"s"})"
        << "\n"
        << R"({"event":"attempt_submitted","id":1,"job":"j","index":0,"attempt":1,"host":"hpc","handle":"5_0 M /d"})"
        << "\n"
        << R"({"event":"attempt_submitted","id":2,"job":"j","index":1,"attempt":1,"host":"hpc","handle":"5_1 M /d"})"
        << "\n"
        << R"({"event":"attempt_end","id":2,"job":"j","index":1,"attempt":1,"host":"hpc","verdict":"retry"})"
        << "\n"
        << R"({"event":"attempt_submitted","id":3,"job":"j","index":1,"attempt":2,"host":"hpc","handle":"6_0 M /d"})"
        << "\n";
    RecordedRun run = read_recorded_run(m_path);
    const SubmittedAttempt* first = run.history.submitted("j", 0);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->handle, "5_0 M /d");
    EXPECT_EQ(first->host, "hpc");
    EXPECT_EQ(first->attempt, 1);
    const SubmittedAttempt* second = run.history.submitted("j", 1);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(second->handle, "6_0 M /d") << "the retry's task, not the ended one";
    EXPECT_EQ(second->attempt, 2);
    EXPECT_EQ(run.history.submitted("j", 2), nullptr);
    auto handles = run.history.submitted_handles();
    std::sort(handles.begin(), handles.end());
    EXPECT_EQ(handles, (std::vector<std::string>{"5_0 M /d", "6_0 M /d"})) << "every task to follow, no ended one";
}

TEST_F(Resume, JournalMustStartWithRunStart) {
    std::ofstream(m_path) << R"({"event":"host_down","host":"a"})"
                          << "\n";
    try {
        read_recorded_run(m_path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "journal '" + m_path + "' line 1: expected a run_start event first");
    }
}

TEST_F(Resume, EmptyJournalRecordsNoStart) {
    std::ofstream(m_path).flush();
    RecordedRun run = read_recorded_run(m_path);
    EXPECT_FALSE(run.started);
    EXPECT_TRUE(run.history.empty());
}

TEST_F(Resume, BadEventIsReportedWithItsLine) {
    std::ofstream(m_path) << R"({"event":"run_start","run":"r","spec":"s"})"
                          << "\n"
                          << R"({"event":"attempt_end","verdict":"succeeded"})"
                          << "\n";
    try {
        read_recorded_run(m_path);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "journal '" + m_path + "' line 2 holds a bad attempt_end event: key 'job' not found");
    }
}

} // namespace
} // namespace sshard::core
