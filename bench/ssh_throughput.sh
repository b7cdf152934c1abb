#!/usr/bin/env bash
# Runs the same N trivial shards (`true`) on a 4-host loopback SSH cluster, 8 slots a host, with sshard,
# GNU parallel --sshlogin (plain and with -M, its ControlMaster mode), and OpenSSH ControlMaster with
# `xargs -P`, and prints shards per second for each and sshard's peak memory.
# usage: bench/ssh_throughput.sh [N] [BUILD_DIR]      (default N=2000; run as root: it starts sshd hosts)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
build=${2:-build}
command -v parallel >/dev/null || { apt-get install -y -qq parallel >/dev/null; }
work=$(mktemp -d)
cluster="$work/cluster"
trap 'tests/ssh/cluster.sh stop "$cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
tests/ssh/cluster.sh start "$cluster" 4 >/dev/null
cfg="$cluster/ssh_config"

rate() { python3 -c "import sys; print(f'{$n / float(sys.argv[1]):8.0f} shards/s  ({sys.argv[1]} s)')" "$1"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
timed() { local start; start=$(date +%s.%N); "$@" >/dev/null 2>&1; elapsed "$start" "$(date +%s.%N)"; }

cat > "$work/spec.yaml" <<YAML
version: 1
hosts: ["8/node[1-4]"]
jobs: [{name: trivial, command: "true", shards: {count: $n}}]
YAML
echo "sshard:"
start=$(date +%s.%N)
bench/measure "$build/sshard" run "$work/spec.yaml" --ssh-config "$cfg" --run-dir "$work/run" --progress never
end=$(date +%s.%N)
printf '  '; rate "$(elapsed "$start" "$end")"

logins="8/node1,8/node2,8/node3,8/node4"
echo "GNU parallel --sshlogin:"
printf '  '; rate "$(timed parallel --ssh "ssh -F $cfg" -S "$logins" true ::: $(seq "$n"))"
echo "GNU parallel --sshlogin -M:"
printf '  '; rate "$(timed parallel -M --ssh "ssh -F $cfg" -S "$logins" true ::: $(seq "$n"))"

cm="$work/cm_config"
{ printf 'ControlMaster auto\nControlPath %s/cm-%%h\nControlPersist 120\n' "$work"; cat "$cfg"; } > "$cm"
for h in 1 2 3 4; do ssh -F "$cm" -fN "node$h"; done
echo "OpenSSH ControlMaster + xargs -P 32:"
printf '  '; rate "$(timed sh -c "seq $n | awk '{print \"node\" (\$1 % 4 + 1)}' | xargs -P 32 -I{} ssh -F $cm {} true")"
for h in 1 2 3 4; do ssh -F "$cm" -O exit "node$h" 2>/dev/null || true; done
