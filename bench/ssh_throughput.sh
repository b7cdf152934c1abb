#!/usr/bin/env bash
# Runs the same N trivial shards (`true`) on a 4-host loopback SSH cluster, 8 slots a host, with sshard,
# GNU parallel --sshlogin (plain and with -M, its ControlMaster mode), and OpenSSH ControlMaster with
# `xargs -P`, and prints shards per second for each, sshard's peak memory, and the CPU per shard of the hosts
# (their sshd listeners' trees) and of the whole machine, then how much faster sshard was than each.
# usage: bench/ssh_throughput.sh [N] [BUILD_DIR] [N_PLAIN]
#   (default N=2000; N_PLAIN shards, default 200 or N if smaller, for plain GNU parallel, which opens a
#   connection per shard and takes minutes for thousands; run as root: it starts sshd hosts)
#
# A figure is printed only for a run that did all its shards: the tool exited 0, its own record says every
# shard succeeded (sshard's journal, GNU parallel's joblog; for xargs, which keeps none, each `ssh` that
# succeeded prints a line), and it left no process behind (each tool runs in a session of its own, checked
# and emptied when it exits). Otherwise the tool's line says FAILED and why.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
build=${2:-build}
n_plain=${3:-$((n < 200 ? n : 200))}
command -v parallel >/dev/null || { apt-get install -y -qq parallel >/dev/null; }
work=$(mktemp -d)
cluster="$work/cluster"
# The cgroup goes once its last process has been reaped, which may take a moment after the cluster stops.
cleanup() {
  tests/ssh/cluster.sh stop "$cluster" >/dev/null 2>&1 || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [[ -z ${cg:-} || ! -d $cg ]] || rmdir "$cg" 2>/dev/null || { sleep 0.5; continue; }
    break
  done
  rm -rf "$work"
}
trap cleanup EXIT
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
tests/ssh/cluster.sh start "$cluster" 4 >/dev/null
cfg="$cluster/ssh_config"

# The hosts' CPU: the cluster's sshd listeners are put in a cpuacct cgroup of their own (cgroup v1), which
# every process they start joins and which keeps counting after those exit or are re-parented: connections,
# sessions, shells, workers and shards. The whole machine's CPU, from /proc/stat, for reference: it counts the
# client too, and whatever else runs. Ticks of /proc/stat are 1/CLK_TCK s; cpuacct.usage is in ns.
clk=$(getconf CLK_TCK)
cg=/sys/fs/cgroup/cpuacct/sshard-bench-$$
if mkdir "$cg" 2>/dev/null; then
  for i in 1 2 3 4; do cat "$cluster/host$i/sshd.pid" >"$cg/cgroup.procs"; done
fi
hosts_ns() { cat "$cg/cpuacct.usage" 2>/dev/null || echo 0; }
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
summary="$work/summary"

# Runs a tool (the rest of the arguments) in a session of its own with its output in $work/out, and sets
# `seconds`, `failure` (empty when it exited 0 and left nothing running) and the CPU it cost.
run_tool() {
  local start end status=0 left h0 m0 h1 m1
  h0=$(hosts_ns)
  m0=$(machine_ticks)
  start=$(date +%s.%N)
  setsid "$@" >"$work/out" 2>"$work/err" </dev/null &
  local sid=$!
  wait "$sid" || status=$?
  end=$(date +%s.%N)
  seconds=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$start" "$end")
  left=$(pgrep -c -s "$sid" || true)
  pkill -KILL -s "$sid" 2>/dev/null || true
  failure=
  ((status == 0)) || failure="exit status $status: $(head -c 300 "$work/err" | tr '\n' ' ')"
  ((left == 0)) || failure="${failure:+$failure; }$left processes still running when it exited"
  sleep 1 # the last sessions end
  h1=$(hosts_ns)
  m1=$(machine_ticks)
  cpu=$(python3 -c "import sys; h, m, n, c = map(float, sys.argv[1:]); print(f'{h / 1e6 / n:.2f} {1000 * m / c / n:.2f}')" \
    "$((h1 - h0))" "$((m1 - m0))" "$shards" "$clk")
}

