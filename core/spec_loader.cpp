// The loader walks the YAML tree once, checking as it goes and recording every problem with its position, so
// that one run tells the user everything that is wrong. Only this file knows yaml-cpp.
#include "core/spec_loader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "core/host_file.hpp"
#include "core/hostlist.hpp"
#include "core/hosts.hpp"
#include "core/shard_set.hpp"
#include "core/spec_checks.hpp"

namespace sshard::core {

namespace {

constexpr std::uint64_t k_max_shards = 1'000'000'000'000;
// yaml-cpp holds a few hundred bytes per node, so a spec of 16 MiB may take a few GiB; longer lists belong in a
// `lines` file, which is read as plain text up to 1 GiB. Both bounds also stop /dev/zero and endless pipes.
constexpr std::size_t k_max_spec_bytes = 16u << 20;
constexpr std::size_t k_max_lines_bytes = 1u << 30;
constexpr std::size_t k_max_line_bytes = 1u << 20; // a shard's value goes on a command line: ARG_MAX is 2 MiB

std::string fnv1a_hex(std::string_view text) {
    std::uint64_t hash = 14695981039346656037ull;
    for (unsigned char c : text) {
        hash = (hash ^ c) * 1099511628211ull;
    }
    return fmt::format("{:016x}", hash);
}

bool is_identifier(std::string_view name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) {
        return false;
    }
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// Job and run names become directory names: keep them to a portable set.
bool is_safe_name(std::string_view name) {
    return !name.empty() && name[0] != '.' && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

// The run's name when the spec gives none: the file's stem, made safe for a directory name.
std::string default_run_name(const std::string& path) {
    std::string name = std::filesystem::path(path).stem().string();
    for (char& c : name) {
        c = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '-';
    }
    name = name.substr(0, 100);
    return name.empty() || name[0] == '.' ? "run" + name : name;
}

std::string join_quoted(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names) {
        out += (out.empty() ? "'" : ", '") + name + "'";
    }
    return out;
}

class Loader {
public:
    Loader(std::string path, const std::string& text, const LoadOptions& options)
        : m_path(std::move(path)), m_text(text), m_options(options), m_diag(text) {
        hide_env_values(m_diag);
    }

    Spec load();

private:
    struct JobDefaults {
        int retries = 0;
        Backoff backoff;
        std::optional<Duration> timeout;
        std::vector<std::pair<std::string, std::string>> env;
        std::string workdir;
    };

    SourceLocation where(const YAML::Node& node) const;
    // Reports a problem at a node; an empty value was already reported at its key, so it is passed over.
    void error(const YAML::Node& node, std::string message) {
        if (!node.IsNull() || m_empty_values.count({node.Mark().line, node.Mark().column}) == 0) {
            m_diag.error(where(node), std::move(message));
        }
    }

    bool check_map(const YAML::Node& node, std::string_view what, const std::vector<std::string>& keys);
    std::optional<std::string> scalar(const YAML::Node& node, std::string_view what);
    std::optional<std::int64_t> integer(const YAML::Node& node, std::string_view what, std::int64_t min,
                                        std::int64_t max);
    std::optional<Duration> duration(const YAML::Node& node, std::string_view what, bool allow_zero);
    std::vector<std::string> string_list(const YAML::Node& node, std::string_view what, bool allow_single);
    std::optional<bool> boolean(const YAML::Node& node, std::string_view what);

    void load_defaults(const YAML::Node& node, JobDefaults& defaults);
    void load_retry_settings(const YAML::Node& node, int& retries, Backoff& backoff, std::optional<Duration>& timeout);
    std::optional<Backoff> backoff(const YAML::Node& node);
    void load_env(const YAML::Node& node, std::vector<std::pair<std::string, std::string>>& env);
    std::optional<std::string> workdir(const YAML::Node& node);

    void load_hosts(const YAML::Node& node, std::vector<HostSpec>& hosts);
    void load_host_map(const YAML::Node& node, std::vector<HostSpec>& hosts);
    void add_hosts(const YAML::Node& node, std::vector<HostSpec> more, std::vector<HostSpec>& hosts);

