#include "transport/slurm_batch.hpp"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <sstream>

#include "transport/remote_command.hpp"
#include "transport/slot_worker.hpp"

namespace sshard::transport {
namespace {

TEST(SlurmBatch, ParsesSqueueRowsAndSkipsOthers) {
    auto rows = parse_queue("12 0 RUNNING node1\n12 1 PENDING \n12 2 PENDING\nsqueue: error: x\n13 x RUNNING n\n");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].job, 12u);
    EXPECT_EQ(rows[0].task, 0u);
    EXPECT_EQ(rows[0].state, "RUNNING");
    EXPECT_EQ(rows[0].node, "node1");
    EXPECT_EQ(rows[1].node, "");
    EXPECT_EQ(rows[2].task, 2u);
}

// The script is the rest of the line: a run directory may hold '|' and spaces.
TEST(SlurmBatch, ParsesQueuedScriptsAndSkipsOthers) {
    auto rows = parse_queued_scripts("12|0|/runs/a b/slurm/1/array.sh\n"
                                     "12|1|/runs/a|b/slurm/1/array.sh\n"
                                     "13|N/A|/home/u/job.sh\n"
                                     "14|[0-9]|/x/array.sh\n"
                                     "15|2|\n"
                                     "x|2|/x\n"
                                     "16 2 /x\n"
                                     "squeue: error: slurm_load_jobs error\n");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].job, 12u);
    EXPECT_EQ(rows[0].task, 0u);
    EXPECT_EQ(rows[0].script, "/runs/a b/slurm/1/array.sh");
    EXPECT_EQ(rows[1].task, 1u);
    EXPECT_EQ(rows[1].script, "/runs/a|b/slurm/1/array.sh");
}

TEST(SlurmBatch, ParsesNodeCpus) {
    auto nodes = parse_node_cpus("node1 8\nnode2 128\nsinfo: error\nnode3 0\nnode4 x\n");
    EXPECT_EQ(nodes, (std::map<std::string, int>{{"node1", 8}, {"node2", 128}}));
}

TEST(SlurmBatch, StatesAndRefusals) {
    EXPECT_TRUE(is_final_state("COMPLETED"));
    EXPECT_TRUE(is_final_state("NODE_FAIL"));
    EXPECT_FALSE(is_final_state("COMPLETING"));
    EXPECT_FALSE(is_final_state("PENDING"));
    EXPECT_TRUE(is_machine_failure("PREEMPTED"));
    EXPECT_FALSE(is_machine_failure("FAILED"));
    EXPECT_TRUE(is_temporary_refusal("sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying"));
    EXPECT_FALSE(is_temporary_refusal("sbatch: error: invalid partition specified: nope"));
}

TEST(SlurmBatch, TaskHandlesRoundTripAndRefuseDamage) {
    TaskHandle handle{41, 7, "SSHARD-abc", "/runs/r 1/slurm/3"};
    EXPECT_EQ(format_task_handle(handle), "41_7 SSHARD-abc /runs/r 1/slurm/3");
    auto back = parse_task_handle(format_task_handle(handle));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->job, 41u);
    EXPECT_EQ(back->index, 7u);
    EXPECT_EQ(back->marker, "SSHARD-abc");
    EXPECT_EQ(back->dir, "/runs/r 1/slurm/3");
    for (const char* bad : {"", "41_7", "41_7 m", "41 m /d", "0_1 m /d", "41_x m /d", "41_7 m relative", "41_7  /d"}) {
        EXPECT_FALSE(parse_task_handle(bad)) << bad;
    }
}

TEST(SlurmBatch, TimeIsWholeMinutesRoundedUp) {
    EXPECT_EQ(slurm_minutes(std::chrono::seconds(1)), "1");
    EXPECT_EQ(slurm_minutes(std::chrono::minutes(30)), "30");
    EXPECT_EQ(slurm_minutes(std::chrono::seconds(61)), "2");
}

TEST(SlurmBatch, TaskStatusAndOutcome) {
    auto status = parse_task_status("143 node7\n");
    ASSERT_TRUE(status);
    EXPECT_EQ(status->status, 143);
    EXPECT_EQ(status->node, "node7");
    EXPECT_FALSE(parse_task_status(""));
    EXPECT_FALSE(parse_task_status("143 node7")); // no newline: not whole yet
    EXPECT_FALSE(parse_task_status("256 n\n"));
    EXPECT_FALSE(parse_task_status("x n\n"));
    EXPECT_FALSE(parse_task_status("0\n"));
    EXPECT_FALSE(parse_task_status("0 n 1 2\n"));
    // With the wrapper's times, the command itself exited 143; without them, the wrapper died of TERM.
    EXPECT_EQ(task_outcome(143, 0.5, 0.1).kind, core::Outcome::Kind::exited);
    EXPECT_EQ(task_outcome(143, 0.5, 0.1).exit_code, 143);
    auto killed = task_outcome(143, std::nullopt, std::nullopt);
    EXPECT_EQ(killed.kind, core::Outcome::Kind::signaled);
    EXPECT_EQ(killed.signal, SIGTERM);
    EXPECT_EQ(task_outcome(200, std::nullopt, std::nullopt).exit_code, 200);
}

std::string read_all(const std::filesystem::path& path) {
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// The array script, run by /bin/sh as Slurm would, in a directory whose name needs quoting, runs the shard's
// wrapper as the transport writes it: env from I.env, the command's stderr and the wrapper's times on stderr.
TEST(SlurmBatch, ArrayScriptRunsTheTaskAndWritesItsStatus) {
    auto dir = std::filesystem::temp_directory_path() / "sshard slurm $batch";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    core::Launch launch;
    launch.command = "echo \"$X\" >&2; exit 7";
    launch.env = {{"X", "it's $(hi)"}};
    std::string marker = make_marker();
    std::ofstream(dir / "3.sh") << wrapper_script(launch, marker) << "\n";
    std::ofstream(dir / "3.env") << env_line(launch);
    std::ofstream(dir / "array.sh") << array_script(dir.string());
    std::string command = "cd / && SLURM_ARRAY_TASK_ID=3 SLURMD_NODENAME=n5 /bin/sh '" + (dir / "array.sh").string() +
                          "' >/dev/null 2>'" + (dir / "3.err").string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
    auto written = parse_task_status(read_all(dir / "3.rc"));
    ASSERT_TRUE(written) << read_all(dir / "3.rc");
    EXPECT_EQ(written->status, 7);
    EXPECT_EQ(written->node, "n5");
    StderrFilter filter(marker);
    std::string err = filter.feed(read_all(dir / "3.err"));
    err += filter.finish();
    EXPECT_EQ(err, "it's $(hi)\n");
    EXPECT_TRUE(filter.cpu_user_s());
    EXPECT_TRUE(std::filesystem::is_regular_file(dir / "3.st"));
    EXPECT_LE(std::filesystem::last_write_time(dir / "3.st"), std::filesystem::last_write_time(dir / "3.rc"));
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace sshard::transport