# Prints the figures of the tool just run (named by `tool`), or why there are none, and keeps its rate for the
# summary. $1 is the number of shards its record shows done.
report() {
  local done=$1
  ((done == shards)) || failure="${failure:+$failure; }$done of $shards shards done"
  if [[ -n $failure ]]; then
    echo "  FAILED: $failure"
    return
  fi
  local rate
  rate=$(python3 -c "import sys; r = float(sys.argv[1]) / float(sys.argv[2]); print(f'{r:.1f}' if r < 100 else f'{r:.0f}')" \
    "$shards" "$seconds")
  echo "  $rate shards/s ($seconds s for $shards shards)"
  echo "  hosts CPU ${cpu% *} ms/shard, machine CPU ${cpu#* } ms/shard"
  echo "$shards $seconds ${cpu#* }" >"$summary.$tool"
}

cat >"$work/spec.yaml" <<YAML
version: 1
hosts: ["8/node[1-4]"]
jobs: [{name: trivial, command: "true", shards: {count: $n}}]
YAML
tool=sshard shards=$n
echo "sshard:"
run_tool bench/measure "$build/sshard" run "$work/spec.yaml" --ssh-config "$cfg" --run-dir "$work/run" --progress never
echo "  $(cat "$work/out")"
seconds=$(sed -n 's/^exit [0-9]*, \([0-9.]*\) s,.*/\1/p' "$work/out") # sshard's own, without measure's start
report "$(grep -c '"event":"attempt_end".*"verdict":"succeeded"' "$work/run/journal.jsonl" || true)"

# The joblog's shards (Seq) that exited 0, each counted once.
joblog_done() { awk 'NR > 1 && $7 == 0 { done[$1] = 1 } END { print length(done) }' "$work/joblog"; }
logins="8/node1,8/node2,8/node3,8/node4"
tool=parallel shards=$n_plain
echo "GNU parallel --sshlogin ($shards shards):"
rm -f "$work/joblog"
run_tool parallel --joblog "$work/joblog" --ssh "ssh -F $cfg" -S "$logins" true ::: $(seq "$shards")
report "$(joblog_done)"
tool=parallel_m shards=$n
echo "GNU parallel --sshlogin -M:"
rm -f "$work/joblog"
run_tool parallel -M --joblog "$work/joblog" --ssh "ssh -F $cfg" -S "$logins" true ::: $(seq "$shards")
report "$(joblog_done)"

cm="$work/cm_config"
{ printf 'ControlMaster auto\nControlPath %s/cm-%%h\nControlPersist 120\n' "$work"; cat "$cfg"; } >"$cm"
for h in 1 2 3 4; do ssh -F "$cm" -fN "node$h"; done
tool=xargs shards=$n
echo "OpenSSH ControlMaster + xargs -P 32:"
run_tool sh -c "seq $shards | awk '{print \"node\" (\$1 % 4 + 1)}' |
  xargs -P 32 -I{} sh -c 'ssh -F \"\$0\" \"\$1\" true && echo ok' $cm {}"
report "$(grep -c '^ok$' "$work/out" || true)"
for h in 1 2 3 4; do ssh -F "$cm" -O exit "node$h" 2>/dev/null || true; done

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -f $summary.sshard ]]; then
  for other in parallel parallel_m xargs; do
    [[ -f $summary.$other ]] || continue
    # shellcheck disable=SC2046 # each file holds three numbers: shards, seconds, machine CPU ms per shard
    python3 -c "import sys; n, s, c, m, t, d = map(float, sys.argv[2:]); print(f'sshard / {sys.argv[1]}: {n / s / (m / t):.1f}x the shards/s, {d / c:.1f}x less machine CPU per shard')" \
      "$other" $(cat "$summary.sshard" "$summary.$other")
  done
fi