    void load_jobs(const YAML::Node& node, const JobDefaults& defaults, Spec& spec);
    std::optional<JobSpec> load_job(const YAML::Node& node, const JobDefaults& defaults);
    void load_command(const YAML::Node& node, JobSpec& job, bool check_names);
    SourceLocation offset_location(const YAML::Node& node, std::size_t offset) const;
    std::optional<ShardsSpec> shards(const YAML::Node& node, const std::string& job);
    std::optional<ShardsSpec> range_shards(const YAML::Node& node);
    std::optional<ShardsSpec> lines_shards(const YAML::Node& node, const std::string& job);
    std::optional<ShardsSpec> matrix_shards(const YAML::Node& node);
    std::optional<HostFilter> host_filter(const YAML::Node& node);

    void load_root(const YAML::Node& root, Spec& spec);
    void load_all_hosts(const YAML::Node& root, Spec& spec);
    void check_needs(const Spec& spec);
    void check_host_filters(const Spec& spec);

    std::string m_path;
    const std::string& m_text;
    LoadOptions m_options;
    DiagnosticList m_diag;
    // By job name, for the positions of later checks. Never assign to a YAML::Node: that writes through.
    std::map<std::string, YAML::Node> m_job_nodes;
    std::map<std::string, YAML::Node> m_filter_nodes;
    std::set<std::pair<int, int>> m_empty_values;   // positions of empty values already reported at their keys
    const std::vector<HostSpec>* m_hosts = nullptr; // the spec's, once loaded: {host}'s values
};

SourceLocation Loader::where(const YAML::Node& node) const {
    // yaml-cpp counts lines and columns from 0; a node without a position (-1) means the whole file.
    YAML::Mark mark = node.Mark();
    if (mark.line < 0) {
        return {};
    }
    return {mark.line + 1, mark.column + 1};
}

bool Loader::check_map(const YAML::Node& node, std::string_view what, const std::vector<std::string>& keys) {
    if (!node.IsMap()) {
        error(node, fmt::format("{} must be a mapping", what));
        return false;
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        if (!key.IsScalar()) {
            error(key, fmt::format("keys of {} must be plain names", what));
            continue;
        }
        const std::string& name = key.Scalar();
        if (entry.second.IsNull() && entry.second.Tag() != "!!null" && entry.second.Tag() != "tag:yaml.org,2002:null") {
            // yaml-cpp places an empty value at the next token: point at its key instead.
            error(key, fmt::format("'{}' needs a value", name));
            m_empty_values.insert({entry.second.Mark().line, entry.second.Mark().column});
        }
        if (!seen.insert(name).second) {
            error(key, fmt::format("duplicate key '{}' in {}", name, what));
        } else if (name == "password" || name == "passphrase") {
            error(key, fmt::format("'{}' is refused: a spec never holds secrets; authenticate with an SSH key or "
                                   "ssh-agent (see the host's IdentityFile in ssh_config)",
                                   name));
        } else if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
            std::string hint = closest_match(name, keys);
            error(key, hint.empty() ? fmt::format("unknown key '{}' in {}", name, what)
                                    : fmt::format("unknown key '{}' (did you mean '{}'?)", name, hint));
        }
    }
    return true;
}

std::optional<std::string> Loader::scalar(const YAML::Node& node, std::string_view what) {
    if (node.IsNull()) {
        error(node, fmt::format("'{}' needs a value", what));
        return std::nullopt;
    }
    if (!node.IsScalar()) {
        error(node, fmt::format("'{}' must be a single value, not a {}", what, node.IsMap() ? "mapping" : "list"));
        return std::nullopt;
    }
    return node.Scalar();
}

std::optional<std::int64_t> Loader::integer(const YAML::Node& node, std::string_view what, std::int64_t min,
                                            std::int64_t max) {
    auto text = scalar(node, what);
    if (!text) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (text->empty() || ec != std::errc() || end != text->data() + text->size()) {
        error(node, fmt::format("'{}' must be a whole number, not '{}'", what, *text));
        return std::nullopt;
    }
    if (value < min || value > max) {
        error(node, max == std::numeric_limits<std::int64_t>::max()
                        ? fmt::format("'{}' must be at least {}, not {}", what, min, value)
                        : fmt::format("'{}' must be from {} to {}, not {}", what, min, max, value));
        return std::nullopt;
    }
    return value;
}

std::optional<bool> Loader::boolean(const YAML::Node& node, std::string_view what) {
    auto text = scalar(node, what);
    if (text && (*text == "true" || *text == "false")) {
        return *text == "true";
    }
    if (text) {
        error(node, fmt::format("'{}' must be true or false, not '{}'", what, *text));
    }
    return std::nullopt;
}

std::optional<Duration> Loader::duration(const YAML::Node& node, std::string_view what, bool allow_zero) {
    auto text = scalar(node, what);
    if (!text) {
        return std::nullopt;
    }
    auto value = parse_duration(*text);
    if (!value) {
        error(node, fmt::format("bad duration '{}' for '{}' (write e.g. 250ms, 30s, 5m, 1h30m or a number of "
                                "seconds)",
                                *text, what));
        return std::nullopt;
    }
    if (!allow_zero && value->count() == 0) {
        error(node, fmt::format("'{}' must be longer than zero", what));
        return std::nullopt;
    }
    return value;
}

std::vector<std::string> Loader::string_list(const YAML::Node& node, std::string_view what, bool allow_single) {
    std::vector<std::string> out;
    if (allow_single && node.IsScalar()) {
        out.push_back(node.Scalar());
        return out;
    }
    if (!node.IsSequence()) {
        error(node, fmt::format("'{}' must be a list", what));
        return out;
    }
    for (const auto& item : node) {
        if (auto text = scalar(item, what)) {
            out.push_back(*text);
        }
    }
    return out;
}
void Loader::load_retry_settings(const YAML::Node& node, int& retries, Backoff& backoff_value,
                                 std::optional<Duration>& timeout) {
    if (node["retries"]) {
        retries = static_cast<int>(integer(node["retries"], "retries", 0, 1000).value_or(retries));
    }
    if (node["backoff"]) {
        backoff_value = backoff(node["backoff"]).value_or(backoff_value);
    }
    if (node["timeout"]) {
        if (node["timeout"].IsScalar() && node["timeout"].Scalar() == "none") {
            timeout.reset(); // lifts a timeout set under defaults
        } else if (auto value = duration(node["timeout"], "timeout", false)) {
            timeout = value;
        }
    }
}

std::optional<Backoff> Loader::backoff(const YAML::Node& node) {
    Backoff value;
    if (!node.IsMap()) {
        auto initial = duration(node, "backoff", true);
        if (!initial) {
            return std::nullopt;
        }
        value.initial = *initial;
        value.max = std::max(value.max, value.initial);
        return value;
    }
    if (!check_map(node, "'backoff'", {"initial", "max", "factor"})) {
        return std::nullopt;
    }
    bool ok = true;
    auto set = [&](const char* key, Duration& field) {
        if (node[key]) {
            auto d = duration(node[key], key, true);
            ok = ok && d;
            field = d.value_or(field);
        }
    };
    set("initial", value.initial);
    set("max", value.max);
    if (!node["max"]) {
        value.max = std::max(value.max, value.initial); // as for a single duration: {initial: 2m} waits 2m
    }
    if (node["factor"]) {
        auto text = scalar(node["factor"], "factor");
        char* end = nullptr;
        double factor = text ? std::strtod(text->c_str(), &end) : 0;
        if (text && (text->empty() || *end != '\0' || !(factor >= 1.0 && factor <= 100.0))) {
            error(node["factor"], fmt::format("'factor' must be a number from 1 to 100, not '{}'", *text));
        }
        ok = ok && text && !text->empty() && *end == '\0' && factor >= 1.0 && factor <= 100.0;
        value.factor = factor;
    }
    if (ok && value.max < value.initial) {
        error(node, fmt::format("backoff 'max' ({}) is shorter than 'initial' ({})", format_duration(value.max),
                                format_duration(value.initial)));
        return std::nullopt;
    }
    return ok ? std::optional(value) : std::nullopt;
}

void Loader::load_env(const YAML::Node& node, std::vector<std::pair<std::string, std::string>>& env) {
    if (!node.IsMap()) {
        error(node, "'env' must be a mapping of NAME: value");
        return;
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
        auto name = scalar(entry.first, "env");
        auto value = scalar(entry.second, name.value_or("env"));
        if (!name || !value) {
            continue;
        }
        if (!is_identifier(*name)) {
            error(entry.first, fmt::format("bad environment variable name '{}' (letters, digits and '_', not "
                                           "starting with a digit)",
                                           *name));
        } else if (name->rfind("SSHARD_", 0) == 0) {
            error(entry.first, fmt::format("'{}' is set by sshard itself (names starting with SSHARD_ are "
                                           "reserved)",
                                           *name));
        } else if (!seen.insert(*name).second) {
            error(entry.first, fmt::format("duplicate key '{}' in 'env'", *name));
        } else {
            auto it = std::find_if(env.begin(), env.end(), [&](const auto& e) { return e.first == *name; });
            if (it != env.end()) {
                it->second = *value; // a job's own value overrides the default's
            } else {
                env.emplace_back(*name, *value);
            }
        }
    }
}

std::optional<std::string> Loader::workdir(const YAML::Node& node) {
    auto text = scalar(node, "workdir");
    if (text && text->empty()) {
        error(node, "'workdir' must not be empty");
        return std::nullopt;
    }
    return text;
}

void Loader::load_defaults(const YAML::Node& node, JobDefaults& defaults) {
    if (!check_map(node, "'defaults'", {"retries", "backoff", "timeout", "env", "workdir"})) {
        return;
    }
    load_retry_settings(node, defaults.retries, defaults.backoff, defaults.timeout);
    if (node["env"]) {
        load_env(node["env"], defaults.env);
    }
    if (node["workdir"]) {
        defaults.workdir = workdir(node["workdir"]).value_or("");
    }
}

void Loader::add_hosts(const YAML::Node& node, std::vector<HostSpec> more, std::vector<HostSpec>& hosts) {
    for (auto& host : more) {
        auto same = [&](const HostSpec& h) { return h.name == host.name; };
        if (std::any_of(hosts.begin(), hosts.end(), same)) {
            error(node, fmt::format("duplicate host '{}' (each host may be listed once; use an alias in your "
                                    "ssh config to reach one machine twice)",
                                    host.name));
            return;
        }
        hosts.push_back(std::move(host));
    }
}

void Loader::load_hosts(const YAML::Node& node, std::vector<HostSpec>& hosts) {
    if (!node.IsSequence()) {
        error(node, "'hosts' must be a list of host strings or mappings");
        return;
    }
    for (const auto& entry : node) {
        if (entry.IsMap()) {
            load_host_map(entry, hosts);
            continue;
        }
        auto text = scalar(entry, "hosts");
        if (!text) {
            continue;
        }
        try {
            add_hosts(entry, parse_host_string(*text), hosts);
        } catch (const HostlistError& e) {
            error(entry, e.what());
        }
    }
}

void Loader::load_host_map(const YAML::Node& node, std::vector<HostSpec>& hosts) {
    if (!check_map(node, "a host", {"name", "user", "port", "slots", "priority", "labels", "transport"})) {
        return;
    }
    if (!node["name"]) {
        error(node, "a host needs a 'name'");
        return;
    }
    HostSpec base;
    if (node["user"]) {
        base.user = scalar(node["user"], "user").value_or("");
        if (base.user.empty() && node["user"].IsScalar()) {
            error(node["user"], "'user' must not be empty (leave it out to take ssh_config's)");
        }
    }
    if (node["port"]) {
        base.port = static_cast<int>(integer(node["port"], "port", 1, 65535).value_or(0));
    }
    if (const auto& slots = node["slots"]; slots && slots.IsScalar() && slots.Scalar() == "auto") {
        base.auto_slots = true;
    } else if (slots) {
        base.slots = static_cast<int>(integer(slots, "slots", 1, 100000).value_or(1));
    }
    if (node["priority"]) {
        base.priority = static_cast<int>(integer(node["priority"], "priority", -1000000, 1000000).value_or(0));
    }
    if (node["labels"]) {
        base.labels = string_list(node["labels"], "labels", false);
    }
    if (const auto& transport = node["transport"]) {
        auto text = scalar(transport, "transport");
        if (text == "local") {
            base.transport = TransportKind::local;
        } else if (text && text != "ssh") {
            error(transport, fmt::format("unknown transport '{}' (use 'ssh' or 'local')", *text));
        }
    }
    if (base.auto_slots && base.transport == TransportKind::local) {
        base.slots = std::max(1, m_options.local_cpus);
    }
    auto name = scalar(node["name"], "name");
    if (!name) {
        return;
    }
    try {
        std::vector<HostSpec> more;
        for (auto& expanded : expand_hostlist(*name, 100000)) {
            more.push_back(base);
            more.back().name = std::move(expanded);
        }
        add_hosts(node["name"], std::move(more), hosts);
    } catch (const HostlistError& e) {
        error(node["name"], e.what());
    }
}
std::optional<ShardsSpec> Loader::shards(const YAML::Node& node, const std::string& job) {
    static const std::vector<std::string> kinds = {"count", "range", "items", "lines", "matrix"};
    if (!check_map(node, "'shards'", kinds)) {
        return std::nullopt;
    }
    std::vector<std::string> found;
    for (const auto& entry : node) {
        if (entry.first.IsScalar() && std::find(kinds.begin(), kinds.end(), entry.first.Scalar()) != kinds.end()) {
            found.push_back(entry.first.Scalar());
        }
    }
    if (found.size() != 1) {
        error(node, found.empty() ? "'shards' needs one of 'count', 'range', 'items', 'lines', 'matrix'"
                                  : fmt::format("'shards' takes exactly one of 'count', 'range', 'items', "
                                                "'lines', 'matrix', not {}",
                                                join_quoted(found)));
        return std::nullopt;
    }
    const YAML::Node value = node[found[0]];
    if (found[0] == "count") {
        auto count = integer(value, "count", 0, static_cast<std::int64_t>(k_max_shards));
        return count ? std::optional<ShardsSpec>(CountShards{static_cast<std::uint64_t>(*count)}) : std::nullopt;
    }
    if (found[0] == "range") {
        return range_shards(value);
    }
    if (found[0] == "items") {
        auto items = string_list(value, "items", false);
        return value.IsSequence() ? std::optional<ShardsSpec>(ItemsShards{std::move(items)}) : std::nullopt;
    }
    return found[0] == "lines" ? lines_shards(value, job) : matrix_shards(value);
}

std::optional<ShardsSpec> Loader::range_shards(const YAML::Node& node) {
    if (!check_map(node, "'range'", {"from", "to", "chunk"})) {
        return std::nullopt;
    }
    constexpr std::int64_t limit = 1'000'000'000'000'000;
    if (!node["from"] || !node["to"]) {
        error(node, "'range' needs 'from' and 'to' (and optionally 'chunk')");
        return std::nullopt;
    }
    auto from = integer(node["from"], "from", -limit, limit);
    auto to = integer(node["to"], "to", -limit, limit);
    auto chunk = node["chunk"] ? integer(node["chunk"], "chunk", 1, limit) : std::optional<std::int64_t>(1);
    if (!from || !to || !chunk) {
        return std::nullopt;
    }
    if (*to < *from) {
        error(node["to"], fmt::format("range 'to' ({}) is below 'from' ({})", *to, *from));
        return std::nullopt;
    }
    RangeShards range{*from, *to, *chunk};
    if (shard_count(range) > k_max_shards) {
        error(node, fmt::format("range yields {} shards, more than the limit of {}", shard_count(range), k_max_shards));
        return std::nullopt;
    }
    return range;
}

std::optional<ShardsSpec> Loader::lines_shards(const YAML::Node& node, const std::string& job) {
    auto path = scalar(node, "lines");
    if (!path) {
        return std::nullopt;
    }
    namespace fs = std::filesystem;
    fs::path full = fs::path(*path).is_absolute() ? fs::path(*path) : fs::path(m_path).parent_path() / *path;
    if (!m_options.lines_dir.empty()) {
        full = fs::path(m_options.lines_dir) / (job + ".lines");
    }
    std::ifstream in(full, std::ios::binary);
    std::error_code ec;
    if (!in || fs::is_directory(full, ec)) {
        error(node, fmt::format("cannot read lines file '{}': {}", full.string(),
                                in ? "is a directory" : std::strerror(errno)));
        return std::nullopt;
    }
    LinesShards lines{*path, {}};
    auto keep = [&lines](std::string_view line) {
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.find_first_not_of(" \t") != std::string_view::npos) {
            lines.lines.emplace_back(line);
        }
    };
    // Read in blocks rather than by getline, which would follow a file without line breaks without bound.
    std::string pending;
    std::size_t total = 0;
    std::size_t line_number = 1;
    char block[65536];
    while (in.read(block, sizeof block) || in.gcount() > 0) {
        total += static_cast<std::size_t>(in.gcount());
        if (total > k_max_lines_bytes) {
            error(node, fmt::format("lines file '{}' is larger than {} MiB", full.string(), k_max_lines_bytes >> 20));
            return std::nullopt;
        }
        pending.append(block, static_cast<std::size_t>(in.gcount()));
        std::size_t start = 0;
        for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n', start)) {
            keep(std::string_view(pending).substr(start, end - start));
            start = end + 1;
            ++line_number;
        }
        pending.erase(0, start);
        if (pending.size() > k_max_line_bytes) {
            error(node, fmt::format("line {} of lines file '{}' is longer than {} MiB", line_number, full.string(),
                                    k_max_line_bytes >> 20));
            return std::nullopt;
        }
    }
    keep(pending);
    return lines;
}

