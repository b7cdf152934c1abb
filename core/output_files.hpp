// An attempt's output on its way to disk: each stream is written to its own file, opened on the first byte
// (most shards write nothing to stderr, and empty files would cost an inode each). Keeps the last bytes of
// stderr for the failure report, and can hand complete lines to a listener for `--stream`.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "core/transport.hpp"

namespace sshard::core {

// Receives each complete output line (without its newline) of one attempt; called from transport threads.
// A line longer than 64 KiB is passed on in pieces.
using LineListener = std::function<void(Stream stream, std::string_view line)>;

class OutputFiles final : public OutputSink {
public:
    // `out_path` and `err_path` are created 0600 (with their folder, 0700) on the first byte written to each.
    OutputFiles(std::string out_path, std::string err_path, LineListener listener = {});
    ~OutputFiles() override;

    // Writes data to the stream's file. A write failure is remembered (see error()), never thrown: the shard
    // goes on, and the run reports it.
    void write(Stream stream, std::string_view data) override;

    // Passes a last unterminated line to the listener and closes both files. Idempotent.
    void close();

    std::uint64_t bytes(Stream stream) const;
    // The last up to 4 KiB of stderr.
    std::string stderr_tail() const;
    // The first write failure, or "".
    std::string error() const;

private:
    struct File {
        std::string path;
        int fd = -1;
        std::uint64_t bytes = 0;
        std::string partial_line;
    };
    void emit_lines(Stream stream, File& file, std::string_view data);

    mutable std::mutex m_mutex;
    File m_out;
    File m_err;
    std::string m_tail;
    std::string m_error;
    LineListener m_listener;
};

} // namespace sshard::core
