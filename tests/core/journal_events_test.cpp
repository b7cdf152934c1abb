// The journal's schema: every event survives encoding and decoding, and damage is named.
#include "core/journal_events.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace sshard::core {
namespace {

template <class Event> Event round_trip(const Event& event) {
    JournalEvent decoded = decode_event(encode_event(event));
    EXPECT_TRUE(std::holds_alternative<Event>(decoded)) << encode_event(event);
    return std::get<Event>(decoded);
}

std::string decode_error(std::string_view line) {
    try {
        decode_event(line);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(JournalEvents, AttemptEndRoundTripsEveryField) {
    AttemptEndEvent e;
    e.time = 12.5;
    e.id = 7;
    e.job = "j";
    e.index = 3;
    e.attempt = 2;
    e.host = "h";
    e.node = "n7";
    e.node_cpus = 64;
    e.max_rss = 78163968;
    e.start = 10;
    e.end = 12.5;
    e.outcome = OutcomeKind::timed_out;
    e.signal = 15;
    e.verdict = Verdict::retry;
    e.reason = "timed out after 2s";
    e.command = "run b 2";
    e.key = "run b {attempt}";
    e.inputs = {{"a", "x"}, {"b", "y"}};
    e.cpu_user_s = 1.5;
    e.cpu_sys_s = 0.25;
    e.output_error = "cannot write 'out/j/3.2.out': No space left on device";
    AttemptEndEvent back = round_trip(e);
    EXPECT_EQ(encode_event(back), encode_event(e));
    EXPECT_EQ(back.inputs, e.inputs);
    EXPECT_EQ(back.output_error, e.output_error);
    EXPECT_EQ(back.node, "n7");
    EXPECT_EQ(back.node_cpus, 64);
    EXPECT_EQ(back.max_rss, 78163968u);
    EXPECT_EQ(back.exit_code, std::nullopt);
    EXPECT_EQ(back.verdict, Verdict::retry);
    EXPECT_EQ(back.outcome, OutcomeKind::timed_out);
}

// Journals written before max_rss, and a max_rss of 0, read as memory unknown: the report shows n/a, not 0.
TEST(JournalEvents, AttemptEndWithoutMemoryHasNone) {
    for (const char* line : {R"({"event":"attempt_end","job":"j","index":0,"host":"h","verdict":"failed"})",
                             R"({"event":"attempt_end","job":"j","index":0,"host":"h","verdict":"failed","max_rss":0})",
                             R"({"event":"attempt_end","job":"j","index":0,"host":"h","verdict":"failed",)"
                             R"("max_rss":null})"}) {
        auto event = decode_event(line);
        ASSERT_TRUE(std::holds_alternative<AttemptEndEvent>(event)) << line;
        EXPECT_FALSE(std::get<AttemptEndEvent>(event).max_rss) << line;
    }
    AttemptEndEvent e;
    EXPECT_EQ(encode_event(e).find("max_rss"), std::string::npos) << "written only when measured";
}

TEST(JournalEvents, OtherEventsRoundTrip) {
    RunStartEvent start{1, "r-1", "n", "/s.yaml", "00ff", true, {{"a", 4, true}}, {{"j", 10, 2}}, 3, {}};
    EXPECT_EQ(encode_event(round_trip(start)), encode_event(start));
    EXPECT_EQ(encode_event(start).find("host_flags"), std::string::npos) << "written only when given";
    start.host_flags = {"2/a,b", "/h.txt", true};
    EXPECT_EQ(encode_event(round_trip(start)), encode_event(start));
    EXPECT_EQ(round_trip(start).host_flags.file, "/h.txt");
    start.host_flags = {};
    EXPECT_EQ(round_trip(start).max_parallel, 3u);
    start.max_parallel.reset();
    EXPECT_EQ(encode_event(start).find("max_parallel"), std::string::npos) << "written only when given";
    EXPECT_EQ(round_trip(start).max_parallel, std::nullopt);
    ShardsNotRunEvent not_run{2, "k", 5, true, "why", {{0, 2}, {4, 7}}};
    EXPECT_EQ(encode_event(round_trip(not_run)), encode_event(not_run));
    RunEndEvent end{3, 1.5, true, false, {JobSummary{"j", 10, 4, 1, 2, 3, 1, 2, 1.5}}};
    EXPECT_EQ(encode_event(round_trip(end)), encode_event(end));
    HostUpEvent up{4, "a", 0.5, std::nullopt};
    EXPECT_EQ(encode_event(round_trip(up)), encode_event(up));
    AttemptStartEvent attempt{5, 9, "j", 1, 3, "a"};
    EXPECT_EQ(encode_event(round_trip(attempt)), encode_event(attempt));
    AttemptSubmittedEvent submitted{5, 9, "j", 1, 3, "a", "41_7 M /d"};
    EXPECT_EQ(encode_event(round_trip(submitted)), encode_event(submitted));
    EXPECT_EQ(round_trip(submitted).handle, "41_7 M /d");
    HostHoldEvent held{6, "a", true, "load", "CPU 95% busy, over max_load 90%"};
    EXPECT_EQ(encode_event(round_trip(held)), encode_event(held));
    HostHoldEvent released{7, "a", false, "load", ""};
    EXPECT_EQ(encode_event(round_trip(released)), encode_event(released));
    EXPECT_EQ(encode_event(released), R"({"event":"host_released","host":"a","kind":"load","time":7.0})");
}

TEST(JournalEvents, BytesThatAreNotUtf8BecomeReplacementCharacters) {
    AttemptEndEvent e;
    e.job = "j";
    e.host = "h";
    e.command = "cat caf\xe9";
    EXPECT_EQ(round_trip(e).command, "cat caf\xef\xbf\xbd");
    EXPECT_EQ(journal_text("cat caf\xe9"), "cat caf\xef\xbf\xbd");
    EXPECT_EQ(journal_text("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(JournalEvents, DamageIsNamed) {
    EXPECT_EQ(decode_error("[1]"), "is not a JSON object");
    EXPECT_EQ(decode_error("{\"time\":1}"), "has no 'event'");
    EXPECT_EQ(decode_error("{\"event\":\"party\"}"), "holds a bad party event: unknown event 'party'");
    EXPECT_EQ(decode_error(R"({"event":"attempt_end","job":"j","index":0,"host":"h","verdict":"great"})"),
              "holds a bad attempt_end event: unknown verdict 'great'");
    EXPECT_EQ(decode_error(R"({"event":"attempt_end","job":"j","host":"h","verdict":"failed"})"),
              "holds a bad attempt_end event: key 'index' not found");
    EXPECT_EQ(decode_error(R"({"event":"shards_not_run","job":"j","count":1,"indices":[[3,1]]})"),
              "holds a bad shards_not_run event: bad index range [3, 1)");
    EXPECT_EQ(decode_error("{\"event\":"),
              "is not valid JSON: parse error at line 1, column 10: syntax error while parsing value - unexpected "
              "end of input; expected '[', '{', or a literal");
}

} // namespace
} // namespace sshard::core