std::optional<ShardsSpec> Loader::matrix_shards(const YAML::Node& node) {
    if (!node.IsMap() || node.size() == 0) {
        error(node, "'matrix' must be a mapping of names to lists of values");
        return std::nullopt;
    }
    static const std::vector<std::string> reserved = {"index", "count", "item",    "start",
                                                      "end",   "job",   "attempt", "host"};
    MatrixShards matrix;
    std::uint64_t combinations = 1;
    bool ok = true;
    for (const auto& entry : node) {
        auto key = scalar(entry.first, "matrix");
        if (!key) {
            ok = false;
            continue;
        }
        if (!is_identifier(*key) || std::find(reserved.begin(), reserved.end(), *key) != reserved.end()) {
            error(entry.first, is_identifier(*key)
                                   ? fmt::format("matrix key '{}' would hide the placeholder {{{}}}", *key, *key)
                                   : fmt::format("bad matrix key '{}' (letters, digits and '_', not starting "
                                                 "with a digit)",
                                                 *key));
            ok = false;
        } else if (std::any_of(matrix.axes.begin(), matrix.axes.end(), [&](auto& a) { return a.first == *key; })) {
            error(entry.first, fmt::format("duplicate key '{}' in 'matrix'", *key));
            ok = false;
        }
        auto values = string_list(entry.second, *key, false);
        if (entry.second.IsSequence() && values.empty()) {
            error(entry.second, fmt::format("matrix key '{}' needs at least one value", *key));
            ok = false;
        }
        if (!values.empty()) {
            // Saturate instead of overflowing: anything above the limit is an error anyway.
            combinations =
                values.size() > (k_max_shards + 1) / combinations ? k_max_shards + 1 : combinations * values.size();
        }
        matrix.axes.emplace_back(*key, std::move(values));
    }
    if (ok && combinations > k_max_shards) {
        error(node, fmt::format("matrix yields more than the limit of {} shards", k_max_shards));
        ok = false;
    }
    return ok ? std::optional<ShardsSpec>(std::move(matrix)) : std::nullopt;
}

