// Durations follow a small strict grammar: a bare number of seconds, or parts like "1h30m" whose units
// decrease. A typo such as "1h30" or "30m1h" is rejected rather than guessed at. Arithmetic is exact, in
// integers, so "0.1h" is 360000ms and a value finer than a millisecond ("1.5ms") is rejected, not rounded.
#include "core/duration.hpp"

#include <array>
#include <cstdint>
#include <fmt/format.h>

#include "core/ascii.hpp"

namespace sshard::core {

namespace {

struct Unit {
    std::string_view name;
    std::int64_t ms;
};

// Largest first: a part's unit must come later in this list than the previous part's unit.
constexpr std::array<Unit, 5> k_units{{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};
constexpr std::size_t k_seconds = 3;
constexpr std::int64_t k_max_ms = 100 * 86'400'000LL;

// Once trailing zeros are dropped, more fractional digits than this can never make a whole number of
// milliseconds: a day is 2^10 * 3^3 * 5^5 ms, so it absorbs at most ten factors of ten. The bound also keeps
// `fraction * unit` well inside 64 bits.
constexpr std::size_t k_max_fraction_digits = 10;

// A decimal number split at its point: "1.25" is {1, 25, 100}.
struct Decimal {
    std::int64_t whole = 0;
    std::int64_t fraction = 0;
    std::int64_t scale = 1;
};

std::string_view take_digits(std::string_view text, std::size_t& pos) {
    std::size_t start = pos;
    while (pos < text.size() && is_digit(text[pos])) {
        ++pos;
    }
    return text.substr(start, pos - start);
}

// Reads `digits[.digits]` at `pos`. Values beyond 100 days in any unit stop early, which also rules out
// overflow in the multiplications that follow.
std::optional<Decimal> read_decimal(std::string_view text, std::size_t& pos) {
    Decimal number;
    std::string_view whole = take_digits(text, pos);
    if (whole.empty()) {
        return std::nullopt;
    }
    for (char c : whole) {
        number.whole = number.whole * 10 + (c - '0');
        if (number.whole > k_max_ms) {
            return std::nullopt;
        }
    }
    if (pos == text.size() || text[pos] != '.') {
        return number;
    }
    ++pos;
    std::string_view fraction = take_digits(text, pos);
    if (fraction.empty()) {
        return std::nullopt;
    }
    while (fraction.back() == '0' && fraction.size() > 1) {
        fraction.remove_suffix(1);
    }
    if (fraction.size() > k_max_fraction_digits) {
        return std::nullopt;
    }
    for (char c : fraction) {
        number.fraction = number.fraction * 10 + (c - '0');
        number.scale *= 10;
    }
    return number;
}

// Reads a unit name at `pos`: the whole run of letters, so "ms" is never taken for "m" followed by junk.
std::optional<std::size_t> read_unit(std::string_view text, std::size_t& pos) {
    std::size_t start = pos;
    while (pos < text.size() && text[pos] >= 'a' && text[pos] <= 'z') {
        ++pos;
    }
    std::string_view name = text.substr(start, pos - start);
    for (std::size_t i = 0; i < k_units.size(); ++i) {
        if (k_units[i].name == name) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<std::int64_t> to_ms(const Decimal& number, std::int64_t unit_ms) {
    std::int64_t fraction_ms = number.fraction * unit_ms;
    if (fraction_ms % number.scale != 0) {
        return std::nullopt;
    }
    return number.whole * unit_ms + fraction_ms / number.scale;
}

std::string format_magnitude(std::uint64_t ms) {
    if (ms < 1000) {
        return fmt::format("{}ms", ms);
    }
    std::string out;
    for (std::size_t i = 0; i < 3; ++i) {
        auto unit_ms = static_cast<std::uint64_t>(k_units[i].ms);
        if (ms >= unit_ms) {
            out += fmt::format("{}{}", ms / unit_ms, k_units[i].name);
            ms %= unit_ms;
        }
    }
    if (ms == 0) {
        return out;
    }
    if (ms % 1000 == 0) {
        return out + fmt::format("{}s", ms / 1000);
    }
    std::string millis = fmt::format("{:03}", ms % 1000);
    while (millis.back() == '0') {
        millis.pop_back();
    }
    return out + fmt::format("{}.{}s", ms / 1000, millis);
}

} // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    std::size_t pos = 0;
    std::size_t next_unit = 0;
    std::int64_t total = 0;
    do {
        auto number = read_decimal(text, pos);
        if (!number) {
            return std::nullopt;
        }
        // Only a lone number counts seconds; a trailing one ("1h30") is a forgotten unit.
        bool bare = next_unit == 0 && pos == text.size();
        auto unit = bare ? std::optional<std::size_t>(k_seconds) : read_unit(text, pos);
        if (!unit || *unit < next_unit) {
            return std::nullopt;
        }
        auto part = to_ms(*number, k_units[*unit].ms);
        if (!part) {
            return std::nullopt;
        }
        total += *part;
        if (total > k_max_ms) {
            return std::nullopt;
        }
        next_unit = *unit + 1;
    } while (pos < text.size());
    return Duration(total);
}

std::string format_duration(Duration duration) {
    std::int64_t count = duration.count();
    if (count == 0) {
        return "0s";
    }
    if (count < 0) {
        // Negate in unsigned arithmetic so that the most negative value does not overflow.
        return "-" + format_magnitude(0 - static_cast<std::uint64_t>(count));
    }
    return format_magnitude(static_cast<std::uint64_t>(count));
}

} // namespace sshard::core
