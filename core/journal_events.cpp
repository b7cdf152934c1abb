#include "core/journal_events.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace sshard::core {

namespace {

using nlohmann::json;

constexpr std::array k_verdicts = {"succeeded", "retry", "requeued", "failed", "unfinished"};
constexpr std::array k_outcomes = {"exited", "signaled", "timed_out", "transport_failed"};

// The enum value whose name is `text`; throws Error naming the field otherwise.
template <class Enum, std::size_t N>
Enum enum_from(const std::array<const char*, N>& names, const std::string& text, const char* field) {
    for (std::size_t i = 0; i < N; ++i) {
        if (text == names[i]) {
            return static_cast<Enum>(i);
        }
    }
    throw Error(fmt::format("unknown {} '{}'", field, text));
}

template <class T> void put_optional(json& j, const char* key, const std::optional<T>& value) {
    if (value) {
        j[key] = *value;
    }
}

template <class T> std::optional<T> get_optional(const json& j, const char* key) {
    auto it = j.find(key);
    return it == j.end() || it->is_null() ? std::nullopt : std::optional<T>(it->get<T>());
}

json inputs_json(const ShardInputs& inputs) {
    json array = json::array();
    for (const auto& [name, value] : inputs) {
        array.push_back({name, value});
    }
    return array;
}

json encode(const RunStartEvent& e) {
    json hosts = json::array();
    for (const auto& h : e.hosts) {
        hosts.push_back({{"name", h.name}, {"slots", h.slots}, {"auto_slots", h.auto_slots}});
    }
    json jobs = json::array();
    for (const auto& j : e.jobs) {
        jobs.push_back({{"name", j.name}, {"shards", j.shards}, {"priority", j.priority}});
    }
    json event = {{"event", "run_start"}, {"time", e.time}, {"run", e.run},
                  {"name", e.name},       {"spec", e.spec}, {"spec_hash", e.spec_hash},
                  {"resume", e.resume},   {"hosts", hosts}, {"jobs", jobs}};
    put_optional(event, "max_parallel", e.max_parallel);
    if (e.host_flags.any()) {
        json flags = json::object();
        put_optional(flags, "hosts", e.host_flags.list);
        put_optional(flags, "hostfile", e.host_flags.file);
        if (e.host_flags.local) {
            flags["local"] = true;
        }
        event["host_flags"] = flags;
    }
    return event;
}

json encode(const HostUpEvent& e) {
    return {{"event", "host_up"},
            {"time", e.time},
            {"host", e.host},
            {"setup_s", e.setup_s},
            {"cpus", e.cpus ? json(*e.cpus) : json(nullptr)}};
}

json encode(const HostDownEvent& e) {
    return {{"event", "host_down"}, {"time", e.time}, {"host", e.host}, {"reason", e.reason}};
}

json encode(const HostSampleEvent& e) {
    return {{"event", "host_sample"}, {"time", e.time},         {"host", e.host},
            {"cpu_busy", e.cpu_busy}, {"mem_used", e.mem_used}, {"mem_total", e.mem_total}};
}

json encode(const HostAddedEvent& e) {
    return {
        {"event", "host_added"}, {"time", e.time}, {"host", e.host}, {"slots", e.slots}, {"auto_slots", e.auto_slots}};
}

json encode(const HostHoldEvent& e) {
    if (!e.held) {
        return {{"event", "host_released"}, {"time", e.time}, {"host", e.host}, {"kind", e.kind}};
    }
    return {{"event", "host_held"}, {"time", e.time}, {"host", e.host}, {"kind", e.kind}, {"reason", e.reason}};
}

json encode(const AttemptStartEvent& e) {
    return {{"event", "attempt_start"}, {"time", e.time},       {"id", e.id},    {"job", e.job},
            {"index", e.index},         {"attempt", e.attempt}, {"host", e.host}};
}

json encode(const AttemptSubmittedEvent& e) {
    return {{"event", "attempt_submitted"}, {"time", e.time}, {"id", e.id},        {"job", e.job}, {"index", e.index},
            {"attempt", e.attempt},         {"host", e.host}, {"handle", e.handle}};
}

json encode(const AttemptEndEvent& e) {
    json j = {{"event", "attempt_end"},
              {"time", e.time},
              {"id", e.id},
              {"job", e.job},
              {"index", e.index},
              {"attempt", e.attempt},
              {"host", e.host},
              {"start", e.start},
              {"end", e.end},
              {"outcome", outcome_name(e.outcome)},
              {"verdict", verdict_name(e.verdict)},
              {"command", e.command},
              {"key", e.key},
              {"inputs", inputs_json(e.inputs)}};
    put_optional(j, "exit_code", e.exit_code);
    put_optional(j, "signal", e.signal);
    if (!e.reason.empty()) {
        j["reason"] = e.reason;
    }
    put_optional(j, "cpu_user_s", e.cpu_user_s);
    put_optional(j, "cpu_sys_s", e.cpu_sys_s);
    put_optional(j, "output_error", e.output_error);
    if (!e.node.empty()) {
        j["node"] = e.node;
    }
    put_optional(j, "node_cpus", e.node_cpus);
    put_optional(j, "max_rss", e.max_rss);
    if (!e.transfer.empty()) {
        j["transfer"] = {{"sent_bytes", e.transfer.sent_bytes},
                         {"sent_files", e.transfer.sent_files},
                         {"send_s", e.transfer.send_s},
                         {"received_bytes", e.transfer.received_bytes},
                         {"received_files", e.transfer.received_files},
                         {"receive_s", e.transfer.receive_s}};
    }
    return j;
}

json encode(const ShardsNotRunEvent& e) {
    json indices = json::array();
    for (const auto& range : e.indices) {
        indices.push_back({range.from, range.to});
    }
    return {{"event", "shards_not_run"},
            {"time", e.time},
            {"job", e.job},
            {"count", e.count},
            {"as", e.failed ? "failed" : "skipped"},
            {"reason", e.reason},
            {"indices", indices}};
}

json encode(const RunEndEvent& e) {
    json jobs = json::array();
    for (const auto& job : e.jobs) {
        jobs.push_back({{"name", job.name},
                        {"total", job.total},
                        {"succeeded", job.succeeded},
                        {"failed", job.failed},
                        {"skipped", job.skipped},
                        {"unfinished", job.unfinished},
                        {"retried", job.retried},
                        {"recalled", job.recalled},
                        {"makespan_s", job.makespan_s}});
    }
    return {{"event", "run_end"},           {"time", e.time},         {"makespan_s", e.makespan_s},
            {"interrupted", e.interrupted}, {"no_hosts", e.no_hosts}, {"jobs", jobs}};
}

RunStartEvent decode_run_start(const json& j) {
    RunStartEvent e;
    e.run = j.at("run").get<std::string>();
    e.spec = j.value("spec", "");
    e.name = j.value("name", "");
    e.spec_hash = j.value("spec_hash", "");
    e.resume = j.value("resume", false);
    e.max_parallel = get_optional<std::uint64_t>(j, "max_parallel");
    if (const auto flags = j.find("host_flags"); flags != j.end() && flags->is_object()) {
        e.host_flags.list = get_optional<std::string>(*flags, "hosts");
        e.host_flags.file = get_optional<std::string>(*flags, "hostfile");
        e.host_flags.local = flags->value("local", false);
    }
    for (const auto& h : j.value("hosts", json::array())) {
        e.hosts.push_back({h.at("name").get<std::string>(), h.value("slots", 1), h.value("auto_slots", false)});
    }
    for (const auto& job : j.value("jobs", json::array())) {
        e.jobs.push_back(
            {job.at("name").get<std::string>(), job.at("shards").get<std::uint64_t>(), job.value("priority", 0)});
    }
    return e;
}

HostUpEvent decode_host_up(const json& j) {
    return {0, j.at("host").get<std::string>(), j.value("setup_s", 0.0), get_optional<int>(j, "cpus")};
}

HostSampleEvent decode_host_sample(const json& j) {
    return {0, j.at("host").get<std::string>(), j.at("cpu_busy").get<double>(), j.at("mem_used").get<std::uint64_t>(),
            j.value("mem_total", std::uint64_t{0})};
}

AttemptStartEvent decode_attempt_start(const json& j) {
    return {0,
            j.value("id", std::uint64_t{0}),
            j.at("job").get<std::string>(),
            j.at("index").get<std::uint64_t>(),
            j.value("attempt", 1),
            j.at("host").get<std::string>()};
}

AttemptEndEvent decode_attempt_end(const json& j) {
    AttemptEndEvent e;
    e.id = j.value("id", std::uint64_t{0});
    e.job = j.at("job").get<std::string>();
    e.index = j.at("index").get<std::uint64_t>();
    e.attempt = j.value("attempt", 1);
    e.host = j.at("host").get<std::string>();
    e.node = j.value("node", "");
    e.node_cpus = get_optional<int>(j, "node_cpus");
    e.max_rss = get_optional<std::uint64_t>(j, "max_rss");
    if (e.max_rss == 0) {
        e.max_rss.reset(); // no process runs in no memory: nothing was measured
    }
    e.start = j.value("start", 0.0);
    e.end = std::max(e.start, j.value("end", e.start));
    e.outcome = enum_from<OutcomeKind>(k_outcomes, j.value("outcome", "exited"), "outcome");
    e.exit_code = get_optional<int>(j, "exit_code");
    e.signal = get_optional<int>(j, "signal");
    e.verdict = enum_from<Verdict>(k_verdicts, j.at("verdict").get<std::string>(), "verdict");
    e.reason = j.value("reason", "");
    e.command = j.value("command", "");
    e.key = j.value("key", "");
    for (const auto& pair : j.value("inputs", json::array())) {
        e.inputs.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
    }
    e.cpu_user_s = get_optional<double>(j, "cpu_user_s");
    e.cpu_sys_s = get_optional<double>(j, "cpu_sys_s");
    e.output_error = get_optional<std::string>(j, "output_error");
    if (j.contains("transfer")) {
        const json& t = j.at("transfer");
        e.transfer = {t.value("sent_bytes", std::uint64_t{0}),
                      t.value("sent_files", std::uint64_t{0}),
                      t.value("send_s", 0.0),
                      t.value("received_bytes", std::uint64_t{0}),
                      t.value("received_files", std::uint64_t{0}),
                      t.value("receive_s", 0.0)};
    }
    return e;
}

ShardsNotRunEvent decode_shards_not_run(const json& j) {
    ShardsNotRunEvent e;
    e.job = j.at("job").get<std::string>();
    e.count = j.at("count").get<std::uint64_t>();
    e.failed = j.value("as", "") == "failed";
    e.reason = j.value("reason", "");
    for (const auto& range : j.at("indices")) {
        IndexRange r{range.at(0).get<std::uint64_t>(), range.at(1).get<std::uint64_t>()};
        if (r.from > r.to) {
            throw Error(fmt::format("bad index range [{}, {})", r.from, r.to));
        }
        e.indices.push_back(r);
    }
    return e;
}

RunEndEvent decode_run_end(const json& j) {
    RunEndEvent e;
    e.makespan_s = j.value("makespan_s", 0.0);
    e.interrupted = j.value("interrupted", false);
    e.no_hosts = j.value("no_hosts", false);
    for (const auto& job : j.value("jobs", json::array())) {
        JobSummary s;
        s.name = job.at("name").get<std::string>();
        s.total = job.value("total", std::uint64_t{0});
        s.succeeded = job.value("succeeded", std::uint64_t{0});
        s.failed = job.value("failed", std::uint64_t{0});
        s.skipped = job.value("skipped", std::uint64_t{0});
        s.unfinished = job.value("unfinished", std::uint64_t{0});
        s.retried = job.value("retried", std::uint64_t{0});
        s.recalled = job.value("recalled", std::uint64_t{0});
        s.makespan_s = job.value("makespan_s", 0.0);
        e.jobs.push_back(std::move(s));
    }
    return e;
}

JournalEvent decode_kind(const std::string& kind, const json& j) {
    if (kind == "run_start") {
        return decode_run_start(j);
    }
    if (kind == "host_up") {
        return decode_host_up(j);
    }
    if (kind == "host_down") {
        return HostDownEvent{0, j.at("host").get<std::string>(), j.value("reason", "")};
    }
    if (kind == "host_sample") {
        return decode_host_sample(j);
    }
    if (kind == "host_added") {
        return HostAddedEvent{0, j.at("host").get<std::string>(), j.value("slots", 1), j.value("auto_slots", false)};
    }
    if (kind == "host_held" || kind == "host_released") {
        return HostHoldEvent{0, j.at("host").get<std::string>(), kind == "host_held", j.at("kind").get<std::string>(),
                             j.value("reason", "")};
    }
    if (kind == "attempt_start") {
        return decode_attempt_start(j);
    }
    if (kind == "attempt_submitted") {
        return AttemptSubmittedEvent{0,
                                     j.value("id", std::uint64_t{0}),
                                     j.at("job").get<std::string>(),
                                     j.at("index").get<std::uint64_t>(),
                                     j.value("attempt", 1),
                                     j.at("host").get<std::string>(),
                                     j.at("handle").get<std::string>()};
    }
    if (kind == "attempt_end") {
        return decode_attempt_end(j);
    }
    if (kind == "shards_not_run") {
        return decode_shards_not_run(j);
    }
    if (kind == "run_end") {
        return decode_run_end(j);
    }
    throw Error(fmt::format("unknown event '{}'", kind));
}

// nlohmann's messages start with an id such as "[json.exception.parse_error.101] " that means nothing to a user.
std::string parser_message(const json::exception& e) {
    std::string_view message = e.what();
    if (message.starts_with('[')) {
        if (std::size_t end = message.find("] "); end != std::string_view::npos) {
            message.remove_prefix(end + 2);
        }
    }
    return std::string(message);
}

} // namespace

