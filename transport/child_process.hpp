// The child side of a local shard: what it needs is built before fork(), since after it the child may only make
// async-signal-safe calls (no allocation); then, in the child, the steps from fork to `/bin/sh -c command`.
#pragma once

#include <string>
#include <vector>

#include "core/transport.hpp"

namespace sshard::transport {

// Everything the child needs, pointing into the launch it was made from.
struct ChildPlan {
    std::vector<std::string> environment;
    std::vector<char*> argv;
    std::vector<char*> envp;
    const char* workdir = nullptr; // null: stay in the runner's directory
    std::string shell;             // the program to exec: /bin/sh, or launch.shell found in the runner's PATH
    int supervisor_fd = -1;
};

// The plan for `launch`: the runner's environment with launch.env replacing or adding variables (of two of one
// name, the later wins), `sh -c launch.command` (launch.shell's -c when set), its workdir. `launch` must outlive the
// plan.
ChildPlan make_child_plan(core::Launch& launch, int supervisor_fd);

// Runs in the child between fork() and exec, async-signal-safe calls only: a process group of its own,
// registered with the GroupSupervisor behind plan.supervisor_fd; default signal dispositions and mask; stdin
// from /dev/null, stdout and stderr to the given descriptors, every other descriptor closed; the workdir; then
// the shell. When the workdir or the shell fails, says why on stderr and exits 127, as a shell does for a
// command it cannot run: the shard failed, not the transport.
[[noreturn]] void exec_child(const ChildPlan& plan, int out_fd, int err_fd);

} // namespace sshard::transport
