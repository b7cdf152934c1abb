// What an attempt moved besides its output, as transports measure it and the journal records it.
#pragma once

#include <cstdint>

namespace sshard::core {

// `stage` files sent before an attempt, `collect` files brought back after it.
struct TransferStats {
    std::uint64_t sent_bytes = 0;
    std::uint64_t sent_files = 0;
    double send_s = 0;
    std::uint64_t received_bytes = 0;
    std::uint64_t received_files = 0;
    double receive_s = 0;

    bool empty() const { return sent_files == 0 && received_files == 0 && send_s == 0 && receive_s == 0; }
    TransferStats& operator+=(const TransferStats& other) {
        sent_bytes += other.sent_bytes;
        sent_files += other.sent_files;
        send_s += other.send_s;
        received_bytes += other.received_bytes;
        received_files += other.received_files;
        receive_s += other.receive_s;
        return *this;
    }
};

} // namespace sshard::core