std::optional<HostFilter> Loader::host_filter(const YAML::Node& node) {
    HostFilter filter;
    if (node.IsMap()) {
        if (!check_map(node, "a job's 'hosts'", {"names", "labels"})) {
            return std::nullopt;
        }
        if (node["names"]) {
            filter.patterns = string_list(node["names"], "names", true);
        }
        if (node["labels"]) {
            filter.labels = string_list(node["labels"], "labels", true);
        }
    } else {
        filter.patterns = string_list(node, "hosts", true);
    }
    for (const auto& pattern : filter.patterns) {
        try {
            expand_hostlist(pattern, 100000);
        } catch (const HostlistError& e) {
            error(node, e.what());
            return std::nullopt;
        }
    }
    return filter;
}
std::optional<JobSpec> Loader::load_job(const YAML::Node& node, const JobDefaults& defaults) {
    if (!check_map(node, "a job",
                   {"name", "command", "shards", "priority", "retries", "backoff", "timeout", "env", "workdir", "needs",
                    "hosts", "detach"})) {
        return std::nullopt;
    }
    JobSpec job;
    bool shards_ok = true;
    job.location = where(node);
    job.retries = defaults.retries;
    job.backoff = defaults.backoff;
    job.timeout = defaults.timeout;
    job.env = defaults.env;
    job.workdir = defaults.workdir;
    auto name = node["name"] ? scalar(node["name"], "name") : std::nullopt;
    if (!node["name"]) {
        error(node, "a job needs a 'name'");
    } else if (name && !is_safe_name(*name)) {
        error(node["name"], fmt::format("bad job name '{}' (letters, digits, '.', '_' and '-', not starting "
                                        "with '.', at most 100)",
                                        *name));
        name.reset();
    }
    job.name = name.value_or("");
    if (node["shards"]) {
        auto parsed = shards(node["shards"], job.name);
        // With shards in error, the placeholders they would define are unknown: do not report those too.
        shards_ok = parsed.has_value();
        job.shards = parsed.value_or(CountShards{0});
    }
    if (node["priority"]) {
        job.priority = static_cast<int>(integer(node["priority"], "priority", -1000000, 1000000).value_or(0));
    }
    load_retry_settings(node, job.retries, job.backoff, job.timeout);
    if (node["env"]) {
        load_env(node["env"], job.env);
    }
    if (node["workdir"]) {
        job.workdir = workdir(node["workdir"]).value_or(job.workdir);
    }
    if (node["needs"]) {
        job.needs = string_list(node["needs"], "needs", true);
    }
    if (node["detach"]) {
        job.detach = boolean(node["detach"], "detach").value_or(false);
    }
    if (node["hosts"]) {
        job.hosts = host_filter(node["hosts"]);
        m_filter_nodes.emplace(job.name, node["hosts"]);
    }
    load_command(node, job, shards_ok);
    return name ? std::optional(std::move(job)) : std::nullopt;
}

