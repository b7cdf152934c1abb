#include "cli/plan_printer.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include "cli/terminal.hpp"
#include "core/error.hpp"
#include "core/hostlist.hpp"
#include "core/json_writer.hpp"
#include "core/transfer_paths.hpp"

namespace sshard::cli {

using core::HostSpec;

std::string slots_text(const HostSpec& host) {
    return host.auto_slots && host.transport == core::TransportKind::ssh ? "auto" : std::to_string(host.slots);
}

const char* transport_name(core::TransportKind transport) {
    switch (transport) {
    case core::TransportKind::local:
        return "local";
    case core::TransportKind::slurm:
        return "slurm";
    case core::TransportKind::slurm_agent:
        return "slurm_agent";
    case core::TransportKind::ssh:
        break;
    }
    return "ssh";
}

namespace {

// How many shards of each job the text plan lists before summarising the rest.
constexpr int k_plan_text_shards = 5;

std::string join(const std::vector<std::string>& words, std::string_view separator) {
    std::string out;
    for (const auto& word : words) {
        out += (out.empty() ? "" : std::string(separator)) + word;
    }
    return out;
}

std::string host_settings(const HostSpec& host) {
    std::string text =
        fmt::format("slots {}, priority {}, {}", slots_text(host), host.priority, transport_name(host.transport));
    if (!host.user.empty()) {
        text += ", user " + host.user;
    }
    if (host.port != 0) {
        text += fmt::format(", port {}", host.port);
    }
    if (!host.labels.empty()) {
        text += ", labels " + join(host.labels, ",");
    }
    return text;
}

// Hosts written as folded groups of consecutive hosts that share every setting, the groups in a column as wide
// as the widest.
void print_plan_hosts(std::ostream& out, const std::vector<HostSpec>& hosts, const std::vector<std::size_t>& chosen) {
    std::vector<std::pair<std::string, std::string>> groups; // folded names, settings
    std::vector<std::string> names;
    std::string settings;
    auto flush = [&] {
        if (!names.empty()) {
            groups.emplace_back(terminal_safe(core::fold_hostlist(names)), settings);
        }
        names.clear();
    };
    for (std::size_t index : chosen) {
        std::string next = host_settings(hosts[index]);
        if (next != settings) {
            flush();
            settings = next;
        }
        names.push_back(hosts[index].name);
    }
    flush();
    std::size_t width = 0;
    for (const auto& group : groups) {
        width = std::max(width, display_width(group.first));
    }
    for (const auto& [folded, group_settings] : groups) {
        fmt::print(out, "  {} {}\n", pad_right(folded, width), group_settings);
    }
}

// `text` with each line after the first indented by `indent` spaces, to stand under the first; without its
// final line breaks (a YAML block scalar's), and no spaces on empty lines.
std::string indent_lines(std::string_view text, std::size_t indent) {
    while (text.ends_with('\n')) {
        text.remove_suffix(1);
    }
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        out += text[i];
        if (text[i] == '\n' && text[i + 1] != '\n') {
            out.append(indent, ' ');
        }
    }
    return out;
}

std::string backoff_text(const core::Backoff& b) {
    return fmt::format("{} x{:g} up to {}", core::format_duration(b.initial), b.factor, core::format_duration(b.max));
}

// The files and bytes of a stage's tree as it is now, or why it cannot be read.
struct TreeSize {
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
    std::string error;
};

TreeSize tree_size(const core::StageSpec& stage) {
    TreeSize size;
    try {
        for (const auto& file : core::scan_stage_tree(stage.source)) {
            ++size.files;
            size.bytes += file.size;
        }
    } catch (const core::Error& e) {
        size.error = e.what();
    }
    return size;
}

// What the job stages, with the size of each tree as it is now, and what it collects.
void print_transfers(std::ostream& out, const core::JobSpec& job) {
    for (const auto& stage : job.stage) {
        TreeSize tree = tree_size(stage);
        std::string size = !tree.error.empty()
                               ? tree.error
                               : fmt::format("{} file{}, {} bytes", tree.files, tree.files == 1 ? "" : "s", tree.bytes);
        fmt::print(out, "  stage:    {} -> {} ({}{})\n", stage.from, stage.to, size,
                   stage.mode ? fmt::format(", mode {:04o}", *stage.mode) : "");
    }
    for (const auto& collect : job.collect) {
        fmt::print(out, "  collect:  {} -> run directory/{}{}\n", collect.from, collect.to,
                   collect.optional ? " (optional)" : "");
    }
    if (!job.collect.empty() && job.collect_on_failure) {
        fmt::print(out, "  collect_on_failure: true\n");
    }
}

void print_job(std::ostream& out, const core::Plan& plan, const core::PlannedJob& planned, bool show_env) {
    const core::JobSpec& job = *planned.job;
    std::vector<std::string> host_names;
    for (std::size_t index : planned.hosts) {
        host_names.push_back(plan.spec->hosts[index].name);
    }
    fmt::print(out, "\njob {} (priority {}, {} shard{})\n", job.name, job.priority, planned.shards.size(),
               planned.shards.size() == 1 ? "" : "s");
    fmt::print(out, "  hosts:    {}\n", core::fold_hostlist(host_names));
    fmt::print(out, "  retries:  {} (backoff {})\n", job.retries, backoff_text(job.backoff));
    fmt::print(out, "  timeout:  {}\n", job.timeout ? core::format_duration(*job.timeout) : "none");
    if (!job.needs.empty()) {
        fmt::print(out, "  needs:    {}\n", join(job.needs, ", "));
    }
    if (!job.workdir.empty()) {
        fmt::print(out, "  workdir:  {}\n", job.workdir);
    }
    if (!job.shell.empty()) {
        fmt::print(out, "  shell:    {}\n", job.shell);
    }
    if (!job.env.empty()) {
        std::vector<std::string> shown;
        for (const auto& [name, value] : job.env) {
            shown.push_back(show_env ? name + "=" + value : name);
        }
        fmt::print(out, "  env:      {}{}\n", join(shown, " "), show_env ? "" : " (values hidden; --show-env)");
    }
    print_transfers(out, job);
    std::uint64_t shown = std::min<std::uint64_t>(planned.shards.size(), k_plan_text_shards);
    for (std::uint64_t i = 0; i < shown; ++i) {
        std::string prefix = fmt::format("  [{}] ", i);
        fmt::print(out, "{}{}\n", prefix, indent_lines(planned.shards.command(i, 1), prefix.size()));
    }
    if (planned.shards.size() > shown) {
        fmt::print(out, "  ... and {} more (--format json lists every shard)\n", planned.shards.size() - shown);
    }
}

} // namespace

