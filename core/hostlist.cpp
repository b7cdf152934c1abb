// Hostlists name many hosts in one short pattern, as ClusterShell and pdsh users write them. A pattern is
// literal text and bracket groups; a group lists numbers and ranges ("[01-10,12]"). A zero-padded start sets
// the width of every number of its range ("n[08-11]" -> n08 n09 n10 n11, "n[01-100]" -> n01 ... n100), while
// an unpadded start pads nothing ("n[1-10]"). Several groups form a cartesian product, leftmost slowest.
//
// Folding goes the other way. A name's last run of digits is its number; names with one prefix and suffix
// fold into one group, but only with numbers of one padding width: "n08" was written with width 2, "n8"
// without, so they stay apart. An unpadded number fits a width no larger than its own length ("10" is also
// what width 2 prints), which is why n08 n09 n10 folds to n[08-10].
#include "core/hostlist.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fmt/format.h>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_set>
#include <utility>

#include "core/ascii.hpp"

namespace sshard::core {

namespace {

constexpr std::uint64_t k_infinite = std::numeric_limits<std::uint64_t>::max();

// One item of a bracket group: `count` numbers from `start`, each printed at least `width` digits wide.
struct Range {
    std::uint64_t start = 0;
    std::uint64_t count = 0;
    std::size_t width = 0;
};

// A piece of a pattern: literal text, or the ranges of one bracket group (never empty for a group).
struct Part {
    std::string text;
    std::vector<Range> ranges;
};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool is_padded(std::string_view digits) {
    return digits.size() > 1 && digits[0] == '0';
}

std::string format_number(std::uint64_t value, std::size_t width) {
    return fmt::format("{:0{}}", value, width);
}

// Reads a run of digits whole; nullopt when it does not fit in 64 bits.
std::optional<std::uint64_t> to_number(std::string_view digits) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return value;
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
    return b > k_infinite - a ? k_infinite : a + b;
}

std::uint64_t saturating_multiply(std::uint64_t a, std::uint64_t b) {
    return a != 0 && b > k_infinite / a ? k_infinite : a * b;
}

HostlistError unexpected_close(std::string_view text) {
    return HostlistError(fmt::format("unexpected ']' in hostlist '{}'", text));
}

// Returns the position of the ']' that closes the '[' at `open`.
std::size_t find_close(std::string_view text, std::size_t open) {
    for (std::size_t i = open + 1; i < text.size(); ++i) {
        if (text[i] == ']') {
            return i;
        }
        if (text[i] == '[') {
            throw HostlistError(fmt::format("nested '[' in hostlist '{}'", text));
        }
    }
    throw HostlistError(fmt::format("unclosed '[' in hostlist '{}'", text));
}

class PatternParser {
public:
    explicit PatternParser(std::string_view pattern) : m_pattern(pattern) {}

    std::vector<Part> parse() const;

private:
    void check_literal(char c) const;
    std::vector<Range> parse_group(std::string_view body) const;
    Range parse_range(std::string_view item) const;
    std::uint64_t parse_number(std::string_view digits, std::string_view item) const;
    HostlistError bad_range(std::string_view item, std::string_view reason) const;