void Loader::load_command(const YAML::Node& node, JobSpec& job, bool check_names) {
    if (!node["command"]) {
        error(node, "a job needs a 'command'");
        return;
    }
    const YAML::Node command = node["command"];
    auto text = scalar(command, "command");
    if (!text) {
        return;
    }
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
        error(command, "'command' must not be empty");
        return;
    }
    std::vector<CommandTemplate::Problem> problems;
    job.command = CommandTemplate::parse(*text, problems);
    for (const auto& problem : problems) {
        m_diag.error(offset_location(command, problem.offset), problem.message);
    }
    if (problems.empty() && check_names) {
        for (const auto& problem : check_command_values(job, *m_hosts)) {
            m_diag.error(offset_location(command, problem.offset), problem.message);
        }
    }
}

// Where byte `offset` of a scalar's value is in the file. The value is found line by line in the source: a block
// scalar's after its header line, a plain or quoted one's from its column; each later line without its
// indentation, the value skipping the blanks and line breaks YAML folds or keeps between lines. Where the text
// differs (escapes), the search stops and the value's start stands for the rest.
SourceLocation Loader::offset_location(const YAML::Node& node, std::size_t offset) const {
    SourceLocation start = where(node);
    const std::string& value = node.Scalar();
    std::string_view first = m_diag.line(start.line);
    std::size_t column = static_cast<std::size_t>(std::max(0, start.column - 1));
    int number = start.line;
    if (column < first.size() && (first[column] == '|' || first[column] == '>')) {
        ++number;
        column = std::string::npos;
    } else if (column < first.size() && (first[column] == '"' || first[column] == '\'')) {
        ++column;
    }
    for (std::size_t pos = 0; number <= m_diag.line_count() && pos < value.size(); ++number) {
        std::string_view line = m_diag.line(number);
        std::size_t from = std::min(column != std::string::npos ? column : line.find_first_not_of(" \t"), line.size());
        column = std::string::npos;
        std::string_view text = line.substr(from);
        if (text.empty()) {
            continue;
        }
        while (pos < value.size() && std::string_view(" \t\n").find(value[pos]) != std::string_view::npos &&
               value.compare(pos, text.size(), text) != 0) {
            ++pos;
        }
        std::size_t same = 0;
        while (same < text.size() && pos + same < value.size() && text[same] == value[pos + same]) {
            ++same;
        }
        if (same == 0) {
            break;
        }
        if (offset >= pos && offset < pos + same) {
            return {number, static_cast<int>(from + offset - pos) + 1};
        }
        pos += same;
    }
    return start;
}

