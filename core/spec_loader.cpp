// The loader walks the YAML tree once, checking as it goes and recording every problem with its position, so
// that one run tells the user everything that is wrong. It reads the spec's top level and its jobs; typed values
// are read by yaml_reader.cpp, a job's settings, the hosts and the shards by the spec_yaml_*.cpp files. Only these
// files know yaml-cpp.
#include "core/spec_loader.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <iterator>
#include <limits>
#include <map>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "core/fnv1a.hpp"
#include "core/host_file.hpp"
#include "core/hostlist.hpp"
#include "core/hosts.hpp"
#include "core/job_graph.hpp"
#include "core/names.hpp"
#include "core/shard_fit.hpp"
#include "core/shard_set.hpp"
#include "core/spec_checks.hpp"
#include "core/spec_limits.hpp"
#include "core/spec_yaml.hpp"
#include "core/yaml_merge.hpp"

namespace sshard::core {

namespace {

class Loader {
public:
    Loader(std::string path, const std::string& text, const LoadOptions& options)
        : m_path(std::move(path)), m_text(text), m_options(options), m_diag(text), m_yaml(m_diag) {
        hide_env_values(m_diag);
    }

    Spec load();

private:
    void load_root(const YAML::Node& root, Spec& spec);
    void load_defaults(const YAML::Node& node, JobSettings& defaults);
    void load_all_hosts(const YAML::Node& root, Spec& spec);
    void read_spec_host_file(const YAML::Node& root, Spec& spec);
    void load_jobs(const YAML::Node& node, const JobSettings& defaults, Spec& spec);
    std::optional<JobSpec> load_job(const YAML::Node& node, const JobSettings& defaults);
    std::optional<std::string> job_name(const YAML::Node& node);
    std::vector<std::string> eligible_host_names(const JobSpec& job) const;
    void load_command(const YAML::Node& node, JobSpec& job, bool check_names);
    void load_transfers(const YAML::Node& node, JobSpec& job, bool shards_ok);
    std::string lines_file(const std::string& job, const std::string& path) const;
    void check_needs(const Spec& spec);
    void report_unknown_need(const Spec& spec, const JobSpec& job, const std::string& need);
    void check_host_filters(const Spec& spec);
    void apply_host_defaults(Spec& spec) const;
    void check_job_sizes(const Spec& spec);
    HostCapacity known_size(const HostSpec& host) const;

