// The sections of a spec that the loader (spec_loader.cpp) hands to files of their own: a job's settings, the
// hosts, and the shards. Each reads through a YamlReader, reports every problem it finds there, and returns what
// it could read. Private to the spec loader's files, like yaml_reader.hpp.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/spec.hpp"
#include "core/yaml_reader.hpp"

namespace sshard::core {

// The settings `defaults` gives every job and a job may override.
struct JobSettings {
    int retries = 0;
    Backoff backoff;
    std::optional<Duration> timeout;
    std::vector<std::pair<std::string, std::string>> env;
    std::string workdir;
    std::string shell;
    int cpus = 1;
    std::optional<std::uint64_t> memory;
};

// Reads `retries`, `backoff`, `timeout`, `env`, `pass_env`, `workdir`, `shell`, `cpus` and `memory` from mapping
// `node` where present, over `settings`: `timeout: none` lifts a timeout, and env entries (pass_env's with sshard's
// own values) override those of the same name.
void read_job_settings(YamlReader& yaml, const YAML::Node& node, JobSettings& settings);

// Sets `name` to `value` in `env`, replacing an entry of that name (a job's own value overrides the default's).
void set_env(std::vector<std::pair<std::string, std::string>>& env, const std::string& name, std::string value);

// Why `name` cannot be passed from sshard's environment to the shards (a bad or reserved name, or one not set
// there); "" when it can.
std::string pass_env_problem(const std::string& name);

// Appends the hosts of the spec's `hosts` list to `hosts`: strings (core/hosts.hpp) and mappings, each name
// pattern expanded; a name listed twice is an error. `local_cpus` gives `slots: auto` on local hosts.
void read_hosts(YamlReader& yaml, const YAML::Node& node, int local_cpus, std::vector<HostSpec>& hosts);

// A host's hold-back limits, `max_load` and `min_free_memory`, from mapping `node` where present, over `host`.
void read_host_limits(YamlReader& yaml, const YAML::Node& node, HostSpec& host);

// A job's `hosts`: name patterns, or a mapping of `names` and `labels`.
std::optional<HostFilter> read_host_filter(YamlReader& yaml, const YAML::Node& node);

// A job's `shards`: `each_host` (its hosts left empty for the caller), or a mapping of exactly one of count,
// range, items, lines, matrix, within k_max_shards. `lines_file` gives
// the path to read for a `lines` value.
std::optional<ShardsSpec> read_shards(YamlReader& yaml, const YAML::Node& node,
                                      const std::function<std::string(const std::string&)>& lines_file);

// Where a stage entry of the spec writes: its job's workdir and the entry.
struct StagePlace {
    std::string job;
    std::string workdir;
    StageSpec entry;
};

// Job `job`'s `stage`: a list of {from, to, mode}; `from` is taken from `spec_dir` when relative and must exist
// here as a file or a tree without links. An entry that writes where another entry of `places` (the spec's
// earlier ones, same workdir) writes something else, or inside it, is reported: the two would replace each
// other's files on every host. Adds its entries to `places`.
std::vector<StageSpec> read_stage(YamlReader& yaml, const YAML::Node& node, const std::string& spec_dir,
                                  const JobSpec& job, std::vector<StagePlace>& places);

// What job `job`'s `collect` paths may be.
struct CollectRules {
    std::string job;
    std::vector<std::string> placeholders; // the names its paths may hold
    // The placeholders whose value differs between its shards; empty for a job of one shard.
    std::vector<std::string> per_shard;
    // Each `to` without {job} of the entries read so far, with its job's name.
    std::map<std::string, std::string>* taken = nullptr;
};

// A job's `collect`: a list of {from, to, optional}, whose paths may hold `rules.placeholders`. Unless the job
// has one shard, each `to` must hold one of `rules.per_shard`, and no two entries of the spec may have the same
// `to` without {job}: either would have one shard's file replace another's. Adds to `rules.taken`.
std::vector<CollectSpec> read_collect(YamlReader& yaml, const YAML::Node& node, const CollectRules& rules);

} // namespace sshard::core