void Loader::load_jobs(const YAML::Node& node, const JobDefaults& defaults, Spec& spec) {
    if (!node.IsSequence()) {
        error(node, "'jobs' must be a list of jobs");
        return;
    }
    if (node.size() == 0) {
        error(node, "'jobs' is empty: there is nothing to run");
    }
    for (const auto& entry : node) {
        auto job = load_job(entry, defaults);
        if (!job) {
            continue;
        }
        if (m_job_nodes.count(job->name) != 0) {
            error(entry["name"], fmt::format("duplicate job name '{}' (first defined at line {})", job->name,
                                             where(m_job_nodes.at(job->name)).line));
            continue;
        }
        m_job_nodes.emplace(job->name, YAML::Node(entry));
        spec.jobs.push_back(std::move(*job));
    }
}
// Reports unknown and self needs, then every cycle once, naming its path.
void Loader::check_needs(const Spec& spec) {
    std::map<std::string, const JobSpec*> by_name;
    std::vector<std::string> names;
    for (const auto& job : spec.jobs) {
        by_name[job.name] = &job;
        names.push_back(job.name);
    }
    bool all_known = true;
    for (const auto& job : spec.jobs) {
        const YAML::Node node = m_job_nodes.at(job.name)["needs"];
        for (const auto& need : job.needs) {
            if (by_name.count(need) == 0) {
                std::string hint = closest_match(need, names);
                error(node, hint.empty() ? fmt::format("job '{}' needs unknown job '{}'", job.name, need)
                                         : fmt::format("job '{}' needs unknown job '{}' (did you mean '{}'?)", job.name,
                                                       need, hint));
                all_known = false;
            }
        }
    }
    if (!all_known) {
        return;
    }
    // Depth-first search with colours; a grey node reached again closes a cycle.
    std::map<std::string, int> colour;
    std::vector<std::string> path;
    std::function<void(const JobSpec&)> visit = [&](const JobSpec& job) {
        colour[job.name] = 1;
        path.push_back(job.name);
        for (const auto& need : job.needs) {
            if (colour[need] == 1) {
                auto first = std::find(path.begin(), path.end(), need);
                std::string cycle;
                for (auto it = first; it != path.end(); ++it) {
                    cycle += *it + " -> ";
                }
                error(m_job_nodes.at(job.name)["needs"], fmt::format("'needs' forms a cycle: {}{}", cycle, need));
            } else if (colour[need] == 0) {
                visit(*by_name[need]);
            }
        }
        path.pop_back();
        colour[job.name] = 2;
    };
    for (const auto& job : spec.jobs) {
        if (colour[job.name] == 0) {
            visit(job);
        }
    }
}

