// The HTML report: one self-contained page, the chart (tests/cli/gantt_chart_test.cpp) then the text report's
// tables, user text escaped and nothing fetched from elsewhere.
#include <gtest/gtest.h>
#include <sstream>

#include "cli/report_html.hpp"

namespace sshard::cli {
namespace {

TEST(ReportHtml, PageOfTheReportRun) {
    std::string run_dir = std::string(SSHARD_TEST_DATA) + "/report_run";
    std::ostringstream out;
    print_report_html(out, core::build_report(run_dir), run_dir);
    std::string page = out.str();
    EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(page.find("<meta charset=\"utf-8\">"), std::string::npos);
    EXPECT_NE(page.find("<svg class=\"gantt\""), std::string::npos);
    EXPECT_NE(page.find("<h2>Jobs</h2>\n<table>\n<tr><th>job</th><th>shards</th>"), std::string::npos);
    EXPECT_NE(page.find("<tr><td>a</td><td>2</td><td>2</td><td>1</td><td>0</td><td>6s</td>"), std::string::npos);
    EXPECT_EQ(page.find("http"), std::string::npos) << "the page must fetch nothing";
    EXPECT_EQ(page.find("<script"), std::string::npos);
    EXPECT_NE(page.find("needs &#39;j&#39;, which did not fully succeed"), std::string::npos);
}

} // namespace
} // namespace sshard::cli
