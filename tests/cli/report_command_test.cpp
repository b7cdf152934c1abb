// End-to-end: `sshard report` prints exactly the expected text and JSON for a known journal.
#include <cstdlib>
#include <gtest/gtest.h>

#include "tests/cli/binary.hpp"

namespace sshard::test {
namespace {

TEST(ReportCommand, WholeTextAndJson) {
    setenv("TZ", "UTC", 1); // the report shows local times
    std::string run = data_path("report_run");
    Result text = run_sshard({"report", run});
    EXPECT_EQ(text.exit_code, 0) << text.err;
    EXPECT_EQ(text.out, read_file(run + "/expected.txt"));
    Result json = run_sshard({"report", run, "--format", "json"});
    EXPECT_EQ(json.exit_code, 0) << json.err;
    EXPECT_EQ(json.out, read_file(run + "/expected.json"));
}

TEST(ReportCommand, NotARunDirectory) {
    Result r = run_sshard({"report", data_path("report_run/out")});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "sshard: error: '" + data_path("report_run/out") + "' is not a run directory (no journal.jsonl in it)\n");
}

} // namespace
} // namespace sshard::test
