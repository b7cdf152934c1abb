// Placeholder and value checks run once the command has parsed: the names first, then, when all are known, each
// value known at load time where its placeholder stands. The numbers ({index}...) are checked by their form.
#include "core/spec_checks.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <functional>

#include "core/shard_set.hpp"

namespace sshard::core {

namespace {

// A value as a message quotes it: control bytes and bytes beyond ASCII escaped, at most 40 bytes of it.
std::string shown_value(std::string_view value) {
    std::string out;
    for (unsigned char c : value.substr(0, 40)) {
        if (c == '\n' || c == '\t') {
            out += c == '\n' ? "\\n" : "\\t";
        } else if (c < 0x20 || c >= 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return value.size() > 40 ? out + "..." : out;
}

// Where a key `env:` is on a line, as a block key or inside a flow mapping: the byte after its ':', or npos.
std::size_t env_key_end(std::string_view line) {
    for (std::size_t at = line.find("env:"); at != std::string_view::npos; at = line.find("env:", at + 1)) {
        // What stands before the key: nothing but indentation and "- " item marks, or a flow mapping's { or ,.
        std::size_t before = line.find_last_not_of(' ', at == 0 ? 0 : at - 1);
        bool starts_entry = at == 0 || before == std::string_view::npos || line[before] == '{' || line[before] == ',' ||
                            line.substr(0, before + 1).find_first_not_of(" -") == std::string_view::npos;
        if (starts_entry) {
            return at + 4;
        }
    }
    return std::string_view::npos;
}

// Calls `f` with every value placeholder `name` can take that is known when the spec is loaded.
void for_each_value(const JobSpec& job, const std::vector<HostSpec>& hosts, const std::string& name,
                    const std::function<void(std::string_view)>& f) {
    if (name == "job") {
        f(job.name);
    } else if (name == "host") {
        for (const auto& host : hosts) {
            f(host.name);
        }
    } else if (const auto* items = std::get_if<ItemsShards>(&job.shards); items && name == "item") {
        std::for_each(items->items.begin(), items->items.end(), f);
    } else if (const auto* lines = std::get_if<LinesShards>(&job.shards); lines && name == "item") {
        std::for_each(lines->lines.begin(), lines->lines.end(), f);
    } else if (const auto* matrix = std::get_if<MatrixShards>(&job.shards)) {
        for (const auto& axis : matrix->axes) {
            if (axis.first == name) {
                std::for_each(axis.second.begin(), axis.second.end(), f);
            }
        }
    }
}

std::vector<CommandProblem> unknown_placeholders(const JobSpec& job) {
    std::vector<std::string> known = shard_placeholders(job.shards);
    known.insert(known.end(), k_common_placeholders.begin(), k_common_placeholders.end());
    std::string defined;
    for (const auto& name : known) {
        defined += (defined.empty() ? "{" : ", {") + name + "}";
    }
    std::vector<CommandProblem> problems;
    for (const auto& segment : job.command.segments()) {
        if (!segment.placeholder || std::find(known.begin(), known.end(), segment.text) != known.end()) {
            continue;
        }
        std::string hint = closest_match(segment.text, known);
        std::string literal = fmt::format("for the text '{{{0}}}' write '{{{{{0}}}}}'", segment.text);
        problems.push_back({segment.offset, hint.empty() ? fmt::format("unknown placeholder '{{{}}}' (this job defines "
                                                                       "{}; {})",
                                                                       segment.text, defined, literal)
                                                         : fmt::format("unknown placeholder '{{{}}}' (did you mean "
                                                                       "'{{{}}}'? {})",
                                                                       segment.text, hint, literal)});
    }
    return problems;
}

// The first value placeholder `segment` refuses, and how many it refuses; "" when none.
std::string refused_values(const CommandTemplate::Segment& segment, const JobSpec& job,
                           const std::vector<HostSpec>& hosts) {
    static const std::vector<std::string> numbers = {"index", "count", "start", "end", "attempt"};
    if (std::find(numbers.begin(), numbers.end(), segment.text) != numbers.end()) {
        std::string why = CommandTemplate::refusal_of_numbers(segment);
        return why.empty() ? why : fmt::format("placeholder '{{{}}}' {}", segment.text, why);
    }
    std::string why;
    std::string first;
    std::size_t refused = 0;
    for_each_value(job, hosts, segment.text, [&](std::string_view value) {
        std::string reason = CommandTemplate::refusal(segment, value);
        if (!reason.empty() && refused++ == 0) {
            why = std::move(reason);
            first = value;
        }
    });
    if (refused == 0) {
        return "";
    }
    return fmt::format("value '{}' of '{{{}}}' {}{}", shown_value(first), segment.text, why,
                       refused > 1 ? fmt::format(" ({} values are refused)", refused) : "");
}

} // namespace

std::vector<CommandProblem> check_command_values(const JobSpec& job, const std::vector<HostSpec>& hosts) {
    std::vector<CommandProblem> problems = unknown_placeholders(job);
    if (!problems.empty()) {
        return problems;
    }
    for (const auto& segment : job.command.segments()) {
        if (segment.placeholder) {
            if (std::string message = refused_values(segment, job, hosts); !message.empty()) {
                problems.push_back({segment.offset, std::move(message)});
            }
        }
    }
    return problems;
}

void hide_env_values(DiagnosticList& diag) {
    std::size_t env_column = std::string_view::npos;
    std::size_t entry_indent = std::string_view::npos;
    for (int number = 1; number <= diag.line_count(); ++number) {
        std::string_view line = diag.line(number);
        std::size_t indent = line.find_first_not_of(' ');
        if (indent == std::string_view::npos || line[indent] == '\t') {
            continue;
        }
        if (env_column != std::string_view::npos && indent > env_column) {
            entry_indent = std::min(entry_indent, indent);
            std::size_t colon = line.find(": ", indent);
            colon = colon == std::string_view::npos && line.back() == ':' ? line.size() - 1 : colon;
            diag.hide(number, indent == entry_indent && colon != std::string_view::npos ? colon + 1 : indent);
            continue;
        }
        env_column = entry_indent = std::string_view::npos;
        std::size_t end = env_key_end(line);
        if (end == std::string_view::npos || line[indent] == '#') {
            continue;
        }
        env_column = end - 4;
        if (line.find_first_not_of(' ', end) != std::string_view::npos) {
            diag.hide(number, end);
        }
    }
}

} // namespace sshard::core
