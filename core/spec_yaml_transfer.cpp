// A job's `stage` and `collect` lists. Every path is checked at load: a stage's source must exist here and hold no
// link, and no destination may leave its directory, so a run never starts with a transfer that cannot be made.
#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

#include "core/error.hpp"
#include "core/spec_yaml.hpp"
#include "core/transfer_paths.hpp"

namespace sshard::core {

namespace {

std::optional<std::string> relative_path(YamlReader& yaml, const YAML::Node& node, std::string_view what) {
    auto text = yaml.scalar(node, what);
    if (!text) {
        return std::nullopt;
    }
    auto normal = normal_relative_path(*text);
    if (!normal) {
        yaml.error(node, fmt::format("'{}' must be a relative path that stays inside its directory (no '..', not "
                                     "absolute), not '{}'",
                                     what, *text));
    }
    return normal;
}

std::optional<unsigned> file_mode(YamlReader& yaml, const YAML::Node& node) {
    auto text = yaml.scalar(node, "mode");
    if (!text) {
        return std::nullopt;
    }
    bool octal = !text->empty() && text->size() <= 5 &&
                 std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '7'; });
    if (!octal) {
        yaml.error(node, fmt::format("'mode' must be octal permission bits such as \"0755\", not '{}'", *text));
        return std::nullopt;
    }
    return static_cast<unsigned>(std::stoul(*text, nullptr, 8) & 07777);
}

// Whether staging to `a` and to `b` (in one workdir) writes the same files: one is the other or inside it.
bool stage_overlaps(const std::string& a, const std::string& b) {
    return a == b || b.starts_with(a + "/") || a.starts_with(b + "/");
}

// Reports entry `stage` of `job` when an earlier entry of `places` writes to where it does, unless it is the
// same entry (a job that stages the same content to the same place shares the stage).
bool stage_place_free(YamlReader& yaml, const YAML::Node& node, const StageSpec& stage, const JobSpec& job,
                      const std::vector<StagePlace>& places) {
    for (const auto& place : places) {
        const StageSpec& other = place.entry;
        bool same = other.source == stage.source && other.to == stage.to && other.mode == stage.mode;
        if (place.workdir == job.workdir && !same && stage_overlaps(other.to, stage.to)) {
            yaml.error(node, fmt::format("'to' '{}' is where job '{}' stages '{}' to '{}' too: two stage entries "
                                         "must not write to one place",
                                         stage.to, place.job, other.from, other.to));
            return false;
        }
    }
    return true;
}

std::optional<StageSpec> read_stage_entry(YamlReader& yaml, const YAML::Node& node, const std::string& spec_dir) {
    if (!yaml.check_map(node, "a 'stage' entry", {"from", "to", "mode"})) {
        return std::nullopt;
    }
    if (!node["from"] || !node["to"]) {
        yaml.error(node, "a 'stage' entry needs 'from' (a local file or directory) and 'to' (where on the host)");
        return std::nullopt;
    }
    StageSpec stage;
    auto from = yaml.scalar(node["from"], "from");
    auto to = relative_path(yaml, node["to"], "to");
    if (node["mode"]) {
        stage.mode = file_mode(yaml, node["mode"]);
    }
    if (!from || !to) {
        return std::nullopt;
    }
    namespace fs = std::filesystem;
    stage.from = *from;
    stage.source = fs::absolute(fs::path(spec_dir) / *from).lexically_normal().string();
    stage.to = *to;
    try {
        scan_stage_tree(stage.source);
    } catch (const Error& e) {
        yaml.error(node["from"], e.what());
        return std::nullopt;
    }
    return stage;
}

