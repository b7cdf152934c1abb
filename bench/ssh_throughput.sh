#!/usr/bin/env bash
# Runs the same N trivial shards (`true`) on a 4-host loopback SSH cluster, 8 slots a host, with sshard,
# GNU parallel --sshlogin (plain and with -M, its ControlMaster mode), and OpenSSH ControlMaster with
# `xargs -P`, and prints shards per second for each, sshard's peak memory, and the CPU per shard of the hosts
# (their sshd listeners' trees) and of the whole machine.
# usage: bench/ssh_throughput.sh [N] [BUILD_DIR] [N_PLAIN]
#   (default N=2000; N_PLAIN shards, default N, for plain GNU parallel, which opens a connection per shard and
#   takes minutes for thousands; run as root: it starts sshd hosts)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
build=${2:-build}
n_plain=${3:-$n}
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
cpu_start() { h0=$(hosts_ns); m0=$(machine_ticks); }
cpu_report() {
  local h1 m1
  sleep 1 # the last sessions end
  h1=$(hosts_ns)
  m1=$(machine_ticks)
  python3 -c "import sys; h, m, n, c = map(float, sys.argv[1:]); print(f'  hosts CPU {h / 1e6 / n:.2f} ms/shard, machine CPU {1000 * m / c / n:.2f} ms/shard')" \
    "$((h1 - h0))" "$((m1 - m0))" "$n" "$clk"
}

rate() { python3 -c "import sys; print(f'{$n / float(sys.argv[1]):8.0f} shards/s  ({sys.argv[1]} s)')" "$1"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
timed() { local start; start=$(date +%s.%N); "$@" >/dev/null 2>&1; elapsed "$start" "$(date +%s.%N)"; }

cat > "$work/spec.yaml" <<YAML
version: 1
hosts: ["8/node[1-4]"]
jobs: [{name: trivial, command: "true", shards: {count: $n}}]
YAML
echo "sshard:"
cpu_start
start=$(date +%s.%N)
bench/measure "$build/sshard" run "$work/spec.yaml" --ssh-config "$cfg" --run-dir "$work/run" --progress never
end=$(date +%s.%N)
printf '  '; rate "$(elapsed "$start" "$end")"
cpu_report

logins="8/node1,8/node2,8/node3,8/node4"
echo "GNU parallel --sshlogin ($n_plain shards):"
n_all=$n
n=$n_plain
cpu_start
printf '  '; rate "$(timed parallel --ssh "ssh -F $cfg" -S "$logins" true ::: $(seq "$n"))"
cpu_report
n=$n_all
echo "GNU parallel --sshlogin -M:"
cpu_start
printf '  '; rate "$(timed parallel -M --ssh "ssh -F $cfg" -S "$logins" true ::: $(seq "$n"))"
cpu_report

cm="$work/cm_config"
{ printf 'ControlMaster auto\nControlPath %s/cm-%%h\nControlPersist 120\n' "$work"; cat "$cfg"; } > "$cm"
cpu_start
for h in 1 2 3 4; do ssh -F "$cm" -fN "node$h"; done
echo "OpenSSH ControlMaster + xargs -P 32:"
printf '  '; rate "$(timed sh -c "seq $n | awk '{print \"node\" (\$1 % 4 + 1)}' | xargs -P 32 -I{} ssh -F $cm {} true")"
for h in 1 2 3 4; do ssh -F "$cm" -O exit "node$h" 2>/dev/null || true; done
cpu_report
