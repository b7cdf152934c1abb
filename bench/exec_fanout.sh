#!/usr/bin/env bash
# `sshard exec` against pdsh and ClusterShell's clush: one `true` on each of 256 host names, aliases spread
# over a 4-host loopback SSH cluster (as in bench/ssh_many_hosts.sh), each tool run a few times, the median
# wall time printed. The target (issue 13): `sshard exec` in at most 0.8x the time of `pdsh -f 32`.
# usage: bench/exec_fanout.sh [HOSTS] [RUNS] [BUILD_DIR]   (default 256 3 build; run as root: it starts sshd
# hosts, and installs pdsh and clustershell when they are missing)
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-256}
runs=${2:-3}
build=${3:-build}
sshard=$(realpath "$build/sshard")
command -v pdsh >/dev/null || { apt-get install -y -qq pdsh >/dev/null; }
command -v clush >/dev/null || { apt-get install -y -qq clustershell >/dev/null; }
work=$(mktemp -d)
cluster="$work/cluster"
cluster_sh=$(realpath tests/ssh/cluster.sh)
trap '"$cluster_sh" stop "$cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$cluster_sh" start "$cluster" 4 >/dev/null
# One alias per host name, each pointing at one of the four sshds; the shared settings come first (libssh
# matches later Host blocks against the HostName, see BUGS in sshard(1)).
{
  echo "Host h*"
  sed -e '/^Host /d' -e '/HostName/d' -e '/^ *$/d' "$cluster/ssh_config" | sort -u
  for i in $(seq 1 "$hosts"); do
    printf 'Host h%03d\n  HostName 127.0.0.%d\n' "$i" $((11 + i % 4))
  done
} >"$work/ssh_config"
list="h[001-$(printf %03d "$hosts")]"
cd "$work" # sshard keeps its records in ./.sshard

# Runs a command RUNS times; prints each wall time and the median, and fails when a run does.
median() {
  local label=$1 times=()
  shift
  for _ in $(seq 1 "$runs"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>"$work/err" || { echo "$label failed:"; cat "$work/err"; exit 1; }
    end=$(date +%s.%N)
    times+=("$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$start" "$end")")
  done
  python3 -c "import sys, statistics; t = sorted(map(float, sys.argv[2:])); print(f'{sys.argv[1]:<28} median {statistics.median(t):5.2f} s   runs: {\" \".join(map(str, t))}')" \
    "$label" "${times[@]}"
}

export PDSH_SSH_ARGS="-F $work/ssh_config %h" PDSH_RCMD_TYPE=ssh
median "pdsh -f 32" pdsh -f 32 -w "$list" true
median "clush -b (fanout 64)" clush -b -w "$list" -o "-F $work/ssh_config" true
median "sshard exec (fanout 32)" "$sshard" exec --ssh-config "$work/ssh_config" --hosts "$list" -- true
median "sshard exec --fold" "$sshard" exec --ssh-config "$work/ssh_config" --hosts "$list" --fold -- true
