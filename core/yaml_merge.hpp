// YAML anchors and aliases as a spec may use them: merge keys (`<<: *base`, `<<: [*a, *b]`, YAML 1.1's
// https://yaml.org/type/merge.html), which yaml-cpp reads as an ordinary key named "<<", and a bound on what
// aliases expand to, since an alias costs a few bytes and may stand for a whole tree (a "billion laughs").
// Private to the spec loader's files, like yaml_reader.hpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include "core/yaml_reader.hpp"

namespace sshard::core {

// Resolves every merge key under `root`, in place: each `<<` entry is replaced by the entries of the mapping,
// or the mappings of the list, it names, except the keys the mapping sets itself or an earlier mapping of the
// list gave; merged entries keep their own positions, and come after the mapping's own. Reports a merge of
// anything but mappings, an alias inside the node it names, and a tree whose values, counting each alias at
// each use, exceed k_max_spec_values. Returns false after the last two: the tree must not be walked.
bool resolve_merge_keys(YamlReader& yaml, const YAML::Node& root);

} // namespace sshard::core
