// FNV-1a, the 64-bit hash sshard uses to name a spec's text and a shard's identity: small, fast and the same on
// every machine. Not for anything an adversary chooses to collide.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sshard::core {

class Fnv1a {
public:
    // Adds the bytes of `text` to the hash.
    Fnv1a& add(std::string_view text) {
        for (unsigned char c : text) {
            m_value = (m_value ^ c) * k_prime;
        }
        return *this;
    }
    std::uint64_t value() const { return m_value; }

private:
    static constexpr std::uint64_t k_prime = 1099511628211ull;
    std::uint64_t m_value = 14695981039346656037ull;
};

// `text`'s FNV-1a hash as 16 lowercase hex digits.
std::string fnv1a_hex(std::string_view text);

} // namespace sshard::core