    std::string m_path;
    const std::string& m_text;
    LoadOptions m_options;
    DiagnosticList m_diag;
    YamlReader m_yaml;
    // By job name, for the positions of later checks. Never assign to a YAML::Node: that writes through.
    std::map<std::string, YAML::Node> m_job_nodes;
    std::vector<StagePlace> m_stage_places;                    // where the stage entries read so far write
    std::map<std::string, std::string> m_collect_destinations; // CollectRules::taken
    std::map<std::string, YAML::Node> m_filter_nodes;
    const std::vector<HostSpec>* m_hosts = nullptr; // the spec's, once loaded: {host}'s values
    HostSpec m_host_defaults;                       // `defaults`' max_load and min_free_memory
};

void Loader::load_defaults(const YAML::Node& node, JobSettings& defaults) {
    if (m_yaml.check_map(node, "'defaults'",
                         {"retries", "backoff", "timeout", "env", "pass_env", "workdir", "shell", "cpus", "memory",
                          "max_load", "min_free_memory"})) {
        read_job_settings(m_yaml, node, defaults);
        read_host_limits(m_yaml, node, m_host_defaults);
    }
}

std::optional<JobSpec> Loader::load_job(const YAML::Node& node, const JobSettings& defaults) {
    if (!m_yaml.check_map(node, "a job",
                          {"name", "command", "shards", "priority", "retries", "backoff", "timeout", "env", "pass_env",
                           "workdir", "shell", "needs", "hosts", "detach", "stage", "collect", "collect_on_failure",
                           "cpus", "memory"})) {
        return std::nullopt;
    }
    JobSpec job;
    job.location = m_yaml.where(node);
    auto name = job_name(node);
    job.name = name.value_or("");
    bool shards_ok = true;
    if (node["shards"]) {
        auto parsed =
            read_shards(m_yaml, node["shards"], [&](const std::string& path) { return lines_file(job.name, path); });
        // With shards in error, the placeholders they would define are unknown: do not report those too.
        shards_ok = parsed.has_value();
        job.shards = parsed.value_or(CountShards{0});
    }
    if (node["priority"]) {
        job.priority =
            static_cast<int>(m_yaml.integer(node["priority"], "priority", -k_max_priority, k_max_priority).value_or(0));
    }
    JobSettings settings = defaults;
    read_job_settings(m_yaml, node, settings);
    job.retries = settings.retries;
    job.backoff = settings.backoff;
    job.timeout = settings.timeout;
    job.env = std::move(settings.env);
    for (const auto& passed : m_options.pass_env) {
        set_env(job.env, passed, std::getenv(passed.c_str()));
    }
    job.workdir = std::move(settings.workdir);
    job.shell = std::move(settings.shell);
    job.cpus = settings.cpus;
    job.memory = settings.memory;
    if (node["needs"]) {
        job.needs = m_yaml.string_list(node["needs"], "needs", true);
    }
    if (node["detach"]) {
        job.detach = m_yaml.boolean(node["detach"], "detach").value_or(false);
    }
    if (node["hosts"]) {
        job.hosts = read_host_filter(m_yaml, node["hosts"]);
        m_filter_nodes.emplace(job.name, node["hosts"]);
    }
    if (auto* each_host = std::get_if<EachHostShards>(&job.shards)) {
        each_host->hosts = eligible_host_names(job);
    }
    load_transfers(node, job, shards_ok);
    load_command(node, job, shards_ok);
    return name ? std::optional(std::move(job)) : std::nullopt;
}

// The names of the hosts `job` may run on, in the spec's order; none when its filter is in error (reported).
std::vector<std::string> Loader::eligible_host_names(const JobSpec& job) const {
    std::vector<std::string> names;
    try {
        for (std::size_t index : job.hosts ? filter_hosts(*m_hosts, *job.hosts) : std::vector<std::size_t>()) {
            names.push_back((*m_hosts)[index].name);
        }
    } catch (const HostlistError&) {
        return {}; // already reported where the filter was read
    }
    if (!job.hosts) {
        for (const auto& host : *m_hosts) {
            names.push_back(host.name);
        }
    }
    return names;
}

// A job's name; nullopt, reported, when it has none or one that cannot name a directory.
std::optional<std::string> Loader::job_name(const YAML::Node& node) {
    if (!node["name"]) {
        m_yaml.error(node, "a job needs a 'name'");
        return std::nullopt;
    }
    auto name = m_yaml.scalar(node["name"], "name");
    if (name && !is_safe_name(*name)) {
        m_yaml.error(node["name"], fmt::format("bad job name '{}' ({})", *name, safe_name_rule()));
        return std::nullopt;
    }
    return name;
}

// The file a job's `lines: path` is read from: beside the spec, or the run's copy when resuming without one.
std::string Loader::lines_file(const std::string& job, const std::string& path) const {
    namespace fs = std::filesystem;
    if (!m_options.lines_dir.empty()) {
        return (fs::path(m_options.lines_dir) / (job + ".lines")).string();
    }
    return (fs::path(path).is_absolute() ? fs::path(path) : fs::path(m_path).parent_path() / path).string();
}

void Loader::load_transfers(const YAML::Node& node, JobSpec& job, bool shards_ok) {
    if (node["stage"]) {
        job.stage = read_stage(m_yaml, node["stage"], std::filesystem::path(m_path).parent_path().string(), job,
                               m_stage_places);
    }
    if (node["collect"] && shards_ok) {
        CollectRules rules{job.name, shard_placeholders(job.shards), {}, &m_collect_destinations};
        if (shard_count(job.shards) > 1) {
            std::copy_if(rules.placeholders.begin(), rules.placeholders.end(), std::back_inserter(rules.per_shard),
                         [](const std::string& name) { return name != "count"; });
        }
        rules.placeholders.insert(rules.placeholders.end(), k_common_placeholders.begin(), k_common_placeholders.end());
        job.collect = read_collect(m_yaml, node["collect"], rules);
    }
    if (node["collect_on_failure"]) {
        job.collect_on_failure = m_yaml.boolean(node["collect_on_failure"], "collect_on_failure").value_or(false);
    }
}

void Loader::load_command(const YAML::Node& node, JobSpec& job, bool check_names) {
    if (!node["command"]) {
        m_yaml.error(node, "a job needs a 'command'");
        return;
    }
    const YAML::Node command = node["command"];
    auto text = m_yaml.scalar(command, "command");
    if (!text) {
        return;
    }
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
        m_yaml.error(command, "'command' must not be empty");
        return;
    }
    std::vector<CommandTemplate::Problem> problems;
    job.command = CommandTemplate::parse(*text, problems);
    for (const auto& problem : problems) {
        m_diag.error(m_yaml.offset_location(command, problem.offset), problem.message);
    }
    if (problems.empty() && check_names) {
        for (const auto& problem : check_command_values(job, *m_hosts)) {
            m_diag.error(m_yaml.offset_location(command, problem.offset), problem.message);
        }
    }
}

void Loader::load_jobs(const YAML::Node& node, const JobSettings& defaults, Spec& spec) {
    if (!node.IsSequence()) {
        m_yaml.error(node, "'jobs' must be a list of jobs");
        return;
    }
    if (node.size() == 0) {
        m_yaml.error(node, "'jobs' is empty: there is nothing to run");
    }
    for (const auto& entry : node) {
        auto job = load_job(entry, defaults);
        if (!job) {
            continue;
        }
        if (m_job_nodes.count(job->name) != 0) {
            m_yaml.error(entry["name"], fmt::format("duplicate job name '{}' (first defined at line {})", job->name,
                                                    m_yaml.where(m_job_nodes.at(job->name)).line));
            continue;
        }
        m_job_nodes.emplace(job->name, YAML::Node(entry));
        spec.jobs.push_back(std::move(*job));
    }
}

// Reports unknown and self needs, then every cycle once, naming its path.
void Loader::check_needs(const Spec& spec) {
    JobGraph graph(spec.jobs);
    auto unknown = graph.unknown_needs();
    for (const auto& [job, need] : unknown) {
        report_unknown_need(spec, spec.jobs[job], need);
    }
    if (!unknown.empty()) {
        return;
    }
    for (const auto& cycle : graph.cycles()) {
        std::string path;
        for (const auto& name : cycle.path) {
            path += (path.empty() ? "" : " -> ") + name;
        }
        m_yaml.error(m_job_nodes.at(spec.jobs[cycle.job].name)["needs"],
                     fmt::format("'needs' forms a cycle: {}", path));
    }
}

void Loader::report_unknown_need(const Spec& spec, const JobSpec& job, const std::string& need) {
    std::vector<std::string> names;
    for (const auto& other : spec.jobs) {
        names.push_back(other.name);
    }
    std::string hint = closest_match(need, names);
    m_yaml.error(m_job_nodes.at(job.name)["needs"],
                 hint.empty()
                     ? fmt::format("job '{}' needs unknown job '{}'", job.name, need)
                     : fmt::format("job '{}' needs unknown job '{}' (did you mean '{}'?)", job.name, need, hint));
}

void Loader::check_host_filters(const Spec& spec) {
    if (m_options.hosts_later) {
        return;
    }
    for (const auto& job : spec.jobs) {
        if (!job.hosts) {
            continue;
        }
        try {
            if (filter_hosts(spec.hosts, *job.hosts).empty()) {
                m_yaml.error(m_filter_nodes.at(job.name), fmt::format("job '{}' matches no host", job.name));
            }
        } catch (const HostlistError&) {
            // Already reported where the filter was read.
        }
    }
}

Spec Loader::load() {
    for (const auto& name : m_options.pass_env) {
        if (std::string problem = pass_env_problem(name); !problem.empty()) {
            throw UsageError(fmt::format("bad --env '{}': {}", name, problem));
        }
    }
    Spec spec;
    spec.path = m_path;
    spec.hash = fnv1a_hex(m_text);
    spec.name = default_run_name(m_path);
    YAML::Node root;
    try {
        root = YAML::Load(m_text);
    } catch (const YAML::DeepRecursion& e) {
        // yaml-cpp's own message for this is "bad file".
        m_diag.error({e.mark.line + 1, e.mark.column + 1},
                     fmt::format("invalid YAML: nested {} or more levels deep", e.depth()));
        throw SpecError(m_path, m_diag.take());
    } catch (const YAML::ParserException& e) {
        m_diag.error({e.mark.line + 1, e.mark.column + 1}, fmt::format("invalid YAML: {}", e.msg));
        throw SpecError(m_path, m_diag.take());
    }
    if (!resolve_merge_keys(m_yaml, root)) {
        throw SpecError(m_path, m_diag.take());
    }
    if (!root.IsMap()) {
        m_diag.error({1, 1}, "a job spec must be a mapping with 'version: 1' and 'jobs'");
        throw SpecError(m_path, m_diag.take());
    }
    load_root(root, spec);
    if (!m_diag.empty()) {
        throw SpecError(m_path, m_diag.take());
    }
    return spec;
}

void Loader::load_root(const YAML::Node& root, Spec& spec) {
    std::vector<std::string> keys = {"version", "name", "defaults", "hosts", "hosts_file", "jobs"};
    for (const auto& entry : root) {
        // Keys starting with x- are the user's, as in Compose files: a place for anchors that merge keys use.
        if (entry.first.IsScalar() && entry.first.Scalar().rfind("x-", 0) == 0) {
            keys.push_back(entry.first.Scalar());
        }
    }
    m_yaml.check_map(root, "the spec", keys);
    if (!root["version"]) {
        m_diag.error({1, 1}, "missing 'version: 1' (the spec format's version)");
    } else if (auto version = m_yaml.integer(root["version"], "version", 1, std::numeric_limits<std::int64_t>::max());
               version && *version != 1) {
        m_yaml.error(root["version"],
                     fmt::format("unsupported spec version {} (this sshard reads version 1)", *version));
    }
    if (root["name"]) {
        auto name = m_yaml.scalar(root["name"], "name");
        if (name && !is_safe_name(*name)) {
            m_yaml.error(root["name"], fmt::format("bad run name '{}' ({})", *name, safe_name_rule()));
        }
        spec.name = name.value_or(spec.name);
    }
    JobSettings defaults;
    if (root["defaults"]) {
        load_defaults(root["defaults"], defaults);
    }
    load_all_hosts(root, spec);
    m_hosts = &spec.hosts;
    if (!root["jobs"]) {
        m_diag.error({1, 1}, "missing 'jobs' (the list of jobs to run)");
    } else {
        load_jobs(root["jobs"], defaults, spec);
    }
    check_needs(spec);
    check_host_filters(spec);
    apply_host_defaults(spec);
    spec.host_defaults = m_host_defaults;
    check_job_sizes(spec);
}

// `defaults`' hold-back limits go to every host that sets none of its own, wherever it was listed.
void Loader::apply_host_defaults(Spec& spec) const {
    for (auto& host : spec.hosts) {
        host.max_load = host.max_load ? host.max_load : m_host_defaults.max_load;
        host.min_free_memory = host.min_free_memory ? host.min_free_memory : m_host_defaults.min_free_memory;
    }
}

// A job whose shard is bigger than every host it may run on could never start. Where a host's size is known
// only once it is connected (`slots: auto` over SSH, a remote host's memory), the scheduler checks then.
void Loader::check_job_sizes(const Spec& spec) {
    for (const auto& job : spec.jobs) {
        std::vector<HostCapacity> sizes;
        try {
            for (std::size_t h : job.hosts ? filter_hosts(spec.hosts, *job.hosts) : std::vector<std::size_t>{}) {
                sizes.push_back(known_size(spec.hosts[h]));
            }
        } catch (const HostlistError&) {
            continue; // reported where the filter was read
        }
        if (!job.hosts) {
            std::transform(spec.hosts.begin(), spec.hosts.end(), std::back_inserter(sizes),
                           [&](const HostSpec& host) { return known_size(host); });
        }
        std::string problem = sizes.empty() ? "" : fits_none(shard_need(job), sizes); // none: reported already
        if (!problem.empty()) {
            const YAML::Node node = m_job_nodes.at(job.name);
            const char* key = problem.find("CPUs") != std::string::npos ? "cpus" : "memory";
            m_yaml.error(node[key] ? node[key] : node, fmt::format("job '{}': {}", job.name, problem));
        }
    }
}

// A host's size as the spec tells it: its slots unless they are `auto` on a remote host, and the memory of this
// machine for a local host.
HostCapacity Loader::known_size(const HostSpec& host) const {
    HostCapacity size;
    bool local = host.transport == TransportKind::local;
    if (!host.auto_slots || local) {
        size.slots = host.slots;
    }
    if (local) {
        size.memory = m_options.local_memory;
    }
    return size;
}

void Loader::load_all_hosts(const YAML::Node& root, Spec& spec) {
    if (m_options.hosts_later) {
        return;
    }
    bool replaced = m_options.hosts_override || m_options.hostfile;
    if (root["hosts"] && !replaced) {
        read_hosts(m_yaml, root["hosts"], m_options.local_cpus, spec.hosts);
    }
    if (root["hosts_file"] && !replaced) {
        read_spec_host_file(root, spec);
    }
    if (m_options.hostfile) {
        spec.hosts = read_host_file(*m_options.hostfile);
        spec.hosts_file = *m_options.hostfile;
    } else if (m_options.hosts_override) {
        try {
            spec.hosts = parse_host_list(*m_options.hosts_override);
        } catch (const HostlistError& e) {
            throw UsageError(fmt::format("bad --hosts value '{}': {}", *m_options.hosts_override, e.what()));
        }
    }
    if (spec.hosts.empty() && !root["hosts"] && !root["hosts_file"] && !replaced) {
        HostSpec local;
        local.name = "localhost";
        local.slots = std::max(1, m_options.local_cpus);
        local.transport = TransportKind::local;
        spec.hosts.push_back(local);
    } else if (spec.hosts.empty() && m_diag.empty()) {
        m_diag.error(m_yaml.where(root["hosts"]), "'hosts' is empty: there is nowhere to run");
    }
}

// `hosts_file`: the hosts come from a host file, beside the spec when relative, which a run watches.
void Loader::read_spec_host_file(const YAML::Node& root, Spec& spec) {
    auto path = m_yaml.scalar(root["hosts_file"], "hosts_file");
    if (root["hosts"]) {
        m_yaml.error(root["hosts_file"], "give 'hosts' or 'hosts_file', not both");
        return;
    }
    if (!path) {
        return;
    }
    namespace fs = std::filesystem;
    spec.hosts_file =
        (fs::path(*path).is_absolute() ? fs::path(*path) : fs::path(m_path).parent_path() / *path).string();
    try {
        spec.hosts = read_host_file(spec.hosts_file);
    } catch (const SpecError&) {
        throw; // its own file's problems, with their lines
    } catch (const UsageError& e) {
        m_yaml.error(root["hosts_file"], e.what());
    }
}

} // namespace

Spec load_spec_text(const std::string& path, const std::string& text, const LoadOptions& options) {
    return Loader(path, text, options).load();
}

Spec load_spec(const std::string& path, const LoadOptions& options) {
    return load_spec_text(path, read_spec_file(path), options);
}

} // namespace sshard::core
