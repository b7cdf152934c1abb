#include "core/agent_protocol.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <random>

namespace sshard::core::agent {
namespace {

// Every message of `bytes`, fed in pieces of `piece` bytes.
std::vector<Message> decode_all(std::string_view bytes, std::size_t piece = 1 << 20) {
    Decoder decoder;
    std::vector<Message> messages;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        decoder.feed(bytes.substr(at, piece));
        while (auto message = decoder.next()) {
            messages.push_back(std::move(*message));
        }
    }
    EXPECT_EQ(decoder.pending(), 0u);
    return messages;
}

// The ProtocolError's message for `bytes`, or "" when they decode.
std::string frame_error(std::string_view bytes) {
    Decoder decoder;
    decoder.feed(bytes);
    try {
        while (decoder.next()) {
        }
    } catch (const ProtocolError& e) {
        return e.what();
    }
    return "";
}

std::string be32(std::uint32_t value) {
    return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
            static_cast<char>(value)};
}

std::string be64(std::uint64_t value) {
    return be32(static_cast<std::uint32_t>(value >> 32)) + be32(static_cast<std::uint32_t>(value));
}

// A sample frame with these fields as they travel: the busy share in millionths.
std::string sample_frame(std::uint32_t busy, std::uint64_t used, std::uint64_t total) {
    return be32(21) + "\x06" + be32(busy) + be64(used) + be64(total);
}

ShardEnd make_end(std::uint64_t id, Outcome::Kind kind, int exit_code, int signal) {
    ShardEnd end;
    end.id = id;
    end.kind = kind;
    end.exit_code = exit_code;
    end.signal = signal;
    return end;
}

ShardOutput make_output(std::uint64_t id, Stream stream, std::string data) {
    ShardOutput output;
    output.id = id;
    output.stream = stream;
    output.data = std::move(data);
    return output;
}

// A command with a NUL inside: the protocol carries bytes, not C strings.
constexpr char k_hostile_command[] = "printf '%s\\n' \"$X\"; exit 3\0tail";

StartShard hostile_start() {
    return StartShard{.id = 0xfedcba9876543210ULL,
                      .command = std::string(k_hostile_command, sizeof k_hostile_command - 1),
                      .env = {{"X", std::string("a\0b\nc", 5)}, {"EMPTY", ""}},
                      .workdir = "/tmp/dir with spaces",
                      .shell = "bash",
                      .timeout_ms = 1500};
}