void Loader::check_host_filters(const Spec& spec) {
    for (const auto& job : spec.jobs) {
        if (!job.hosts) {
            continue;
        }
        try {
            if (filter_hosts(spec.hosts, *job.hosts).empty()) {
                error(m_filter_nodes.at(job.name), fmt::format("job '{}' matches no host", job.name));
            }
        } catch (const HostlistError&) {
            // Already reported where the filter was read.
        }
    }
}

Spec Loader::load() {
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
    check_map(root, "the spec", {"version", "name", "defaults", "hosts", "jobs"});
    if (!root["version"]) {
        m_diag.error({1, 1}, "missing 'version: 1' (the spec format's version)");
    } else if (auto version = integer(root["version"], "version", 1, std::numeric_limits<std::int64_t>::max());
               version && *version != 1) {
        error(root["version"], fmt::format("unsupported spec version {} (this sshard reads version 1)", *version));
    }
    if (root["name"]) {
        auto name = scalar(root["name"], "name");
        if (name && !is_safe_name(*name)) {
            error(root["name"], fmt::format("bad run name '{}' (letters, digits, '.', '_' and '-', not starting "
                                            "with '.', at most 100)",
                                            *name));
        }
        spec.name = name.value_or(spec.name);
    }
    JobDefaults defaults;
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
}

