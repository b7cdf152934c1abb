#include "transport/worker_channel.hpp"

#include <fmt/format.h>

#include "transport/remote_command.hpp"

namespace sshard::transport {

std::unique_ptr<WorkerChannel> WorkerChannel::open(ssh_session session, std::chrono::milliseconds grace) {
    SshChannel channel(ssh_channel_new(session));
    if (!channel || ssh_channel_open_session(channel.get()) != SSH_OK ||
        ssh_channel_request_exec(channel.get(), worker_command(grace).c_str()) != SSH_OK) {
        return nullptr;
    }
    std::string marker = make_marker();
    std::unique_ptr<WorkerChannel> worker(new WorkerChannel(std::move(channel), marker));
    if (!worker->send(marker + "\n")) {
        return nullptr;
    }
    return worker;
}

WorkerChannel::WorkerChannel(SshChannel channel, std::string marker)
    : m_channel(std::move(channel)), m_reader(std::move(marker)) {}

WorkerChannel::~WorkerChannel() {
    // Closing the channel closes the worker's stdin: it kills what it still runs and exits.
    m_channel.close();
}

bool WorkerChannel::send(std::string_view line) {
    return ssh_channel_write(m_channel.get(), line.data(), static_cast<std::uint32_t>(line.size())) ==
           static_cast<int>(line.size());
}

bool WorkerChannel::pump(core::OutputSink* sink) {
    char buffer[65536];
    for (auto stream : {core::Stream::out, core::Stream::err}) {
        while (true) {
            int n = ssh_channel_read_nonblocking(m_channel.get(), buffer, sizeof buffer, stream == core::Stream::err);
            if (n == SSH_ERROR) {
                return false;
            }
            if (n <= 0) {
                break;
            }
            std::string user = m_reader.feed(stream, std::string_view(buffer, static_cast<std::size_t>(n)));
            if (!user.empty() && sink != nullptr) {
                sink->write(stream, user);
            }
        }
    }
    return true;
}

void WorkerChannel::wait(std::chrono::milliseconds timeout) {
    ssh_channel_poll_timeout(m_channel.get(), static_cast<int>(timeout.count()), 0);
}

bool WorkerChannel::gone() const {
    return ssh_channel_is_eof(m_channel.get()) != 0 || ssh_channel_is_closed(m_channel.get()) != 0;
}

std::unique_ptr<WorkerChannel> start_worker(ssh_session session, std::chrono::milliseconds grace,
                                            std::chrono::milliseconds timeout, std::string& why) {
    auto worker = WorkerChannel::open(session, grace);
    if (!worker) {
        why = fmt::format("cannot start the slot worker: {}", ssh_get_error(session));
        return nullptr;
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string said; // what the worker printed instead, for the message
    struct Collect : core::OutputSink {
        std::string& text;
        explicit Collect(std::string& t) : text(t) {}
        void write(core::Stream, std::string_view data) override { text.append(data.substr(0, 200)); }
    } collect(said);
    while (!worker->reader().ready()) {
        if (!worker->pump(&collect) || worker->reader().broken() || worker->gone() ||
            std::chrono::steady_clock::now() >= deadline) {
            auto first_line = said.substr(0, said.find('\n'));
            why = first_line.empty() ? "the host's shell cannot run the slot worker"
                                     : fmt::format("the host's shell cannot run the slot worker: {}", first_line);
            return nullptr;
        }
        worker->wait(std::chrono::milliseconds(100));
    }
    return worker;
}

} // namespace sshard::transport
