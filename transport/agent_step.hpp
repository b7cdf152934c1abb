// One node's agent as the runner holds it: an `srun -N1 -n1 --exact -w NODE ... sshard agent` step, started as
// a child of the runner with pipes to its stdin, stdout and stderr (srun forwards them to and from the agent).
// The runner's end of the stdin pipe is its only writer: when the runner exits, however it dies, the agent reads
// the end of its input and kills every shard it runs.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "core/agent_protocol.hpp"
#include "core/unique_fd.hpp"

namespace sshard::transport {

class AgentStep {
public:
    // How much of srun's stderr is kept, the last of it, to say why a step failed.
    static constexpr std::size_t k_stderr_kept = 2000;

    // Starts `argv` (argv[0] found on PATH) in a process group of its own, so that a Ctrl-C at the terminal
    // reaches the runner alone, which then stops its agents in order. Returns "" or why it could not start.
    std::string start(const std::vector<std::string>& argv);

    // Queues a frame for the agent; flush() writes it.
    void queue(const core::agent::Message& message);
    bool wants_to_write() const { return m_in.is_open() && !m_unsent.empty(); }
    // Writes what is queued as far as the pipe takes it; "" or why the agent's input is gone.
    std::string flush();
    // Closes the agent's input: the agent then kills its shards, writes their ends and exits.
    void close_input();

    // Reads what the agent wrote and appends its whole messages. Returns "" or why the agent's output is over
    // or cannot be trusted; `ended` is set at its end of file.
    std::string read_output(std::vector<core::agent::Message>& messages, bool& ended);
    // Reads srun's stderr, keeping its last k_stderr_kept bytes; false at its end (srun has exited).
    bool read_errors();

    // Sends `signal` to srun (which forwards TERM to the step).
    void signal(int signal) const;
    // Waits for srun after its stderr ended (or after a SIGKILL) and says how it ended, with the end of its
    // stderr, on one line.
    std::string reap();

    int out_fd() const { return m_out.get(); }
    int err_fd() const { return m_err.get(); }
    int in_fd() const { return m_in.get(); }

private:
    pid_t m_pid = -1;
    core::UniqueFd m_in;
    core::UniqueFd m_out;
    core::UniqueFd m_err;
    std::string m_unsent;
    std::size_t m_sent = 0;
    core::agent::Decoder m_decoder;
    std::string m_errors;
};

} // namespace sshard::transport