void Loader::load_all_hosts(const YAML::Node& root, Spec& spec) {
    bool replaced = m_options.hosts_override || m_options.hostfile;
    if (root["hosts"] && !replaced) {
        load_hosts(root["hosts"], spec.hosts);
    }
    if (m_options.hostfile) {
        spec.hosts = read_host_file(*m_options.hostfile);
    } else if (m_options.hosts_override) {
        try {
            spec.hosts = parse_host_list(*m_options.hosts_override);
        } catch (const HostlistError& e) {
            throw UsageError(fmt::format("bad --hosts value '{}': {}", *m_options.hosts_override, e.what()));
        }
    }
    if (spec.hosts.empty() && !root["hosts"] && !replaced) {
        HostSpec local;
        local.name = "localhost";
        local.slots = std::max(1, m_options.local_cpus);
        local.transport = TransportKind::local;
        spec.hosts.push_back(local);
    } else if (spec.hosts.empty() && m_diag.empty()) {
        m_diag.error(where(root["hosts"]), "'hosts' is empty: there is nowhere to run");
    }
}

} // namespace

Spec load_spec_text(const std::string& path, const std::string& text, const LoadOptions& options) {
    return Loader(path, text, options).load();
}

std::string read_spec_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(path, ec)) {
        throw UsageError(fmt::format("cannot read spec '{}': {}", path, in ? "is a directory" : std::strerror(errno)));
    }
    std::string text;
    char block[65536];
    while (text.size() <= k_max_spec_bytes && (in.read(block, sizeof block) || in.gcount() > 0)) {
        text.append(block, static_cast<std::size_t>(in.gcount()));
    }
    if (text.size() > k_max_spec_bytes) {
        throw UsageError(fmt::format("spec '{}' is larger than {} MiB: put long lists of shards in a 'lines' file",
                                     path, k_max_spec_bytes >> 20));
    }
    return text;
}

int local_cpu_count() {
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

Spec load_spec(const std::string& path, const LoadOptions& options) {
    return load_spec_text(path, read_spec_file(path), options);
}

} // namespace sshard::core