    std::string_view m_pattern;
};

std::vector<Part> PatternParser::parse() const {
    if (m_pattern.empty()) {
        throw HostlistError("empty hostlist");
    }
    if (std::any_of(m_pattern.begin(), m_pattern.end(), is_space)) {
        throw HostlistError(fmt::format("unexpected whitespace in hostlist '{}'", m_pattern));
    }
    std::vector<Part> parts;
    for (std::size_t pos = 0; pos < m_pattern.size(); ++pos) {
        if (m_pattern[pos] == '[') {
            std::size_t close = find_close(m_pattern, pos);
            parts.push_back(Part{{}, parse_group(m_pattern.substr(pos + 1, close - pos - 1))});
            pos = close;
            continue;
        }
        check_literal(m_pattern[pos]);
        if (parts.empty() || !parts.back().ranges.empty()) {
            parts.emplace_back();
        }
        parts.back().text += m_pattern[pos];
    }
    return parts;
}

void PatternParser::check_literal(char c) const {
    if (c == ']') {
        throw unexpected_close(m_pattern);
    }
    if (c == ',') {
        throw HostlistError(fmt::format("unexpected ',' outside brackets in hostlist '{}'", m_pattern));
    }
}

std::vector<Range> PatternParser::parse_group(std::string_view body) const {
    if (body.empty()) {
        throw HostlistError(fmt::format("empty brackets in hostlist '{}'", m_pattern));
    }
    std::vector<Range> ranges;
    std::size_t start = 0;
    while (true) {
        std::size_t comma = body.find(',', start);
        ranges.push_back(parse_range(body.substr(start, comma - start)));
        if (comma == std::string_view::npos) {
            return ranges;
        }
        start = comma + 1;
    }
}

Range PatternParser::parse_range(std::string_view item) const {
    if (item.empty()) {
        throw HostlistError(fmt::format("empty range in hostlist '{}'", m_pattern));
    }
    std::size_t dash = item.find('-');
    std::string_view first = item.substr(0, dash);
    std::string_view last = dash == std::string_view::npos ? first : item.substr(dash + 1);
    std::uint64_t start = parse_number(first, item);
    std::uint64_t end = parse_number(last, item);
    if (start > end) {
        throw bad_range(item, "the start is after the end");
    }
    if (is_padded(last) && last.size() != first.size()) {
        throw bad_range(item, "the start and the end are zero-padded differently");
    }
    // Saturate: [0-18446744073709551615] holds one name more than 64 bits can count.
    std::uint64_t count = saturating_add(end - start, 1);
    return Range{start, count, is_padded(first) ? first.size() : 0};
}

std::uint64_t PatternParser::parse_number(std::string_view digits, std::string_view item) const {
    bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), is_digit);
    if (!all_digits) {
        throw bad_range(item, "expected a number or a range like 1-10");
    }
    auto value = to_number(digits);
    if (!value) {
        throw bad_range(item, "the number is too large");
    }
    return *value;
}

HostlistError PatternParser::bad_range(std::string_view item, std::string_view reason) const {
    return HostlistError(fmt::format("bad range '{}' in hostlist '{}' ({})", item, m_pattern, reason));
}

std::uint64_t count_names(const std::vector<Part>& parts) {
    std::uint64_t total = 1;
    for (const auto& part : parts) {
        std::uint64_t group = part.ranges.empty() ? 1 : 0;
        for (const auto& range : part.ranges) {
            group = saturating_add(group, range.count);
        }
        total = saturating_multiply(total, group);
    }
    return total;
}

// Extends every name by each value of the group in turn, so earlier groups vary slowest.
std::vector<std::string> append_group(const std::vector<std::string>& names, const std::vector<Range>& ranges) {
    std::vector<std::string> out;
    for (const auto& name : names) {
        for (const auto& range : ranges) {
            for (std::uint64_t i = 0; i < range.count; ++i) {
                out.push_back(name + format_number(range.start + i, range.width));
            }
        }
    }
    return out;
}

} // namespace

std::vector<std::string> expand_hostlist(std::string_view pattern, std::size_t limit) {
    std::vector<Part> parts = PatternParser(pattern).parse();
    // Count before building anything, so that "n[1-99999999999]" fails fast instead of exhausting memory.
    if (count_names(parts) > limit) {
        throw HostlistError(fmt::format("hostlist '{}' expands to more than {} names", pattern, limit));
    }
    std::vector<std::string> names{""};
    for (const auto& part : parts) {
        if (!part.ranges.empty()) {
            names = append_group(names, part.ranges);
            continue;
        }
        for (auto& name : names) {
            name += part.text;
        }
    }
    return names;
}

std::vector<std::string> split_hostlists(std::string_view list) {
    if (list.empty()) {
        throw HostlistError("empty hostlist");
    }
    std::vector<std::string> patterns;
    std::size_t start = 0;
    for (std::size_t pos = 0; pos <= list.size(); ++pos) {
        if (pos < list.size() && list[pos] == '[') {
            pos = find_close(list, pos);
            continue;
        }
        if (pos < list.size() && list[pos] == ']') {
            throw unexpected_close(list);
        }
        if (pos == list.size() || list[pos] == ',') {
            if (pos == start) {
                throw HostlistError(fmt::format("empty element in hostlist '{}'", list));
            }
            patterns.emplace_back(list.substr(start, pos - start));
            start = pos + 1;
        }
    }
    return patterns;
}

