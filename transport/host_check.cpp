#include "transport/host_check.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "transport/ssh_connection.hpp"

namespace sshard::transport {

namespace {

double since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

HostCheck check_host(const core::HostSpec& host, const SshOptions& options) {
    HostCheck check;
    if (host.transport == core::TransportKind::local) {
        check.ok = true;
        check.server = "local";
        check.cpus = static_cast<int>(std::thread::hardware_concurrency());
        return check;
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
    } catch (const SshError& e) {
        check.error = e.what();
    }
    return check;
}

} // namespace sshard::transport
