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

#include "cli/elastic_hosts.hpp"
#include "cli/exit_codes.hpp"
#include "cli/group_printer.hpp"
#include "cli/plan_check.hpp"
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

Command add_run_command(CLI::App& app) {
    auto options = std::make_shared<RunOptions>();
    CLI::App* command = app.add_subcommand("run", "Run a spec's shards on its hosts");
    command->add_option("SPEC", options->spec, "The job spec (YAML); with --resume, the run's own copy by default");
    add_host_options(*command, options->hosts);
    command->add_flag("--show-env", options->show_env, "With --dry-run, show environment values");
    add_env_option(*command, options->pass_env);
    auto* dry_run =
        command->add_flag("--dry-run,-n", options->dry_run, "Show the plan, as `sshard plan` does, and run nothing");
    command
        ->add_flag("--check", options->check,
                   "With --dry-run, connect to the hosts and say how many bytes each job's stage would send to each")
        ->needs(dry_run);
    command->add_flag("--local", options->local,
                      "Run every host's shards on this machine, each host keeping its slots and labels");
    auto* run_dir = command->add_option("--run-dir", options->run_dir,
                                        "Keep this run's records in DIR (default .sshard/runs/<run-id>)");
    auto* resume =
        command->add_option("--resume", options->resume, "Continue the run in RUN_DIR (or the latest run under it)");
    command->add_flag("--retry-failed", options->retry_failed, "With --resume, run failed shards again")->needs(resume);
    run_dir->excludes(resume);
    command->add_flag("--fail-fast", options->fail_fast,
                      "After the first shard that fails for good, start nothing new");
    command->add_option("--max-parallel", options->max_parallel, "At most N shards in flight across all hosts")
        ->check(count_check(" (without the flag, the hosts' slots are the limit)"));
    command
        ->add_option("--down-limit", options->down_limit,
                     "Fail a job's remaining shards when all its hosts have been down this long")
        ->check(duration_check())
        ->capture_default_str();
    command->add_option("--progress", options->progress, "The live progress line on stderr")
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->capture_default_str();
    auto* stream =
        command->add_flag("--stream", options->stream, "Print every output line as it comes, tagged job[index]@host");
    command->add_flag("--group", options->group, "Print each shard's output whole when it ends, under job[index]@host")
        ->excludes(stream);
    command->add_option("--joblog", options->joblog, "Also log each attempt to FILE in GNU parallel's joblog format");
    add_ssh_options(*command, options->ssh);
    return {command, [options] {
                if (options->spec.empty() && options->resume.empty()) {
                    throw CLI::RequiredError("SPEC (or --resume RUN_DIR)");
                }
                return run_command(*options);
            }};
}

