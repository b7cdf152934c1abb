// Merge keys are resolved bottom-up: a mapping's sources are resolved before their entries are copied, so that
// `<<: *b` where b merges a also brings a's entries. Every mapping and list is visited once, known by its
// position in the file (an alias is the very node it names, at the anchor's position), and its expanded size
// kept: the work is linear in the file even where aliases make the tree exponential.
#include "core/yaml_merge.hpp"

#include <cstdint>
#include <fmt/format.h>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/spec_limits.hpp"

namespace sshard::core {

namespace {

constexpr std::uint64_t k_in_progress = 0; // a size is at least 1

class MergeResolver {
public:
    explicit MergeResolver(YamlReader& yaml) : m_yaml(yaml) {}

    bool run(const YAML::Node& root) {
        visit(root);
        return !m_failed;
    }

private:
    std::uint64_t visit(const YAML::Node& node);
    void merge(YAML::Node map);
    std::vector<YAML::Node> sources(const YAML::Node& value);
    std::uint64_t add(std::uint64_t a, std::uint64_t b) const { return std::min(a + b, k_max_spec_values + 1); }
    void fail(const YAML::Node& node, std::string message) {
        m_yaml.error(node, std::move(message));
        m_failed = true;
    }

    YamlReader& m_yaml;
    std::map<std::pair<int, int>, std::uint64_t> m_sizes; // by position: k_in_progress, or the expanded size
    std::uint64_t m_merged = 0;                           // entries copied by merge keys
    bool m_failed = false;
};

bool is_merge_key(const YAML::Node& key) {
    return key.IsScalar() && key.Scalar() == "<<" && key.Tag() != "!"; // "<<" quoted is an ordinary key
}

// The number of values under `node`, each alias counted at each use, once its merge keys are resolved.
std::uint64_t MergeResolver::visit(const YAML::Node& node) {
    if (m_failed || !(node.IsMap() || node.IsSequence())) {
        return 1;
    }
    auto [known, fresh] = m_sizes.try_emplace({node.Mark().line, node.Mark().column}, k_in_progress);
    if (!fresh) {
        if (known->second == k_in_progress) {
            fail(node, "an alias stands inside the node it names");
        }
        return known->second;
    }
    if (node.IsMap()) {
        merge(node);
    }
    std::uint64_t size = 1;
    for (auto it = node.begin(); it != node.end() && !m_failed && size <= k_max_spec_values; ++it) {
        size = node.IsMap() ? add(size, add(visit(it->first), visit(it->second))) : add(size, visit(*it));
    }
    m_sizes[{node.Mark().line, node.Mark().column}] = size;
    if (size > k_max_spec_values && !m_failed) {
        fail(node, fmt::format("aliases expand this to more than {} values", k_max_spec_values));
    }
    return size;
}

// The mappings a merge key's value names; reports anything else.
std::vector<YAML::Node> MergeResolver::sources(const YAML::Node& value) {
    std::vector<YAML::Node> maps;
    if (value.IsSequence()) {
        for (const auto& item : value) {
            maps.push_back(item);
        }
    } else {
        maps.push_back(value);
    }
    std::vector<YAML::Node> good;
    for (const auto& map : maps) {
        if (map.IsMap()) {
            good.push_back(map);
        } else {
            m_yaml.error(map, fmt::format("'<<' merges a mapping or a list of mappings (such as *base or [*a, *b]), "
                                          "not {}",
                                          map.IsSequence() ? "a list"
                                          : map.IsScalar() ? "'" + map.Scalar() + "'"
                                                           : "an empty value"));
        }
    }
    return good;
}

void MergeResolver::merge(YAML::Node map) {
    std::vector<std::pair<YAML::Node, YAML::Node>> merges;
    std::set<std::string> own;
    for (const auto& entry : map) {
        if (is_merge_key(entry.first)) {
            merges.emplace_back(entry.first, entry.second);
        } else if (entry.first.IsScalar()) {
            own.insert(entry.first.Scalar());
        }
    }
    std::vector<std::pair<YAML::Node, YAML::Node>> copied;
    for (std::size_t i = 1; i < merges.size(); ++i) {
        m_yaml.error(merges[i].first, "duplicate key '<<' (merge several mappings as <<: [*a, *b])");
    }
    if (!merges.empty()) {
        for (const auto& source : sources(merges.front().second)) {
            visit(source); // resolves its own merge keys first
            for (const auto& entry : source) {
                if (!entry.first.IsScalar() || own.insert(entry.first.Scalar()).second) {
                    copied.emplace_back(entry.first, entry.second);
                }
            }
        }
    }
    for (const auto& merge_key : merges) {
        map.remove(merge_key.first);
    }
    m_merged += copied.size();
    if (m_merged > k_max_spec_values) {
        fail(map, fmt::format("merge keys copy more than {} entries", k_max_spec_values));
        return;
    }
    for (const auto& [key, value] : copied) {
        map.force_insert(key, value);
    }
}

} // namespace

bool resolve_merge_keys(YamlReader& yaml, const YAML::Node& root) {
    return MergeResolver(yaml).run(root);
}

} // namespace sshard::core
