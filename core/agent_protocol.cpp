#include "core/agent_protocol.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "core/overloaded.hpp"

namespace sshard::core::agent {

namespace {

enum class Type : std::uint8_t { start = 1, cancel = 2, ready = 3, output = 4, end = 5, sample = 6 };

constexpr std::size_t k_length_size = 4;
// cpu times travel as microseconds; this marks one the agent could not measure.
constexpr std::uint64_t k_no_cpu = ~std::uint64_t{0};
// A sample's CPU busy share travels as millionths.
constexpr std::uint32_t k_busy_scale = 1'000'000;

class Writer {
public:
    explicit Writer(Type type) { m_out.push_back(static_cast<char>(type)); }
    Writer& u8(std::uint8_t value) {
        m_out.push_back(static_cast<char>(value));
        return *this;
    }
    Writer& u32(std::uint32_t value) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            m_out.push_back(static_cast<char>((value >> shift) & 0xff));
        }
        return *this;
    }
    Writer& u64(std::uint64_t value) {
        u32(static_cast<std::uint32_t>(value >> 32));
        return u32(static_cast<std::uint32_t>(value));
    }
    Writer& text(std::string_view value) {
        u32(static_cast<std::uint32_t>(value.size()));
        m_out.append(value);
        return *this;
    }
    Writer& cpu(const std::optional<double>& seconds) {
        return u64(seconds && *seconds >= 0 ? static_cast<std::uint64_t>(*seconds * 1e6 + 0.5) : k_no_cpu);
    }
    // The whole frame, its length first.
    std::string frame() const {
        std::string framed;
        auto size = static_cast<std::uint32_t>(m_out.size());
        for (int shift = 24; shift >= 0; shift -= 8) {
            framed.push_back(static_cast<char>((size >> shift) & 0xff));
        }
        return framed + m_out;
    }

private:
    std::string m_out;
};

// Reads the fields of one frame's body, which it never reads past.
class Reader {
public:
    explicit Reader(std::string_view body) : m_body(body) {}
    std::uint8_t u8() { return static_cast<std::uint8_t>(take(1)[0]); }
    std::uint32_t u32() {
        std::string_view bytes = take(4);
        std::uint32_t value = 0;
        for (char byte : bytes) {
            value = (value << 8) | static_cast<std::uint8_t>(byte);
        }
        return value;
    }
    std::uint64_t u64() {
        std::uint64_t high = u32();
        return (high << 32) | u32();
    }
    std::string text() {
        std::uint32_t size = u32();
        return std::string(take(size));
    }
    std::optional<double> cpu() {
        std::uint64_t micros = u64();
        return micros == k_no_cpu ? std::nullopt : std::optional<double>(static_cast<double>(micros) / 1e6);
    }
    // Whether every byte was read.
    void finish(const char* what) const {
        if (!m_body.empty()) {
            throw ProtocolError(fmt::format("{} frame has {} bytes after its last field", what, m_body.size()));
        }
    }

private:
    std::string_view take(std::size_t size) {
        if (size > m_body.size()) {
            throw ProtocolError(fmt::format("a field of {} bytes runs past the end of its frame", size));
        }
        std::string_view bytes = m_body.substr(0, size);
        m_body.remove_prefix(size);
        return bytes;
    }

    std::string_view m_body;
};

std::string encode_end(const ShardEnd& end) {
    Writer writer(Type::end);
    writer.u64(end.id).u8(static_cast<std::uint8_t>(end.kind));
    writer.u8(static_cast<std::uint8_t>(end.exit_code)).u8(static_cast<std::uint8_t>(end.signal));
    return writer.cpu(end.cpu_user_s).cpu(end.cpu_sys_s).text(end.reason).frame();
}

StartShard decode_start(Reader& reader) {
    StartShard start;
    start.id = reader.u64();
    start.command = reader.text();
    std::uint32_t count = reader.u32();
    for (std::uint32_t i = 0; i < count; ++i) {
        std::string name = reader.text();
        if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos) {
            throw ProtocolError(fmt::format("start frame has a bad environment variable name '{}'", name));
        }
        start.env.emplace_back(std::move(name), reader.text());
    }
    start.workdir = reader.text();
    start.shell = reader.text();
    start.timeout_ms = reader.u64();
    return start;
}

ShardOutput decode_output(Reader& reader) {
    ShardOutput output;
    output.id = reader.u64();
    std::uint8_t stream = reader.u8();
    if (stream > 1) {
        throw ProtocolError(fmt::format("output frame has stream {} (0 or 1)", stream));
    }
    output.stream = stream == 0 ? Stream::out : Stream::err;
    output.data = reader.text();
    return output;
}

