#include "core/collector.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/unique_fd.hpp"

namespace sshard::core {

namespace {

using SteadyClock = std::chrono::steady_clock;

double seconds_since(SteadyClock::time_point start) {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// What `path` is, where a link or a file in place of a directory on the way counts as it: a link could lead out
// of the workdir.
CollectSource::Kind walk(const std::string& path, CollectSource& source) {
    for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        auto step = source.kind(path.substr(0, slash));
        if (step != CollectSource::Kind::directory) {
            return step == CollectSource::Kind::link ? step : CollectSource::Kind::missing;
        }
    }
    return source.kind(path);
}

// Copies one file into the run directory: to a temporary name beside it, then renamed, so that a file there is
// always whole. Returns the bytes received, nullopt for an optional file that is missing.
std::optional<std::uint64_t> collect_one(const CollectFile& file, CollectSource& source) {
    switch (walk(file.from, source)) {
    case CollectSource::Kind::missing:
        if (file.optional) {
            return std::nullopt;
        }
        throw Error(fmt::format("collect: '{}' is missing on the host", file.from));
    case CollectSource::Kind::link:
        throw Error(fmt::format("collect refused: '{}' is a symbolic link on the host", file.from));
    case CollectSource::Kind::directory:
    case CollectSource::Kind::other:
        throw Error(fmt::format("collect refused: '{}' is not a regular file on the host", file.from));
    case CollectSource::Kind::regular:
        break;
    }
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(file.to).parent_path(), ec);
    // A name of this thread's own: two hosts' threads may collect to one name (shards whose `to` is the same).
    std::string part = fmt::format("{}.{}-{}.sshard-part", file.to, ::getpid(), ::gettid());
    UniqueFd fd(::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.is_open()) {
        throw Error(fmt::format("collect: cannot write '{}': {}", file.to, std::strerror(errno)));
    }
    try {
        std::uint64_t bytes = source.copy_to(file.from, fd.get(), file.to);
        if (::fsync(fd.get()) != 0 || ::rename(part.c_str(), file.to.c_str()) != 0) {
            throw Error(fmt::format("collect: cannot write '{}': {}", file.to, std::strerror(errno)));
        }
        return bytes;
    } catch (const Error& e) {
        ::unlink(part.c_str());
        std::string_view why = e.what();
        throw Error(why.starts_with("collect") ? std::string(why) : fmt::format("collect: {}", why));
    }
}

} // namespace

std::string stage_launch(const Launch& launch, std::set<std::string>& staged,
                         const std::function<StageTarget&()>& target, TransferStats& stats) {
    if (!launch.stage) {
        return {};
    }
    std::string error;
    StageSent sent;
    for (std::size_t i = 0; i < launch.stage->entries().size() && error.empty(); ++i) {
        auto start = SteadyClock::now();
        try {
            std::string key = launch.stage->key(i);
            if (staged.contains(key)) {
                continue;
            }
            launch.stage->stage(i, target(), sent);
            staged.insert(key);
        } catch (const Error& e) {
            error = fmt::format("staging '{}' failed: {}", launch.stage->entries()[i].from, e.what());
        }
        // Only an entry this host had not staged yet counts: the others took no time worth a bar in the chart.
        stats.send_s += seconds_since(start);
    }
    stats.sent_bytes += sent.bytes;
    stats.sent_files += sent.files;
    return error;
}

Outcome stage_failure(std::string reason, const TransferStats& stats) {
    Outcome outcome;
    outcome.exit_code = 255;
    outcome.start = outcome.end = std::chrono::system_clock::now();
    outcome.transfer = stats;
    outcome.transfer_error = std::move(reason);
    return outcome;
}

void collect_after(const std::vector<CollectFile>& files, bool on_failure,
                   const std::function<CollectSource&()>& source, Outcome& outcome) {
    bool succeeded = outcome.kind == Outcome::Kind::exited && outcome.exit_code == 0;
    if (files.empty() || outcome.kind == Outcome::Kind::transport_failed || !(succeeded || on_failure)) {
        return;
    }
    auto start = SteadyClock::now();
    for (const auto& file : files) {
        if (!file.refused.empty()) {
            outcome.transfer_error = file.refused;
            break;
        }
        try {
            if (auto bytes = collect_one(file, source())) {
                outcome.transfer.received_bytes += *bytes;
                ++outcome.transfer.received_files;
            }
        } catch (const Error& e) {
            outcome.transfer_error = e.what();
            break;
        }
    }
    outcome.transfer.receive_s += seconds_since(start);
}

} // namespace sshard::core
