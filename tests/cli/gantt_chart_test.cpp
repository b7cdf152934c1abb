// The Gantt chart of the HTML report: one lane per slot a host needed, failures marked, user text escaped,
// nothing fetched from elsewhere, and huge runs cut to the earliest attempts.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

#include "cli/gantt_chart.hpp"

namespace sshard::cli {
namespace {

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

std::string render(const std::string& run_dir) {
    std::ostringstream out;
    print_gantt(out, core::build_report(run_dir), run_dir);
    return out.str();
}

TEST(GanttChart, OfTheReportRun) {
    std::string page = render(std::string(SSHARD_TEST_DATA) + "/report_run");
    EXPECT_EQ(count(page, "<rect class=\"attempt"), 4u);
    EXPECT_EQ(count(page, "class=\"host-label\""), 2u);
    // a ran [0,4) and [0,2); b ran [0,3) and [2,6): both overlap, so two lanes each.
    EXPECT_EQ(count(page, "class=\"lane\" data-host=\"a\""), 2u);
    EXPECT_EQ(count(page, "class=\"lane\" data-host=\"b\""), 2u);
    // j[1] attempt 1 was retried and j[2] failed.
    EXPECT_EQ(count(page, "class=\"attempt failed\""), 2u);
    EXPECT_NE(page.find("<title>j[2] attempt 1 on b: 3.000 s, failed (exit 2)</title>"), std::string::npos);
    EXPECT_EQ(page.find("http"), std::string::npos) << "the chart must fetch nothing";
    EXPECT_EQ(page.find("<script"), std::string::npos);
}

TEST(GanttChart, SequentialAttemptsShareOneLane) {
    char name[] = "/tmp/sshard_html_XXXXXX";
    std::string dir = mkdtemp(name);
    std::ofstream(dir + "/journal.jsonl")
        << R"({"event":"run_start","time":0,"run":"r","name":"n","hosts":[{"name":"a","slots":4}],"jobs":[{"name":"j","shards":3}]})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":0,"attempt":1,"host":"a","start":0,"end":2,"verdict":"succeeded"})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":1,"attempt":1,"host":"a","start":2,"end":3,"verdict":"succeeded"})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":2,"attempt":1,"host":"a","start":3,"end":5,"verdict":"succeeded"})"
           "\n";
    std::string page = render(dir);
    EXPECT_EQ(count(page, "<rect class=\"attempt\""), 3u);
    EXPECT_EQ(count(page, "class=\"lane\" data-host=\"a\""), 1u) << "a host shows no more lanes than it needed";
    std::filesystem::remove_all(dir);
}

TEST(GanttChart, StagingAndCollectingAreBarsOfTheirOwnInTheAttemptsLane) {
    char name[] = "/tmp/sshard_html_XXXXXX";
    std::string dir = mkdtemp(name);
    std::ofstream(dir + "/journal.jsonl")
        << R"({"event":"run_start","time":0,"run":"r","name":"n","hosts":[{"name":"a","slots":4}],"jobs":[{"name":"j","shards":2}]})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":0,"attempt":1,"host":"a","start":2,"end":3,"verdict":"succeeded","transfer":{"sent_bytes":4096,"sent_files":2,"send_s":2,"received_bytes":10,"received_files":1,"receive_s":0.5}})"
           "\n"
        << R"({"event":"attempt_end","job":"j","index":1,"attempt":1,"host":"a","start":3.5,"end":4,"verdict":"succeeded"})"
           "\n";
    std::string page = render(dir);
    EXPECT_EQ(count(page, "<rect class=\"staging\""), 1u);
    EXPECT_EQ(count(page, "<rect class=\"collecting\""), 1u);
    EXPECT_NE(page.find("<title>staging: 2 files, 4096 bytes in 2.000 s</title>"), std::string::npos);
    EXPECT_NE(page.find("<title>collecting: 1 file, 10 bytes in 0.500 s</title>"), std::string::npos);
    EXPECT_EQ(count(page, "class=\"lane\" data-host=\"a\""), 1u) << "j[1] starts once j[0] has collected";
    std::filesystem::remove_all(dir);
}

TEST(GanttChart, EscapesUserText) {
    char name[] = "/tmp/sshard_html_XXXXXX";
    std::string dir = mkdtemp(name);
    std::ofstream(dir + "/journal.jsonl")
        << R"({"event":"run_start","time":1000.0,"run":"r1","name":"demo","hosts":[{"name":"a","slots":1}],"jobs":[{"name":"<b>&","shards":1}]})"
           "\n"
        << R"({"event":"attempt_end","job":"<b>&","index":0,"attempt":1,"host":"a","start":1000.0,"end":1001.0,"verdict":"failed","reason":"it said \"no\""})"
           "\n";
    std::string page = render(dir);
    EXPECT_EQ(page.find("<b>"), std::string::npos);
    EXPECT_NE(page.find("&lt;b&gt;&amp;[0] attempt 1 on a: 1.000 s, failed (it said &quot;no&quot;)"),
              std::string::npos);
    EXPECT_EQ(count(page, "class=\"attempt failed\""), 1u);
    std::filesystem::remove_all(dir);
}

TEST(GanttChart, HugeRunsDrawOnlyTheEarliestAttempts) {
    char name[] = "/tmp/sshard_html_XXXXXX";
    std::string dir = mkdtemp(name);
    std::ofstream journal(dir + "/journal.jsonl");
    journal << R"({"event":"run_start","time":0,"run":"r","name":"n","hosts":[{"name":"a","slots":1}],"jobs":[]})"
            << "\n";
    // Written latest first, so the earliest attempts come last in the journal.
    const std::size_t total = k_max_drawn + 5;
    for (std::size_t i = total; i-- > 0;) {
        journal << R"({"event":"attempt_end","job":"j","attempt":1,"host":"a","verdict":"succeeded","index":)" << i
                << R"(,"start":)" << i << R"(,"end":)" << i + 1 << "}\n";
    }
    journal.close();
    std::string page = render(dir);
    EXPECT_EQ(count(page, "<rect class=\"attempt\""), k_max_drawn);
    EXPECT_EQ(count(page, "class=\"lane\" data-host=\"a\""), 1u);
    EXPECT_NE(page.find("j[0] attempt 1"), std::string::npos);
    EXPECT_EQ(page.find("j[" + std::to_string(k_max_drawn) + "] attempt 1"), std::string::npos);
    EXPECT_NE(page.find("5 more are left out"), std::string::npos);
    std::filesystem::remove_all(dir);
}

} // namespace
} // namespace sshard::cli