ShardEnd decode_end(Reader& reader) {
    ShardEnd end;
    end.id = reader.u64();
    std::uint8_t kind = reader.u8();
    if (kind > static_cast<std::uint8_t>(Outcome::Kind::transport_failed)) {
        throw ProtocolError(fmt::format("end frame has outcome {} (0 to 2)", kind));
    }
    end.kind = static_cast<Outcome::Kind>(kind);
    end.exit_code = reader.u8();
    end.signal = reader.u8();
    if (end.kind == Outcome::Kind::signaled && (end.signal == 0 || end.signal > 127)) {
        throw ProtocolError(fmt::format("end frame has signal {} (1 to 127)", end.signal));
    }
    end.cpu_user_s = reader.cpu();
    end.cpu_sys_s = reader.cpu();
    end.reason = reader.text();
    return end;
}

AgentReady decode_ready(Reader& reader) {
    AgentReady ready;
    ready.cpus = reader.u32();
    ready.memory = reader.u64();
    if (ready.cpus > k_max_cpus || ready.memory > k_max_memory) {
        throw ProtocolError(fmt::format("ready frame has {} CPUs and {} bytes of memory (at most {} and {})",
                                        ready.cpus, ready.memory, k_max_cpus, k_max_memory));
    }
    return ready;
}

NodeSample decode_sample(Reader& reader) {
    std::uint32_t busy = reader.u32();
    NodeSample sample;
    sample.mem_used = reader.u64();
    sample.mem_total = reader.u64();
    if (busy > k_busy_scale) {
        throw ProtocolError(fmt::format("sample frame has CPU {} millionths busy (at most {})", busy, k_busy_scale));
    }
    if (sample.mem_total == 0 || sample.mem_total > k_max_memory || sample.mem_used > sample.mem_total) {
        throw ProtocolError(fmt::format("sample frame has {} of {} bytes of memory used (a total of 1 to {})",
                                        sample.mem_used, sample.mem_total, k_max_memory));
    }
    sample.cpu_busy = static_cast<double>(busy) / k_busy_scale;
    return sample;
}

Message decode_body(std::string_view body) {
    Reader reader(body);
    auto type = static_cast<Type>(reader.u8());
    auto finished = [&](auto message, const char* what) -> Message {
        reader.finish(what);
        return message;
    };
    switch (type) {
    case Type::start:
        return finished(decode_start(reader), "a start");
    case Type::cancel: {
        CancelShard cancel{.id = reader.u64(), .grace_ms = 0};
        cancel.grace_ms = reader.u64();
        return finished(cancel, "a cancel");
    }
    case Type::ready:
        return finished(decode_ready(reader), "a ready");
    case Type::output:
        return finished(decode_output(reader), "an output");
    case Type::end:
        return finished(decode_end(reader), "an end");
    case Type::sample:
        return finished(decode_sample(reader), "a sample");
    }
    throw ProtocolError(fmt::format("unknown frame type {}", static_cast<int>(type)));
}

} // namespace

std::string encode(const Message& message) {
    return std::visit(
        Overloaded{
            [](const StartShard& start) {
                Writer writer(Type::start);
                writer.u64(start.id).text(start.command).u32(static_cast<std::uint32_t>(start.env.size()));
                for (const auto& [name, value] : start.env) {
                    writer.text(name).text(value);
                }
                return writer.text(start.workdir).text(start.shell).u64(start.timeout_ms).frame();
            },
            [](const CancelShard& cancel) { return Writer(Type::cancel).u64(cancel.id).u64(cancel.grace_ms).frame(); },
            [](const AgentReady& ready) { return Writer(Type::ready).u32(ready.cpus).u64(ready.memory).frame(); },
            [](const ShardOutput& output) {
                Writer writer(Type::output);
                writer.u64(output.id).u8(output.stream == Stream::out ? 0 : 1);
                return writer.text(output.data).frame();
            },
            [](const ShardEnd& end) { return encode_end(end); },
            [](const NodeSample& sample) {
                double share = sample.cpu_busy > 0 ? std::min(sample.cpu_busy, 1.0) : 0.0; // NaN too
                auto busy = static_cast<std::uint32_t>(share * k_busy_scale + 0.5);
                return Writer(Type::sample).u32(busy).u64(sample.mem_used).u64(sample.mem_total).frame();
            },
        },
        message);
}

void Decoder::feed(std::string_view bytes) {
    // What was decoded is dropped once it is most of the buffer, so the buffer stays near one frame's size.
    if (m_offset > 0 && m_offset * 2 >= m_buffer.size()) {
        m_buffer.erase(0, m_offset);
        m_offset = 0;
    }
    m_buffer.append(bytes);
}

std::optional<Message> Decoder::next() {
    if (pending() < k_length_size) {
        return std::nullopt;
    }
    std::size_t size = 0;
    for (std::size_t i = 0; i < k_length_size; ++i) {
        size = (size << 8) | static_cast<std::uint8_t>(m_buffer[m_offset + i]);
    }
    if (size == 0 || size > k_max_frame) {
        throw ProtocolError(fmt::format("a frame of {} bytes (1 to {} allowed)", size, k_max_frame));
    }
    if (pending() < k_length_size + size) {
        return std::nullopt;
    }
    std::string_view body(m_buffer.data() + m_offset + k_length_size, size);
    m_offset += k_length_size + size;
    return decode_body(body);
}

} // namespace sshard::core::agent