namespace {

// Hosts a run can take from its host file while it runs, beyond those it started with.
constexpr std::size_t k_max_added_hosts = 4096;

// The spec to run and its text: the one named on the command line, or on resume without one, the run's copy
// (loaded under its first path, for messages, with the run's copies of its `lines` files).
struct LoadedSpec {
    core::Spec spec;
    std::string text;
    core::HostFlagsRecord host_flags; // what the hosts were taken from instead of the spec's, for the journal
};

// The hosts this session was told to use instead of its spec's: a resume given none of --hosts, --hostfile
// and --local uses those of its last session.
core::HostFlagsRecord session_host_flags(const RunOptions& options, const core::RecordedRun& previous) {
    core::HostFlagsRecord flags{options.hosts.list, options.hosts.file, options.local};
    return flags.any() || options.resume.empty() ? flags : previous.host_flags;
}

LoadedSpec load(const RunOptions& options, const std::optional<core::RunDir>& resumed,
                const core::RecordedRun& previous) {
    LoadedSpec loaded;
    loaded.host_flags = session_host_flags(options, previous);
    core::LoadOptions load_options = host_load_options({loaded.host_flags.list, loaded.host_flags.file});
    if (loaded.host_flags.file) { // a later resume may start elsewhere
        loaded.host_flags.file = std::filesystem::absolute(*loaded.host_flags.file).string();
    }
    load_options.pass_env = options.pass_env;
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
    if (!loaded.spec.hosts_file.empty()) {
        // Hosts added from the file during the run go at the end, and what is running holds their addresses.
        loaded.spec.hosts.reserve(loaded.spec.hosts.size() + k_max_added_hosts);
    }
    if (loaded.host_flags.local) {
        for (auto& host : loaded.spec.hosts) {
            host.transport = core::TransportKind::local;
            host.slots = host.auto_slots ? core::local_cpu_count() : host.slots;
        }
    }
    return loaded;
}

// The resumed run's directory, or a new one (under .sshard/runs, or the one --run-dir names) that `lock` then
// holds, as it already holds the resumed one.
core::RunDir open_run_dir(const RunOptions& options, const LoadedSpec& loaded,
                          const std::optional<core::RunDir>& resumed, std::optional<core::RunLock>& lock) {
    if (resumed) {
        return *resumed;
    }
    core::RunDir made = options.run_dir.empty() ? core::RunDir::create(".sshard/runs", loaded.spec.name, loaded.text)
                                                : core::RunDir::create_at(options.run_dir, loaded.text);
    lock.emplace(made);
    return made;
}

// Local files' hashes are kept beside the run directory, so that the next run stages an unchanged tree without
// reading it again.
void share_stage_hashes(const core::Plan& plan, const core::RunDir& dir) {
    auto hashes = std::make_shared<core::StageHashCache>(core::stage_hash_cache_path(dir.path()));
    for (const auto& job : plan.jobs) {
        if (job.stage) {
            job.stage->use_hash_cache(hashes);
        }
    }
}

// The copies of the spec and its `lines` files that this session runs, kept in the run directory so that a
// later resume without a spec runs the same; and the stage hashes kept beside it.
void save_run_copies(const RunOptions& options, const LoadedSpec& loaded, const core::Plan& plan, bool resuming,
                     core::RunDir& dir) {
    if (resuming && !options.spec.empty()) {
        dir.replace_spec(loaded.text);
    }
    if (!resuming || !options.spec.empty()) {
        core::save_inputs(dir.path(), loaded.spec);
    }
    share_stage_hashes(plan, dir);
}

// What the journal's run_start records of this session. The spec's path is the first session's: a run whose
// runner died before it recorded its start ran nothing, and its resume starts it from its spec copy.
core::JournalRecorder::Session session_start(const RunOptions& options, const LoadedSpec& loaded,
                                             const core::RunDir& dir, const std::optional<core::RunDir>& resumed,
                                             const core::RecordedRun& previous) {
    core::JournalRecorder::Session session{dir.id(), "", resumed.has_value(), options.max_parallel, loaded.host_flags};
    if (options.spec_text) {
        session.spec_path = dir.spec_path();
    } else if (!resumed) {
        session.spec_path = std::filesystem::absolute(options.spec).string();
    } else {
        session.spec_path = previous.started ? previous.spec_path : resumed->spec_path();
    }
    return session;
}

// `run --dry-run`: the plan, as `sshard plan` shows it, and with --check what each stage would send.
int print_dry_run(const RunOptions& options, const core::Plan& plan) {
    print_plan_text(std::cout, plan, options.show_env);
    if (options.check) {
        print_stage_checks_text(std::cout, check_stages(plan, ssh_options(options.ssh)));
    }
    std::cout.flush();
    return std::cout ? k_exit_ok : k_exit_cannot_proceed;
}

bool show_progress(const RunOptions& options) {
    if (options.progress == "always") {
        return true;
    }
    return options.progress == "auto" && isatty(STDERR_FILENO) == 1 && !options.stream;
}

// --stream: prints each output line of a shard as it comes, tagged with where it ran: stdout lines on stdout,
// stderr lines on stderr, like GNU parallel's --tag --line-buffer. The lines are the shard's own bytes; the
// tag is sshard's, so it is made safe. When the output is closed (its reader went away), the run is stopped
// as by SIGTERM: its shards are recorded, none is left running.
class StreamPrinter {
public:
    // `spec` names the hosts in the tags, and must outlive the printer.
    explicit StreamPrinter(const core::Spec& spec) : m_spec(spec) {}