const char* verdict_name(Verdict verdict) {
    return k_verdicts[static_cast<std::size_t>(verdict)];
}

const char* outcome_name(OutcomeKind outcome) {
    return k_outcomes[static_cast<std::size_t>(outcome)];
}

std::string encode_event(const JournalEvent& event) {
    json j = std::visit([](const auto& e) { return encode(e); }, event);
    // `replace` turns invalid UTF-8 from a command or its values into U+FFFD instead of throwing mid-run.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

JournalEvent decode_event(std::string_view line) {
    json j;
    try {
        j = json::parse(line);
    } catch (const json::parse_error& e) {
        throw Error("is not valid JSON: " + parser_message(e));
    }
    if (!j.is_object()) {
        throw Error("is not a JSON object");
    }
    auto found = j.find("event");
    if (found == j.end() || !found->is_string()) {
        throw Error("has no 'event'");
    }
    std::string kind = found->get<std::string>();
    try {
        JournalEvent event = decode_kind(kind, j);
        double time = j.value("time", 0.0);
        std::visit([time](auto& e) { e.time = time; }, event);
        return event;
    } catch (const json::exception& e) {
        throw Error(fmt::format("holds a bad {} event: {}", kind, parser_message(e)));
    } catch (const Error& e) {
        throw Error(fmt::format("holds a bad {} event: {}", kind, e.what()));
    }
}

std::string journal_text(std::string_view text) {
    if (std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
        return std::string(text);
    }
    std::string quoted = json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
    return json::parse(quoted).get<std::string>();
}

} // namespace sshard::core
