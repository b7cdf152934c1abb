// The protocol between a runner and `sshard agent` (one agent per node of a Slurm allocation), over the
// agent's stdin and stdout: the runner starts and cancels shards, the agent says it is ready, returns each
// shard's output and end, and samples its node's load and memory. Encoding and decoding only; no I/O.
//
// A frame is a 4-byte big-endian length of what follows, a 1-byte type, then the type's fields in order:
// integers big-endian of fixed width, strings as a 4-byte length and their bytes. A decoder trusts nothing: a
// frame longer than k_max_frame, an unknown type, a field that runs past its frame, bytes left over after the
// last field or a value out of its range is a ProtocolError, and the stream cannot be read further.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/transport.hpp"

namespace sshard::core::agent {

// Beyond any command, environment or output chunk a runner or agent sends.
constexpr std::size_t k_max_frame = 16 * 1024 * 1024;
// Beyond any one node's CPUs and memory: an agent that says more is not believed.
constexpr std::uint32_t k_max_cpus = 1 << 16;
constexpr std::uint64_t k_max_memory = std::uint64_t{1} << 50; // 1 PiB

// Runner to agent: run a shard as the local transport does.
struct StartShard {
    std::uint64_t id = 0; // the attempt; unique among the agent's running shards
    std::string command;
    std::vector<std::pair<std::string, std::string>> env;
    std::string workdir;          // empty: the agent's directory
    std::string shell;            // empty: /bin/sh
    std::uint64_t timeout_ms = 0; // 0: none; the agent kills the shard if the runner's cancel has not come by then
};

// Runner to agent: TERM to the shard's process group, KILL after the grace.
struct CancelShard {
    std::uint64_t id = 0;
    std::uint64_t grace_ms = 0;
};

// Agent to runner, first: the agent is ready, on a node of this size.
struct AgentReady {
    std::uint32_t cpus = 0;   // 0 (unknown) to k_max_cpus
    std::uint64_t memory = 0; // bytes, up to k_max_memory; 0: unknown
};

// Agent to runner, every k_sample_interval once it is ready: its node's load and memory, read from /proc as the
// local transport reads them (core/host_sample.hpp).
struct NodeSample {
    double cpu_busy = 0;         // 0..1; travels in millionths
    std::uint64_t mem_used = 0;  // bytes, at most mem_total
    std::uint64_t mem_total = 0; // bytes, 1 to k_max_memory
};

// Agent to runner: a chunk of a shard's stdout or stderr.
struct ShardOutput {
    std::uint64_t id = 0;
    Stream stream = Stream::out;
    std::string data;
};

// Agent to runner, after the shard's last output: how it ended.
struct ShardEnd {
    std::uint64_t id = 0;
    Outcome::Kind kind = Outcome::Kind::exited;
    int exit_code = 0;                // 0..255
    int signal = 0;                   // 1..127 when kind is signaled
    std::optional<double> cpu_user_s; // seconds
    std::optional<double> cpu_sys_s;
    std::string reason; // for transport_failed
};

using Message = std::variant<StartShard, CancelShard, AgentReady, ShardOutput, ShardEnd, NodeSample>;

// A stream that is not a well-formed sequence of frames.
class ProtocolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The frame of one message.
std::string encode(const Message& message);

// Reads frames from a byte stream fed in chunks of any size.
class Decoder {
public:
    // Appends bytes read from the stream.
    void feed(std::string_view bytes);
    // The next whole message, or nothing until more bytes come. Throws ProtocolError for a bad frame; after
    // that the decoder must not be used.
    std::optional<Message> next();
    // Bytes fed but not yet decoded: not 0 at the end of the stream means it stopped inside a frame.
    std::size_t pending() const { return m_buffer.size() - m_offset; }

private:
    std::string m_buffer;
    std::size_t m_offset = 0;
};

} // namespace sshard::core::agent