// Whether collect destination `to` is one the run may write: not one of the run's own files, in a job of
// several shards one of its own for each shard, and no other entry's. Reports it when not.
bool collect_destination_ok(YamlReader& yaml, const YAML::Node& node, const std::string& to,
                            const CollectRules& rules) {
    if (!collect_destination(to)) {
        yaml.error(node, fmt::format("'to' must not replace the run's own files (spec.yaml, journal.jsonl, lock, "
                                     "out/, inputs/), not '{}'",
                                     to));
        return false;
    }
    auto names = path_placeholders(to);
    bool differs = std::any_of(names.begin(), names.end(), [&](const std::string& name) {
        return std::find(rules.per_shard.begin(), rules.per_shard.end(), name) != rules.per_shard.end();
    });
    if (!rules.per_shard.empty() && !differs) {
        yaml.error(node, fmt::format("'to' '{}' is one file for every shard of the job, each replacing the last: "
                                     "put a placeholder such as {{index}} in it",
                                     to));
        return false;
    }
    if (std::find(names.begin(), names.end(), "job") != names.end()) {
        return true;
    }
    auto [taken, fresh] = rules.taken->emplace(to, rules.job);
    if (!fresh) {
        yaml.error(node, fmt::format("'to' '{}' is where another entry of job '{}' collects too, one file replacing "
                                     "the other: put {{job}} or another name in it",
                                     to, taken->second));
    }
    return fresh;
}

std::optional<CollectSpec> read_collect_entry(YamlReader& yaml, const YAML::Node& node, const CollectRules& rules) {
    if (!yaml.check_map(node, "a 'collect' entry", {"from", "to", "optional"})) {
        return std::nullopt;
    }
    if (!node["from"] || !node["to"]) {
        yaml.error(node, "a 'collect' entry needs 'from' (on the host) and 'to' (in the run directory)");
        return std::nullopt;
    }
    CollectSpec collect;
    bool ok = true;
    for (const char* key : {"from", "to"}) {
        auto path = relative_path(yaml, node[key], key);
        ok = ok && path;
        for (const auto& name : path ? path_placeholders(*path) : std::vector<std::string>{}) {
            if (std::find(rules.placeholders.begin(), rules.placeholders.end(), name) == rules.placeholders.end()) {
                yaml.error(node[key], fmt::format("unknown placeholder '{{{}}}' in '{}'", name, key));
                ok = false;
            }
        }
        if (path && key[0] == 't' && !collect_destination_ok(yaml, node[key], *path, rules)) {
            ok = false;
        }
        (key[0] == 'f' ? collect.from : collect.to) = path.value_or("");
    }
    if (node["optional"]) {
        collect.optional = yaml.boolean(node["optional"], "optional").value_or(false);
    }
    return ok ? std::optional(collect) : std::nullopt;
}

// The entries of list `node` (`what` names it) that `read_entry` could read; each problem is reported.
template <class Entry, class Read>
std::vector<Entry> read_list(YamlReader& yaml, const YAML::Node& node, const char* what, const Read& read_entry) {
    std::vector<Entry> entries;
    if (!node.IsSequence()) {
        yaml.error(node, fmt::format("'{}' must be a list of {} entries", what,
                                     std::string_view(what) == "stage" ? "{from, to, mode}" : "{from, to, optional}"));
        return entries;
    }
    for (const auto& entry : node) {
        if (auto read = read_entry(entry)) {
            entries.push_back(std::move(*read));
        }
    }
    return entries;
}

} // namespace

std::vector<StageSpec> read_stage(YamlReader& yaml, const YAML::Node& node, const std::string& spec_dir,
                                  const JobSpec& job, std::vector<StagePlace>& places) {
    return read_list<StageSpec>(yaml, node, "stage", [&](const YAML::Node& entry) -> std::optional<StageSpec> {
        auto stage = read_stage_entry(yaml, entry, spec_dir);
        if (!stage || !stage_place_free(yaml, entry["to"], *stage, job, places)) {
            return std::nullopt;
        }
        places.push_back({job.name, job.workdir, *stage});
        return stage;
    });
}

std::vector<CollectSpec> read_collect(YamlReader& yaml, const YAML::Node& node, const CollectRules& rules) {
    return read_list<CollectSpec>(yaml, node, "collect",
                                  [&](const YAML::Node& entry) { return read_collect_entry(yaml, entry, rules); });
}

} // namespace sshard::core