void print_plan_text(std::ostream& out, const core::Plan& plan, bool show_env) {
    const core::Spec& spec = *plan.spec;
    std::uint64_t slots = 0;
    std::vector<std::size_t> all;
    for (std::size_t i = 0; i < spec.hosts.size(); ++i) {
        slots += spec.hosts[i].slots;
        all.push_back(i);
    }
    fmt::print(out, "plan '{}' from {}: {} job{}, {} shard{}, {} host{}\n", spec.name, spec.path, plan.jobs.size(),
               plan.jobs.size() == 1 ? "" : "s", plan.total_shards, plan.total_shards == 1 ? "" : "s",
               spec.hosts.size(), spec.hosts.size() == 1 ? "" : "s");
    fmt::print(out, "\nhosts\n");
    print_plan_hosts(out, spec.hosts, all);
    for (const auto& job : plan.jobs) {
        print_job(out, plan, job, show_env);
    }
}

namespace {

nlohmann::ordered_json plan_host_json(const HostSpec& host) {
    nlohmann::ordered_json j = {{"name", host.name},
                                {"transport", transport_name(host.transport)},
                                {"priority", host.priority},
                                {"labels", host.labels}};
    j["slots"] = host.auto_slots && host.transport == core::TransportKind::ssh ? nlohmann::ordered_json("auto")
                                                                               : nlohmann::ordered_json(host.slots);
    if (!host.user.empty()) {
        j["user"] = host.user;
    }
    if (host.port != 0) {
        j["port"] = host.port;
    }
    return j;
}

nlohmann::ordered_json job_settings_json(const core::Plan& plan, const core::PlannedJob& planned, bool show_env) {
    const core::JobSpec& job = *planned.job;
    nlohmann::ordered_json hosts = nlohmann::ordered_json::array();
    for (std::size_t index : planned.hosts) {
        hosts.push_back(plan.spec->hosts[index].name);
    }
    nlohmann::ordered_json env = nlohmann::ordered_json::object();
    for (const auto& [name, value] : job.env) {
        env[name] = show_env ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
    }
    return {{"name", job.name},
            {"priority", job.priority},
            {"retries", job.retries},
            {"backoff",
             {{"initial_s", job.backoff.initial.count() / 1000.0},
              {"max_s", job.backoff.max.count() / 1000.0},
              {"factor", job.backoff.factor}}},
            {"timeout_s",
             job.timeout ? nlohmann::ordered_json(job.timeout->count() / 1000.0) : nlohmann::ordered_json(nullptr)},
            {"needs", job.needs},
            {"workdir", job.workdir},
            {"shell", job.shell.empty() ? "/bin/sh" : job.shell},
            {"env", env},
            {"hosts", hosts},
            {"shard_count", planned.shards.size()}};
}

// Each stage entry with its tree's files and bytes as they are now (or the error that reading it gave).
nlohmann::ordered_json stage_json(const core::JobSpec& job) {
    nlohmann::ordered_json entries = nlohmann::ordered_json::array();
    for (const auto& stage : job.stage) {
        TreeSize tree = tree_size(stage);
        nlohmann::ordered_json entry = {{"from", stage.from}, {"to", stage.to}};
        if (stage.mode) {
            entry["mode"] = fmt::format("{:04o}", *stage.mode);
        }
        if (tree.error.empty()) {
            entry["files"] = tree.files;
            entry["bytes"] = tree.bytes;
        } else {
            entry["error"] = tree.error;
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

nlohmann::ordered_json collect_json(const core::JobSpec& job) {
    nlohmann::ordered_json entries = nlohmann::ordered_json::array();
    for (const auto& collect : job.collect) {
        entries.push_back({{"from", collect.from}, {"to", collect.to}, {"optional", collect.optional}});
    }
    return entries;
}

} // namespace

void print_plan_json(std::ostream& out, const core::Plan& plan, bool show_env,
                     const nlohmann::ordered_json& stage_check) {
    core::JsonWriter json(out);
    json.begin_object();
    json.field("name", plan.spec->name);
    json.field("spec", plan.spec->path);
    json.key("hosts");
    json.begin_array();
    for (const auto& host : plan.spec->hosts) {
        json.value(plan_host_json(host));
    }
    json.end_array();
    json.key("jobs");
    json.begin_array();
    for (const auto& planned : plan.jobs) {
        json.begin_object();
        nlohmann::ordered_json settings = job_settings_json(plan, planned, show_env);
        for (const auto& [name, value] : settings.items()) {
            json.field(name, value);
        }
        json.field("stage", stage_json(*planned.job));
        json.field("collect", collect_json(*planned.job));
        json.field("collect_on_failure", planned.job->collect_on_failure);
        json.key("shards");
        json.begin_array();
        for (std::uint64_t i = 0; i < planned.shards.size(); ++i) {
            json.value({{"index", i}, {"command", planned.shards.command(i, 1)}});
        }
        json.end_array();
        json.end_object();
    }
    json.end_array();
    if (!stage_check.is_null()) {
        json.field("stage_check", stage_check);
    }
    json.end_object();
    out << '\n';
}

} // namespace sshard::cli
