#include "cli/run_command.hpp"

#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <unistd.h>

#include "cli/exit_codes.hpp"
#include "cli/group_printer.hpp"
#include "cli/plan_printer.hpp"
#include "cli/report_printer.hpp"
#include "cli/run_display.hpp"
#include "cli/signals.hpp"
#include "cli/terminal.hpp"
#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/joblog.hpp"
#include "core/journal.hpp"
#include "core/journal_recorder.hpp"
#include "core/output_files.hpp"
#include "core/plan.hpp"
#include "core/report.hpp"
#include "core/resume.hpp"
#include "core/run_dir.hpp"
#include "core/run_inputs.hpp"
#include "core/run_lock.hpp"
#include "core/scheduler.hpp"
#include "core/spec_loader.hpp"
#include "transport/transport_set.hpp"

namespace sshard::cli {

namespace {

// The spec to run and its text: the one named on the command line, or on resume without one, the run's copy
// (loaded under its first path, for messages, with the run's copies of its `lines` files).
struct LoadedSpec {
    core::Spec spec;
    std::string text;
};

LoadedSpec load(const RunOptions& options, const std::optional<core::RunDir>& resumed,
                const core::RecordedRun& previous) {
    core::LoadOptions load_options;
    load_options.hosts_override = options.hosts;
    load_options.hostfile = options.hostfile;
    LoadedSpec loaded;
    std::string path = options.spec;
    if (options.spec_text) {
        loaded.text = *options.spec_text;
    } else if (path.empty()) {
        loaded.text = core::read_spec_file(resumed->spec_path());
        path = previous.started ? previous.spec_path : resumed->spec_path();
        load_options.lines_dir = core::inputs_dir(resumed->path());
    } else {
        loaded.text = core::read_spec_file(path);
    }
    loaded.spec = core::load_spec_text(path, loaded.text, load_options);
    if (options.local) {
        for (auto& host : loaded.spec.hosts) {
            host.transport = core::TransportKind::local;
            host.slots = host.auto_slots ? core::local_cpu_count() : host.slots;
        }
    }
    return loaded;
}

bool show_progress(const RunOptions& options) {
    if (options.progress == "always") {
        return true;
    }
    return options.progress == "auto" && isatty(STDERR_FILENO) == 1 && !options.stream;
}

// Prints each output line of a shard as it comes, tagged with where it ran: stdout lines on stdout, stderr
// lines on stderr, like GNU parallel's --tag --line-buffer. The lines are the shard's own bytes; the tag is
// sshard's, so it is made safe. When the output is closed (its reader went away),
// the run is stopped as by SIGTERM: its shards are recorded, none is left running.
core::LineListener stream_listener(const core::Attempt& attempt, const core::Spec& spec, std::mutex& mutex,
                                   bool& closed) {
    std::string tag =
        terminal_safe(fmt::format("{}[{}]@{}: ", attempt.job->name, attempt.index, spec.hosts[attempt.host].name));
    return [tag, &mutex, &closed](core::Stream stream, std::string_view line) {
        std::lock_guard lock(mutex);
        std::ostream& out = stream == core::Stream::out ? std::cout : std::cerr;
        if (closed) {
            return;
        }
        out << tag << line << '\n';
        out.flush();
        if (!out) {
            closed = true;
            std::cerr << "sshard: standard " << (stream == core::Stream::out ? "output" : "error")
                      << " was closed: stopping\n";
            ::kill(::getpid(), SIGTERM);
        }
    };
}

core::Duration parse_down_limit(const std::string& text) {
    auto limit = core::parse_duration(text);
    if (!limit || limit->count() == 0) {
        throw core::UsageError(fmt::format("bad --down-limit '{}': a duration above zero, such as 30s or 5m", text));
    }
    return *limit;
}

// A run exits 0 only when the report, which counts every shard by its last outcome over all sessions, finds
// every shard succeeded: a resume that leaves shards not run does not.
int exit_code(const core::RunSummary& summary, const core::Report& report) {
    if (summary.interrupted) {
        return k_exit_interrupted;
    }
    if (summary.no_hosts) {
        return k_exit_cannot_proceed;
    }
    return report.run.shards.succeeded == report.run.shards.total ? k_exit_ok : k_exit_shards_failed;
}

// Stops the run when the journal cannot be written, as SIGTERM would: the failure comes on the journal's
// thread, possibly before the scheduler exists.
class JournalFailure {
public:
    void failed(const std::string& message) {
        std::lock_guard lock(m_mutex);
        m_failed = true;
        if (m_scheduler != nullptr) {
            std::cerr << "sshard: error: " << message << ": stopping the run\n";
            m_scheduler->interrupt();
        }
    }
    // Stops `scheduler` on a failure, from now until the returned guard goes, which must be before the
    // scheduler does.
    auto watch(core::Scheduler& scheduler) {
        std::lock_guard lock(m_mutex);
        m_scheduler = &scheduler;
        if (m_failed) {
            scheduler.interrupt();
        }
        auto unwatch = [this](JournalFailure*) {
            std::lock_guard guard(m_mutex);
            m_scheduler = nullptr;
        };
        return std::unique_ptr<JournalFailure, decltype(unwatch)>(this, unwatch);
    }

private:
    std::mutex m_mutex;
    bool m_failed = false;
    core::Scheduler* m_scheduler = nullptr;
};

} // namespace

int run_command(const RunOptions& options) {
    SignalWatcher signals; // first: every thread made after it inherits the blocked signals
    std::optional<core::RunDir> resumed;
    std::optional<core::RunLock> lock; // held to the end: one runner per run directory
    core::RecordedRun previous;
    if (!options.resume.empty()) {
        resumed = core::RunDir::open(options.resume);
        lock.emplace(*resumed); // before anything in the run is read or written
        previous = core::read_recorded_run(resumed->journal_path());
    }
    LoadedSpec loaded = load(options, resumed, previous);
    const core::Spec& spec = loaded.spec;
    core::Plan plan = core::make_plan(spec);
    if (options.dry_run) {
        print_plan_text(std::cout, plan, options.show_env);
        return k_exit_ok;
    }
    // Opened before a new run directory is made, so that a joblog that cannot be written leaves none behind.
    std::optional<core::JoblogWriter> joblog;
    if (!options.joblog.empty()) {
        joblog.emplace(options.joblog, spec, resumed.has_value());
    }
    core::RunDir dir = resumed                   ? *resumed
                       : options.run_dir.empty() ? core::RunDir::create(".sshard/runs", spec.name, loaded.text)
                                                 : core::RunDir::create_at(options.run_dir, loaded.text);
    if (!lock) {
        lock.emplace(dir);
    }
    core::OpenDir outputs = dir.open_outputs();
    if (resumed && !options.spec.empty()) {
        dir.replace_spec(loaded.text);
    }
    if (!resumed || !options.spec.empty()) {
        core::save_inputs(dir.path(), spec);
    }
    // A run whose runner died before it recorded its start ran nothing: its resume starts it from its spec copy.
    std::string spec_path = options.spec_text  ? dir.spec_path()
                            : !resumed         ? std::filesystem::absolute(options.spec).string()
                            : previous.started ? previous.spec_path
                                               : resumed->spec_path();

    JournalFailure journal_failure;
    core::JournalWriter journal(dir.journal_path(), std::chrono::milliseconds(50),
                                [&](const std::string& message) { journal_failure.failed(message); });
    core::JournalRecorder recorder(journal, plan);
    core::SystemClock clock;
    // On disk before anything is dispatched: a runner killed from here on leaves a run that resumes.
    recorder.run_started(dir.id(), spec_path, resumed.has_value(), clock.wall());
    journal.sync();

    RunDisplay display(plan, show_progress(options));
    GroupPrinter group(spec, outputs.fd(),
                       options.titles_by_host ? GroupPrinter::Title::host : GroupPrinter::Title::shard,
                       show_progress(options));
    core::ListenerList listeners(options.group ? std::vector<core::RunListener*>{&recorder, &group, &display}
                                               : std::vector<core::RunListener*>{&recorder, &display});
    std::mutex stream_mutex;
    bool stream_closed = false; // guarded by stream_mutex
    core::SchedulerOptions scheduling;
    scheduling.fail_fast = options.fail_fast;
    scheduling.max_parallel = options.max_parallel;
    scheduling.down_limit = parse_down_limit(options.down_limit);
    scheduling.seed = std::random_device{}();
    scheduling.run_id = dir.id();
    scheduling.history = resumed ? &previous.history : nullptr;
    scheduling.first_attempt_id = previous.last_attempt_id + 1;
    scheduling.retry_failed = options.retry_failed;
    scheduling.make_output = [&](const core::Attempt& a) {
        return std::make_shared<core::OutputFiles>(
            outputs, a.job->name, fmt::format("{}.{}", a.index, a.number),
            options.stream ? stream_listener(a, spec, stream_mutex, stream_closed) : core::LineListener{});
    };
    if (joblog) {
        scheduling.record_end = [&](const core::Attempt& a, const core::Outcome& o) { return joblog->write(a, o); };
    }

    core::Scheduler scheduler(plan, clock, listeners, std::move(scheduling));
    auto watching = journal_failure.watch(scheduler);
    transport::SshOptions ssh_options;
    ssh_options.config_file = options.ssh_config;
    ssh_options.accept_new_host_keys = options.accept_new_host_keys;
    ssh_options.max_handshakes = options.max_handshakes > 0 ? options.max_handshakes : ssh_options.max_handshakes;
    if (options.verbose) {
        ssh_options.log = print_log_line;
    }
    transport::TransportSet transport(scheduler, spec.hosts, ssh_options);
    signals.set_handler([&](int) {
        if (signals.count() == 1) {
            std::cerr << "\nsshard: interrupted: stopping the running shards (again to kill them at once)\n";
        }
        scheduler.interrupt();
    });
    core::RunSummary summary = core::run_to_end(scheduler, transport);
    signals.set_handler({});
    transport.shutdown();
    std::optional<std::string> journal_error;
    try {
        journal.sync();
    } catch (const core::Error& e) {
        journal_error = e.what();
    }
    core::Report report = core::build_report(dir.path());
    if (options.print_end) {
        options.print_end(dir.path());
    } else {
        print_report_text(std::cout, report);
        fmt::print(std::cout, "\nrecords in {}\n", dir.path());
    }
    std::cout.flush();
    if (journal_error) {
        std::cerr << "sshard: error: " << *journal_error << "; the journal keeps what was recorded before: "
                  << "resume with --resume " << dir.path() << " once it can be written\n";
        return k_exit_cannot_proceed;
    }
    return exit_code(summary, report);
}

} // namespace sshard::cli