TEST(AgentProtocol, EveryMessageRoundTripsInPiecesOfAnySize) {
    std::vector<Message> sent{
        hostile_start(),
        CancelShard{.id = 7, .grace_ms = 5000},
        AgentReady{.cpus = 8, .memory = 1ULL << 40},
        make_output(7, Stream::err, std::string(70'000, '\0')),
        make_end(7, Outcome::Kind::signaled, 0, 9),
        make_end(8, Outcome::Kind::exited, 200, 0),
        make_end(9, Outcome::Kind::transport_failed, 0, 0),
        NodeSample{.cpu_busy = 0.25, .mem_used = 3ULL << 30, .mem_total = 1ULL << 40},
    };
    std::get<ShardEnd>(sent[4]).cpu_user_s = 1.25;
    std::get<ShardEnd>(sent[4]).cpu_sys_s = 0.5;
    std::get<ShardEnd>(sent[6]).reason = "cannot create a pipe";
    std::string bytes;
    for (const auto& message : sent) {
        bytes += encode(message);
    }
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{4096}, bytes.size()}) {
        auto got = decode_all(bytes, piece);
        ASSERT_EQ(got.size(), sent.size()) << piece;
        const auto& start = std::get<StartShard>(got[0]);
        EXPECT_EQ(start.id, 0xfedcba9876543210ULL);
        EXPECT_EQ(start.command, hostile_start().command);
        EXPECT_EQ(start.env, hostile_start().env);
        EXPECT_EQ(start.workdir, "/tmp/dir with spaces");
        EXPECT_EQ(start.shell, "bash");
        EXPECT_EQ(start.timeout_ms, 1500u);
        EXPECT_EQ(std::get<CancelShard>(got[1]).grace_ms, 5000u);
        EXPECT_EQ(std::get<AgentReady>(got[2]).memory, 1ULL << 40);
        EXPECT_EQ(std::get<ShardOutput>(got[3]).data, std::string(70'000, '\0'));
        EXPECT_EQ(std::get<ShardOutput>(got[3]).stream, Stream::err);
        const auto& killed = std::get<ShardEnd>(got[4]);
        EXPECT_EQ(killed.kind, Outcome::Kind::signaled);
        EXPECT_EQ(killed.signal, 9);
        EXPECT_EQ(killed.cpu_user_s, 1.25);
        EXPECT_EQ(killed.cpu_sys_s, 0.5);
        EXPECT_EQ(std::get<ShardEnd>(got[5]).exit_code, 200);
        EXPECT_FALSE(std::get<ShardEnd>(got[5]).cpu_user_s.has_value());
        EXPECT_EQ(std::get<ShardEnd>(got[6]).reason, "cannot create a pipe");
        const auto& sample = std::get<NodeSample>(got[7]);
        EXPECT_EQ(sample.cpu_busy, 0.25);
        EXPECT_EQ(sample.mem_used, 3ULL << 30);
        EXPECT_EQ(sample.mem_total, 1ULL << 40);
    }
}

// The agent's figures are bounded where they are decoded: a runner believes no share of CPU over 1, no memory
// used over the total, no node bigger than k_max_cpus and k_max_memory.
TEST(AgentProtocol, HostileSamplesAndSizesAreErrors) {
    EXPECT_EQ(frame_error(sample_frame(1'000'000, 0, 1)), "");
    EXPECT_EQ(frame_error(sample_frame(1'000'001, 0, 1)),
              "sample frame has CPU 1000001 millionths busy (at most 1000000)");
    EXPECT_EQ(frame_error(sample_frame(0xffffffff, 0, 1)),
              "sample frame has CPU 4294967295 millionths busy (at most 1000000)");
    EXPECT_EQ(frame_error(sample_frame(0, 2, 1)),
              "sample frame has 2 of 1 bytes of memory used (a total of 1 to 1125899906842624)");
    EXPECT_EQ(frame_error(sample_frame(0, 0, 0)),
              "sample frame has 0 of 0 bytes of memory used (a total of 1 to 1125899906842624)");
    EXPECT_EQ(frame_error(sample_frame(0, 0, ~0ULL)),
              "sample frame has 0 of 18446744073709551615 bytes of memory used (a total of 1 to 1125899906842624)");
    EXPECT_EQ(frame_error(sample_frame(0, 0, k_max_memory + 1)),
              "sample frame has 0 of 1125899906842625 bytes of memory used (a total of 1 to 1125899906842624)");
    EXPECT_EQ(frame_error(be32(22) + "\x06" + be32(0) + be64(0) + be64(1) + "x"),
              "a sample frame has 1 bytes after its last field");
    EXPECT_EQ(frame_error(encode(AgentReady{.cpus = k_max_cpus + 1, .memory = 0})),
              "ready frame has 65537 CPUs and 0 bytes of memory (at most 65536 and 1125899906842624)");
    EXPECT_EQ(frame_error(encode(AgentReady{.cpus = 1, .memory = ~0ULL})),
              "ready frame has 1 CPUs and 18446744073709551615 bytes of memory (at most 65536 and "
              "1125899906842624)");
    // What an agent encodes is within the bounds whatever its reading: NaN and shares beyond 0..1 are clamped.
    for (double busy : {-0.5, 1.5, std::nan("")}) {
        auto got = decode_all(encode(NodeSample{.cpu_busy = busy, .mem_used = 1, .mem_total = 1}));
        ASSERT_EQ(got.size(), 1u);
        EXPECT_EQ(std::get<NodeSample>(got[0]).cpu_busy, busy > 1 ? 1.0 : 0.0) << busy;
    }
}

TEST(AgentProtocol, HostileFramesAreErrorsThatSayWhy) {
    EXPECT_EQ(frame_error(be32(0)), "a frame of 0 bytes (1 to 16777216 allowed)");
    EXPECT_EQ(frame_error(be32(0xffffffff)), "a frame of 4294967295 bytes (1 to 16777216 allowed)");
    EXPECT_EQ(frame_error(be32(1) + "\x09"), "unknown frame type 9");
    EXPECT_EQ(frame_error(be32(3) + "\x02" + "ab"), "a field of 4 bytes runs past the end of its frame");
    // A string whose length points past its frame.
    EXPECT_EQ(frame_error(be32(13) + "\x01" + std::string(8, '\0') + be32(100)),
              "a field of 100 bytes runs past the end of its frame");
    std::string cancel = encode(CancelShard{.id = 1, .grace_ms = 2});
    std::string longer = be32(static_cast<std::uint32_t>(cancel.size() - 4 + 2)) + cancel.substr(4) + "xy";
    EXPECT_EQ(frame_error(longer), "a cancel frame has 2 bytes after its last field");
    std::string output = encode(make_output(1, Stream::out, "x"));
    output[13] = 2;
    EXPECT_EQ(frame_error(output), "output frame has stream 2 (0 or 1)");
    std::string end = encode(make_end(1, Outcome::Kind::signaled, 0, 9));
    end[13] = 3;
    EXPECT_EQ(frame_error(end), "end frame has outcome 3 (0 to 2)");
    end[13] = 1;
    end[15] = 0;
    EXPECT_EQ(frame_error(end), "end frame has signal 0 (1 to 127)");
    StartShard bad_env = hostile_start();
    bad_env.env = {{"A=B", "c"}};
    EXPECT_EQ(frame_error(encode(bad_env)), "start frame has a bad environment variable name 'A=B'");
}

// Random bytes, and valid frames with random bytes flipped, either decode or throw ProtocolError: never a crash,
// never a read past the buffer (the sanitizer builds check that), never a hang.
TEST(AgentProtocol, RandomAndCorruptedBytesNeverCrash) {
    std::mt19937 rng(16);
    std::string valid = encode(hostile_start()) + encode(make_end(3, Outcome::Kind::exited, 3, 0));
    for (int round = 0; round < 3000; ++round) {
        std::string bytes = valid;
        if (round % 2 == 0) {
            bytes.resize(rng() % 64);
            for (char& byte : bytes) {
                byte = static_cast<char>(rng());
            }
        } else {
            for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
                bytes[rng() % bytes.size()] = static_cast<char>(rng());
            }
        }
        Decoder decoder;
        decoder.feed(bytes);
        try {
            while (decoder.next()) {
            }
        } catch (const ProtocolError&) {
            continue;
        }
        EXPECT_LE(decoder.pending(), bytes.size());
    }
}

} // namespace
} // namespace sshard::core::agent
