// An attempt's output on its way to disk: each stream is written to its own file, opened on the first byte
// (most shards write nothing to stderr, and empty files would cost an inode each). Keeps the last bytes of
// stderr for the failure report, and can hand complete lines to a listener for `--stream`. Files are made by
// name below a directory held open, never through a symbolic link (core/private_dir.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "core/private_dir.hpp"
#include "core/transport.hpp"

namespace sshard::core {

// Receives each complete output line (without its newline) of one attempt; called from transport threads.
// A line longer than 64 KiB is passed on in pieces.
using LineListener = std::function<void(Stream stream, std::string_view line)>;

class OutputFiles final : public OutputSink {
public:
    // The files are `<folder>/<stem>.out` and `.err` in `dir`, which must outlive the sink; each is created
    // 0600 (with the folder, 0700) on the first byte written to it.
    OutputFiles(const OpenDir& dir, std::string folder, const std::string& stem, LineListener listener = {});
    ~OutputFiles() override;

    // Writes data to the stream's file. A write failure is remembered (see close()), never thrown: the shard
    // goes on, and the run reports it.
    void write(Stream stream, std::string_view data) override;

    // Passes a last unterminated line to the listener and closes both files. Returns the first failure to
    // make, write or close either file ("cannot write 'PATH': REASON"), or "". Idempotent.
    std::string close() override;

    std::uint64_t bytes(Stream stream) const;
    // The last up to 4 KiB of stderr.
    std::string stderr_tail() const;

private:
    struct File {
        std::string name;
        int fd = -1;
        std::uint64_t bytes = 0;
        std::string partial_line;
    };
    void emit_lines(Stream stream, File& file, std::string_view data);
    int open_file(const File& file) const;
    std::string path_of(const File& file) const;

    const OpenDir& m_dir;
    std::string m_folder;
    mutable std::mutex m_mutex;
    File m_out;
    File m_err;
    std::string m_tail;
    std::string m_error;
    LineListener m_listener;
};

} // namespace sshard::core
