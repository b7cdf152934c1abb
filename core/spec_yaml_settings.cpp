// A job's settings, as `defaults` gives them and a job overrides them.
#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <set>

#include "core/names.hpp"
#include "core/spec_limits.hpp"
#include "core/spec_yaml.hpp"

namespace sshard::core {

namespace {

// A backoff's `factor`: a number from 1 to 100.
std::optional<double> read_factor(YamlReader& yaml, const YAML::Node& node) {
    auto text = yaml.scalar(node, "factor");
    if (!text) {
        return std::nullopt;
    }
    char* end = nullptr;
    double factor = std::strtod(text->c_str(), &end);
    if (text->empty() || *end != '\0' || !(factor >= 1.0 && factor <= 100.0)) {
        yaml.error(node, fmt::format("'factor' must be a number from 1 to 100, not '{}'", *text));
        return std::nullopt;
    }
    return factor;
}

// `backoff`: one duration (the first wait), or a mapping of `initial`, `max` and `factor`.
std::optional<Backoff> read_backoff(YamlReader& yaml, const YAML::Node& node) {
    Backoff value;
    if (!node.IsMap()) {
        auto initial = yaml.duration(node, "backoff", true);
        if (!initial) {
            return std::nullopt;
        }
        value.initial = *initial;
        value.max = std::max(value.max, value.initial);
        return value;
    }
    if (!yaml.check_map(node, "'backoff'", {"initial", "max", "factor"})) {
        return std::nullopt;
    }
    bool ok = true;
    auto set = [&](const char* key, Duration& field) {
        if (node[key]) {
            auto d = yaml.duration(node[key], key, true);
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
        auto factor = read_factor(yaml, node["factor"]);
        ok = ok && factor;
        value.factor = factor.value_or(value.factor);
    }
    if (ok && value.max < value.initial) {
        yaml.error(node, fmt::format("backoff 'max' ({}) is shorter than 'initial' ({})", format_duration(value.max),
                                     format_duration(value.initial)));
        return std::nullopt;
    }
    return ok ? std::optional(value) : std::nullopt;
}

void read_env(YamlReader& yaml, const YAML::Node& node, std::vector<std::pair<std::string, std::string>>& env) {
    if (!node.IsMap()) {
        yaml.error(node, "'env' must be a mapping of NAME: value");
        return;
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
        auto name = yaml.scalar(entry.first, "env");
        auto value = yaml.scalar(entry.second, name.value_or("env"));
        if (!name || !value) {
            continue;
        }
        if (!is_identifier(*name)) {
            yaml.error(entry.first, fmt::format("bad environment variable name '{}' (letters, digits and '_', not "
                                                "starting with a digit)",
                                                *name));
        } else if (name->rfind("SSHARD_", 0) == 0) {
            yaml.error(entry.first, fmt::format("'{}' is set by sshard itself (names starting with SSHARD_ are "
                                                "reserved)",
                                                *name));
        } else if (!seen.insert(*name).second) {
            yaml.error(entry.first, fmt::format("duplicate key '{}' in 'env'", *name));
        } else {
            set_env(env, *name, *value);
        }
    }
}

// `pass_env`: names whose values sshard's own environment gives, set like `env` entries; a name that is not set
// there is an error, as is one that this mapping's `env` also sets.
void read_pass_env(YamlReader& yaml, const YAML::Node& node, const std::set<std::string>& own_env,
                   std::vector<std::pair<std::string, std::string>>& env) {
    if (!node.IsSequence()) {
        yaml.error(node, "'pass_env' must be a list of names");
        return;
    }
    for (const auto& item : node) {
        auto name = yaml.scalar(item, "pass_env");
        if (!name) {
            continue;
        }
        std::string problem = pass_env_problem(*name);
        if (problem.empty() && own_env.count(*name) != 0) {
            problem = fmt::format("'{}' is in both 'env' and 'pass_env'", *name);
        }
        if (!problem.empty()) {
            yaml.error(item, problem);
            continue;
        }
        set_env(env, *name, std::getenv(name->c_str()));
    }
}

std::optional<std::string> read_workdir(YamlReader& yaml, const YAML::Node& node) {
    auto text = yaml.scalar(node, "workdir");
    if (text && text->empty()) {
        yaml.error(node, "'workdir' must not be empty");
        return std::nullopt;
    }
    return text;
}

// `shell`: a program name (found in the host's PATH) or an absolute path; a relative path would depend on the
// directory the shard starts in.
std::optional<std::string> read_shell(YamlReader& yaml, const YAML::Node& node) {
    auto text = yaml.scalar(node, "shell");
    if (text && (text->empty() || (text->front() != '/' && text->find('/') != std::string::npos) ||
                 text->find_first_of(std::string_view("\0\n", 2)) != std::string::npos)) {
        yaml.error(node, fmt::format("bad shell '{}' (a name found in the host's PATH, such as bash, or an "
                                     "absolute path)",
                                     *text));
        return std::nullopt;
    }
    return text;
}

void read_retry_settings(YamlReader& yaml, const YAML::Node& node, int& retries, Backoff& backoff_value,
                         std::optional<Duration>& timeout) {
    if (node["retries"]) {
        retries = static_cast<int>(yaml.integer(node["retries"], "retries", 0, k_max_retries).value_or(retries));
    }
    if (node["backoff"]) {
        backoff_value = read_backoff(yaml, node["backoff"]).value_or(backoff_value);
    }
    if (node["timeout"]) {
        if (node["timeout"].IsScalar() && node["timeout"].Scalar() == "none") {
            timeout.reset(); // lifts a timeout set under defaults
        } else if (auto value = yaml.duration(node["timeout"], "timeout", false)) {
            timeout = value;
        }
    }
}

} // namespace

void set_env(std::vector<std::pair<std::string, std::string>>& env, const std::string& name, std::string value) {
    auto it = std::find_if(env.begin(), env.end(), [&](const auto& e) { return e.first == name; });
    if (it != env.end()) {
        it->second = std::move(value);
    } else {
        env.emplace_back(name, std::move(value));
    }
}

std::string pass_env_problem(const std::string& name) {
    if (!is_identifier(name)) {
        return fmt::format("bad environment variable name '{}' (letters, digits and '_', not starting with a digit)",
                           name);
    }
    if (name.rfind("SSHARD_", 0) == 0) {
        return fmt::format("'{}' is set by sshard itself (names starting with SSHARD_ are reserved)", name);
    }
    if (std::getenv(name.c_str()) == nullptr) {
        return fmt::format("'{}' is not set in sshard's environment, so it cannot be passed on", name);
    }
    return "";
}

void read_job_settings(YamlReader& yaml, const YAML::Node& node, JobSettings& settings) {
    read_retry_settings(yaml, node, settings.retries, settings.backoff, settings.timeout);
    if (node["env"]) {
        read_env(yaml, node["env"], settings.env);
    }
    if (node["pass_env"]) {
        std::set<std::string> own_env;
        for (const auto& entry : node["env"] && node["env"].IsMap() ? node["env"] : YAML::Node(YAML::NodeType::Map)) {
            own_env.insert(entry.first.IsScalar() ? entry.first.Scalar() : "");
        }
        read_pass_env(yaml, node["pass_env"], own_env, settings.env);
    }
    if (node["workdir"]) {
        settings.workdir = read_workdir(yaml, node["workdir"]).value_or(settings.workdir);
    }
    if (node["shell"]) {
        settings.shell = read_shell(yaml, node["shell"]).value_or(settings.shell);
    }
    if (node["cpus"]) {
        settings.cpus = static_cast<int>(yaml.integer(node["cpus"], "cpus", 1, k_max_slots).value_or(settings.cpus));
    }
    if (auto memory = node["memory"] ? yaml.byte_size(node["memory"], "memory") : std::nullopt) {
        settings.memory = memory;
    }
}

} // namespace sshard::core