    core::LineListener listener(const core::Attempt& attempt) {
        std::string tag = terminal_safe(
            fmt::format("{}[{}]@{}: ", attempt.job->name, attempt.index, m_spec.hosts[attempt.host].name));
        return [this, tag](core::Stream stream, std::string_view line) { print(tag, stream, line); };
    }

private:
    void print(const std::string& tag, core::Stream stream, std::string_view line) {
        std::lock_guard lock(m_mutex);
        std::ostream& out = stream == core::Stream::out ? std::cout : std::cerr;
        if (m_closed) {
            return;
        }
        out << tag << line << '\n';
        out.flush();
        if (!out) {
            m_closed = true;
            std::cerr << "sshard: standard " << (stream == core::Stream::out ? "output" : "error")
                      << " was closed: stopping\n";
            ::kill(::getpid(), SIGTERM);
        }
    }

    const core::Spec& m_spec;
    std::mutex m_mutex;
    bool m_closed = false; // guarded by m_mutex
};

// --joblog's writer, or none. Throws core::Error when the file cannot be opened.
std::unique_ptr<core::JoblogWriter> open_joblog(const RunOptions& options, const core::Spec& spec, bool resuming) {
    if (options.joblog.empty()) {
        return nullptr;
    }
    return std::make_unique<core::JoblogWriter>(options.joblog, spec, resuming);
}

// What the scheduler needs beyond the plan and the places attempts are written to: the flags and what
// earlier sessions did.
core::SchedulerOptions scheduler_options(const RunOptions& options, const core::RunDir& dir,
                                         const core::RecordedRun& previous, bool resuming,
                                         std::vector<core::HostSpec>& hosts) {
    core::SchedulerOptions scheduling;
    scheduling.host_table = &hosts; // where hosts added during the run go
    scheduling.fail_fast = options.fail_fast;
    scheduling.max_parallel = options.max_parallel;
    scheduling.down_limit = parse_duration_flag("--down-limit", options.down_limit);
    scheduling.seed = std::random_device{}();
    scheduling.run_id = dir.id();
    scheduling.collect_dir = dir.path();
    scheduling.history = resuming ? &previous.history : nullptr;
    scheduling.first_attempt_id = previous.last_attempt_id + 1;
    scheduling.retry_failed = options.retry_failed;
    return scheduling;
}

// Where each attempt goes besides the journal: its output to the run directory's files (and with --stream, to
// the terminal), its end to the joblog when there is one. Everything given must outlive the scheduler.
void route_attempts(core::SchedulerOptions& scheduling, const RunOptions& options, const core::OpenDir& outputs,
                    StreamPrinter& stream, core::JoblogWriter* joblog) {
    scheduling.make_output = [&options, &outputs, &stream](const core::Attempt& a) {
        return std::make_shared<core::OutputFiles>(outputs, a.job->name, fmt::format("{}.{}", a.index, a.number),
                                                   options.stream ? stream.listener(a) : core::LineListener{});
    };
    if (joblog != nullptr) {
        scheduling.record_end = [joblog](const core::Attempt& a, const core::Outcome& o) {
            return joblog->write(a, o);
        };
    }
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

// Runs the scheduler over the hosts' transports until every shard has settled or the run was stopped by a
// signal (the first stops the running shards, see SignalWatcher).
// `previous` is what earlier sessions recorded (empty for a new run).
core::RunSummary run_scheduler(core::Scheduler& scheduler, const core::Spec& spec, const RunOptions& options,
                               const core::RunDir& dir, const core::RecordedRun& previous, SignalWatcher& signals,
                               RunDisplay& display) {
    transport::SshOptions ssh = ssh_options(options.ssh);
    if (ssh.log) {
        ssh.log = [&display](std::string_view line) { display.print_above("sshard: " + terminal_safe(line)); };
    }
    if (options.max_handshakes > 0) {
        ssh.max_handshakes = options.max_handshakes;
    }
    transport::TransportSet transport(scheduler, spec.hosts, ssh, dir.path() + "/slurm",
                                      previous.history.submitted_handles());
    signals.set_handler([&](int) {
        if (signals.count() == 1) {
            display.print_above("sshard: interrupted: stopping the running shards (again to kill them at once)");
        }
        scheduler.interrupt();
    });
    std::vector<std::string> names;
    for (const auto& host : spec.hosts) {
        names.push_back(host.name);
    }
    std::optional<ElasticHosts> elastic;
    elastic.emplace(scheduler, display, dir.path(), spec.hosts_file, names);
    core::RunSummary summary = core::run_to_end(scheduler, transport);
    elastic.reset();
    signals.set_handler({});
    transport.shutdown();
    return summary;
}

// Commits the journal's last lines, prints the report built from it and returns the exit code. A journal that
// cannot be written at the end keeps what it recorded before: the run resumes from there.
int finish(const RunOptions& options, core::JournalWriter& journal, const core::RunDir& dir,
           const core::RunSummary& summary) {
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

} // namespace

// The passes of a run, in order. Each object lives to the end of the run, and the order of their making is
// the order of their going, in reverse: the transports stop before the scheduler, the scheduler before the
// journal, the journal before the lock on the run directory is released.
int run_command(const RunOptions& options) {
    SignalWatcher signals; // first: every thread made after it inherits the blocked signals

    // 1. With --resume, the run directory, locked before anything in it is read, and what its journal recorded.
    std::optional<core::RunDir> resumed;
    std::optional<core::RunLock> lock; // held to the end: one runner per run directory
    core::RecordedRun previous;
    if (!options.resume.empty()) {
        resumed = core::RunDir::open(options.resume);
        lock.emplace(*resumed);
        previous = core::read_recorded_run(resumed->journal_path());
    }

    // 2. The spec and its plan. A dry run stops here, having touched nothing.
    LoadedSpec loaded = load(options, resumed, previous);
    const core::Spec& spec = loaded.spec;
    core::Plan plan = core::make_plan(spec);
    if (options.dry_run) {
        return print_dry_run(options, plan);
    }

    // 3. The joblog, opened before a new run directory is made: one that cannot be written leaves none behind.
    std::unique_ptr<core::JoblogWriter> joblog = open_joblog(options, spec, resumed.has_value());

    // 4. The run directory: made (and locked) or the resumed one, with this session's spec and inputs.
    core::RunDir dir = open_run_dir(options, loaded, resumed, lock);
    core::OpenDir outputs = dir.open_outputs();
    save_run_copies(options, loaded, plan, resumed.has_value(), dir);

    // 5. The journal, and in it the run's start, on disk before anything is dispatched: a runner killed from
    //    here on leaves a run that resumes.
    JournalFailure journal_failure;
    core::JournalWriter journal(dir.journal_path(), std::chrono::milliseconds(50),
                                [&](const std::string& message) { journal_failure.failed(message); });
    core::JournalRecorder recorder(journal, plan);
    core::SystemClock clock;
    recorder.run_started(session_start(options, loaded, dir, resumed, previous), clock.wall());
    journal.sync();

    // 6. The run, each attempt told to the journal and the terminal, until every shard has settled or a signal
    //    or a journal that cannot be written stopped it.
    RunDisplay display(plan, show_progress(options));
    std::optional<GroupPrinter> group;
    if (options.group) {
        group.emplace(spec, outputs.fd(),
                      options.titles_by_host ? GroupPrinter::Title::host : GroupPrinter::Title::shard, display);
    }
    core::ListenerList listeners(group ? std::vector<core::RunListener*>{&recorder, &*group, &display}
                                       : std::vector<core::RunListener*>{&recorder, &display});
    StreamPrinter stream(spec);
    auto scheduling = scheduler_options(options, dir, previous, resumed.has_value(), loaded.spec.hosts);
    route_attempts(scheduling, options, outputs, stream, joblog.get());
    core::Scheduler scheduler(plan, clock, listeners, std::move(scheduling));
    auto watching = journal_failure.watch(scheduler);
    core::RunSummary summary = run_scheduler(scheduler, spec, options, dir, previous, signals, display);

    // 7. The report, from the journal alone.
    return finish(options, journal, dir, summary);
}

} // namespace sshard::cli
