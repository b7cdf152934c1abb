// Fuzzes the hostlist parser: any text is a list of names or a HostlistError, never a crash, a hang or an
// expansion past its limit; and folding the names of one pattern gives a hostlist that expands to the same
// names again. Folding groups names, so the order may change: "x[08-11][1-100]" folds by digit count.
#include <algorithm>
#include <set>
#include <string>
#include <string_view>

#include "core/hostlist.hpp"
#include "tests/fuzz/fuzz_target.hpp"

using namespace sshard;

namespace {

constexpr std::size_t k_limit = 4096;

// A name folds back to itself only when it has none of the hostlist syntax in it.
bool plain(const std::vector<std::string>& names) {
    std::set<std::string_view> seen;
    for (const auto& name : names) {
        if (name.empty() || name.find_first_of("[],") != std::string::npos || !seen.insert(name).second) {
            return false;
        }
    }
    return !names.empty();
}

void check_pattern(const std::string& pattern) {
    std::vector<std::string> names;
    try {
        names = core::expand_hostlist(pattern, k_limit);
    } catch (const core::HostlistError&) {
        return;
    }
    fuzz::check(names.size() <= k_limit, "an expansion exceeded its limit");
    if (!plain(names)) {
        return;
    }
    std::string folded = core::fold_hostlist(names);
    std::vector<std::string> again;
    try {
        for (const auto& part : core::split_hostlists(folded)) {
            auto expanded = core::expand_hostlist(part, k_limit);
            again.insert(again.end(), expanded.begin(), expanded.end());
        }
    } catch (const core::HostlistError&) {
        fuzz::fail("a folded hostlist does not parse");
    }
    std::sort(names.begin(), names.end());
    std::sort(again.begin(), again.end());
    fuzz::check(again == names, "a folded hostlist expands to other names");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> patterns;
    try {
        patterns = core::split_hostlists(text);
    } catch (const core::HostlistError&) {
        return 0;
    }
    for (const auto& pattern : patterns) {
        check_pattern(pattern);
    }
    return 0;
}
