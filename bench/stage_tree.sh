#!/usr/bin/env bash
# Stages a 100 MB tree (one 90 MB file and 1,000 files of 10 KB) to the 4 hosts of a loopback SSH cluster
# with sshard's `stage`, then again unchanged (it must send 0 bytes), then copies the same tree with
# `clush --copy` and with `pdcp -r`, where they are installed, and prints each one's wall time.
# usage: bench/stage_tree.sh [BUILD_DIR]   (run as root: it starts sshd hosts on SSHARD_CLUSTER_PORT)
#
# The cluster's hosts are one machine and one user, so each host is given a directory of its own (as separate
# machines would have): sshard runs one job per host, each with its own workdir; clush and pdcp run once per
# host, the four at the same time. Every copy is checked byte for byte afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d)
chmod 755 "$work"
cluster="$work/cluster"
cleanup() {
  tests/ssh/cluster.sh stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
tests/ssh/cluster.sh start "$cluster" 4 >/dev/null
cfg="$cluster/ssh_config"
user=$(awk '$1 == "User" { print $2; exit }' "$cfg")

tree="$work/tree"
mkdir -p "$tree/small"
head -c 90000000 /dev/urandom >"$tree/big"
for i in $(seq 1000); do head -c 10000 /dev/urandom >"$tree/small/$i"; done
echo "tree: $(du -sb "$tree" | cut -f1) bytes in $(find "$tree" -type f | wc -l) files; load $(cut -d' ' -f1-3 /proc/loadavg)"

# Fresh, empty directories for the hosts, owned by the cluster's user.
fresh() {
  rm -rf "$work/dest"
  for h in 1 2 3 4; do install -d -o "$user" "$work/dest/h$h"; done
}
check() {
  for h in 1 2 3 4; do diff -r "$tree" "$work/dest/h$h/$1" >/dev/null || { echo "  FAILED: h$h differs"; return; }; done
}
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

{
  echo "version: 1"
  echo "hosts: [\"node[1-4]\"]"
  echo "jobs:"
  for h in 1 2 3 4; do
    echo "  - {name: n$h, hosts: node$h, workdir: $work/dest/h$h, command: \"true\", stage: [{from: $tree, to: tree}]}"
  done
} >"$work/spec.yaml"
# The staging part of a run: the longest any host spent staging, from the journal.
staging() {
  python3 - "$1/journal.jsonl" <<'PY'
import json, sys
sent, longest = 0, 0.0
for line in open(sys.argv[1]):
    e = json.loads(line)
    t = e.get("transfer")
    if e.get("event") == "attempt_end" and t:
        sent += t["sent_bytes"]
        longest = max(longest, t["send_s"])
print(f"{sent} bytes sent, staging {longest:.2f} s on the slowest host")
PY
}
fresh
for pass in first second; do
  start=$(date +%s.%N)
  "$build/sshard" run "$work/spec.yaml" --ssh-config "$cfg" --run-dir "$work/run-$pass" --progress never >/dev/null
  end=$(date +%s.%N)
  echo "sshard stage, $pass run: $(seconds "$start" "$end") s in all; $(staging "$work/run-$pass")"
done
check tree

# Runs `$2 HOST DEST` for the four hosts at the same time (a tool named $1), then checks the copies.
copy_with() {
  local tool=$1 start end
  shift
  command -v "$tool" >/dev/null || { echo "$tool: not installed"; return; }
  fresh
  start=$(date +%s.%N)
  for h in 1 2 3 4; do "$@" "node$h" "$work/dest/h$h/" & done
  wait
  end=$(date +%s.%N)
  echo "$tool: $(seconds "$start" "$end") s"
  check tree
}
clush_copy() { clush -w "$1" -o "-F $cfg" --copy "$tree" --dest "$2"; }
pdcp_copy() { PDSH_SSH_ARGS_APPEND="-F $cfg" pdcp -R ssh -w "$1" -r "$tree" "$2"; }
copy_with clush clush_copy
copy_with pdcp pdcp_copy
