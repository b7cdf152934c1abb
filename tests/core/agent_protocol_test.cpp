#include "core/agent_protocol.hpp"

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