namespace {

// Names with one prefix and suffix around their number, with the number as written and where it came first.
struct Family {
    std::string_view prefix;
    std::string_view suffix;
    std::vector<std::pair<std::string_view, std::size_t>> numbers;
};

// One piece of the folded list, placed by the first appearance of any of its names.
struct Piece {
    std::size_t first = 0;
    std::string text;
};

// The width a number joins: its own when zero-padded; else the widest padded width of its family that prints
// it unchanged; else none.
std::size_t width_class(std::string_view digits, const std::set<std::size_t>& padded_widths) {
    if (is_padded(digits)) {
        return digits.size();
    }
    auto above = padded_widths.upper_bound(digits.size());
    return above == padded_widths.begin() ? 0 : *std::prev(above);
}

std::string format_ranges(std::vector<std::uint64_t> values, std::size_t width) {
    std::sort(values.begin(), values.end());
    std::string out;
    for (std::size_t i = 0; i < values.size();) {
        std::size_t j = i;
        while (j + 1 < values.size() && values[j + 1] == values[j] + 1) {
            ++j;
        }
        out += out.empty() ? "" : ",";
        out += format_number(values[i], width);
        if (j > i) {
            out += "-" + format_number(values[j], width);
        }
        i = j + 1;
    }
    return out;
}

void fold_family(const Family& family, std::vector<Piece>& pieces) {
    std::set<std::size_t> padded_widths;
    for (const auto& [digits, first] : family.numbers) {
        if (is_padded(digits)) {
            padded_widths.insert(digits.size());
        }
    }
    // Per width: where the group first appeared, and its numbers.
    std::map<std::size_t, std::pair<std::size_t, std::vector<std::uint64_t>>> groups;
    for (const auto& [digits, first] : family.numbers) {
        auto& group =
            groups.try_emplace(width_class(digits, padded_widths), first, std::vector<std::uint64_t>()).first->second;
        // find_number already checked that the number fits.
        group.second.push_back(*to_number(digits));
    }
    for (const auto& [width, group] : groups) {
        const auto& [first, values] = group;
        std::string body = format_ranges(values, width);
        bool single = values.size() == 1;
        pieces.push_back(Piece{first, fmt::format("{}{}{}{}{}", family.prefix, single ? "" : "[", body,
                                                  single ? "" : "]", family.suffix)});
    }
}

// The last run of digits of `name`, as {start, length}; length 0 when there is none or it overflows 64 bits.
std::pair<std::size_t, std::size_t> find_number(std::string_view name) {
    std::size_t end = name.find_last_of("0123456789");
    if (end == std::string_view::npos) {
        return {0, 0};
    }
    std::size_t start = end;
    while (start > 0 && is_digit(name[start - 1])) {
        --start;
    }
    if (!to_number(name.substr(start, end + 1 - start))) {
        return {0, 0};
    }
    return {start, end + 1 - start};
}

} // namespace

std::string fold_hostlist(const std::vector<std::string>& names) {
    std::vector<Piece> pieces;
    std::vector<Family> families;
    std::map<std::pair<std::string_view, std::string_view>, std::size_t> family_index;
    std::unordered_set<std::string_view> seen;
    for (std::size_t i = 0; i < names.size(); ++i) {
        std::string_view name = names[i];
        if (!seen.insert(name).second) {
            continue;
        }
        auto [start, length] = find_number(name);
        if (length == 0) {
            pieces.push_back(Piece{i, names[i]});
            continue;
        }
        auto key = std::pair(name.substr(0, start), name.substr(start + length));
        auto [it, inserted] = family_index.try_emplace(key, families.size());
        if (inserted) {
            families.push_back(Family{key.first, key.second, {}});
        }
        families[it->second].numbers.emplace_back(name.substr(start, length), i);
    }
    for (const auto& family : families) {
        fold_family(family, pieces);
    }
    std::stable_sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) { return a.first < b.first; });
    std::string out;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        out += i == 0 ? "" : ",";
        out += pieces[i].text;
    }
    return out;
}

} // namespace sshard::core
