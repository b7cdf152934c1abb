// How many SSH handshakes run at once across hosts, and the switch that stops them all at shutdown.
#pragma once

#include <atomic>

namespace sshard::transport {

// Bounds the handshakes in flight across hosts, and stops them all at shutdown. Thread-safe.
class HandshakeGate {
public:
    // `slots` handshakes at a time, not counting those whose server has been silent for a while. Throws core::Error
    // when its descriptors cannot be made.
    explicit HandshakeGate(int slots);
    ~HandshakeGate();
    HandshakeGate(const HandshakeGate&) = delete;
    HandshakeGate& operator=(const HandshakeGate&) = delete;

    // Makes every handshake, waiting or to come, give up at once; for good.
    void stop();
    bool stopped() const { return m_stopped.load(); }
    // Readable once stopped.
    int stop_fd() const { return m_stop_fd; }
    // Waits for a free slot; false when stopped first.
    bool acquire();
    void release();

private:
    int m_tokens[2] = {-1, -1}; // a pipe holding one byte per free slot
    int m_stop_fd = -1;
    std::atomic<bool> m_stopped{false};
};

} // namespace sshard::transport
