#include "transport/host_check.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cpu_count.hpp"
#include "transport/slot_worker.hpp"
#include "transport/slurm_command.hpp"
#include "transport/ssh_connection.hpp"
#include "transport/worker_channel.hpp"

namespace sshard::transport {

namespace {

double since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A Slurm host is up when sinfo answers and knows its partition.
HostCheck check_slurm_host(const core::HostSpec& host) {
    HostCheck check;
    auto start = std::chrono::steady_clock::now();
    check.error = partition_problem(host.slurm);
    check.setup_s = since(start);
    check.server = "slurm";
    check.ok = check.error.empty();
    return check;
}

// A node of the allocation is up when a step runs `true` on it, as its agent's step would start.
HostCheck check_allocation_node(const core::HostSpec& host) {
    HostCheck check;
    check.server = "slurm step";
    auto start = std::chrono::steady_clock::now();
    CommandResult srun =
        run_program({"srun", "--nodes=1", "--ntasks=1", "--exact", "--quiet", "--nodelist=" + host.name, "true"});
    check.round_trip_s = since(start);
    check.ok = srun.ok();
    check.error = check.ok ? "" : "srun failed: " + srun.why();
    return check;
}

// A local host's check: `true` run as a shard is, through /bin/sh, timed from spawn to exit.
HostCheck check_local() {
    HostCheck check;
    check.server = "local";
    check.cpus = core::local_cpu_count();
    auto start = std::chrono::steady_clock::now();
    pid_t pid = -1;
    char* argv[] = {const_cast<char*>("sh"), const_cast<char*>("-c"), const_cast<char*>("true"), nullptr};
    if (int error = posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, environ); error != 0) {
        check.error = fmt::format("cannot run /bin/sh: {}", std::strerror(error));
        return check;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    check.round_trip_s = since(start);
    check.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!check.ok) {
        check.error = "'/bin/sh -c true' failed";
    }
    return check;
}

} // namespace

HostCheck check_host(const core::HostSpec& host, const SshOptions& options) {
    HostCheck check;
    if (host.transport == core::TransportKind::local) {
        return check_local();
    }
    if (host.transport == core::TransportKind::slurm) {
        return check_slurm_host(host);
    }
    if (host.transport == core::TransportKind::slurm_agent) {
        return check_allocation_node(host);
    }
    try {
        auto start = std::chrono::steady_clock::now();
        SshConnection connection(host, options);
        check.setup_s = since(start);
        check.server = connection.server_banner();
        check.cpus = connection.cpu_count();
        start = std::chrono::steady_clock::now();
        connection.run("true", options.connect_timeout);
        check.round_trip_s = since(start);
        check.ok = true;
        check.fallback = "SSHARD_TEST_NO_WORKER is set";
        if (!workers_disabled() &&
            start_worker(connection.get(), options.kill_grace,
                         std::chrono::duration_cast<std::chrono::milliseconds>(options.connect_timeout),
                         check.fallback)) {
            check.fallback.clear();
        }
    } catch (const SshError& e) {
        check.error = e.what();
    }
    return check;
}

} // namespace sshard::transport
