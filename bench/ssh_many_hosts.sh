#!/usr/bin/env bash
# Runs a spec over 256 host names, aliases spread over a 4-host loopback SSH cluster, and prints the
# connection set-up time per host (from the journal) and sshard's peak memory, in all and per host. Each
# host gets one 3-second shard, so that every host is connected and in use at once.
# usage: bench/ssh_many_hosts.sh [HOSTS] [BUILD_DIR]      (default 256; run as root: it starts sshd hosts)
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=${1:-256}
build=${2:-build}
work=$(mktemp -d)
cluster="$work/cluster"
trap 'tests/ssh/cluster.sh stop "$cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
tests/ssh/cluster.sh start "$cluster" 4 >/dev/null
# One alias per host name, each pointing at one of the four sshds. The shared settings come first: libssh
# matches later Host blocks against the HostName, not the alias (see BUGS in sshard(1)).
{
  echo "Host h*"
  sed -e '/^Host /d' -e '/HostName/d' -e '/^ *$/d' "$cluster/ssh_config" | sort -u
  for i in $(seq 1 "$hosts"); do
    printf 'Host h%03d\n  HostName 127.0.0.%d\n' "$i" $((11 + i % 4))
  done
} > "$work/ssh_config"
cat > "$work/spec.yaml" <<YAML
version: 1
hosts: ["h[001-$(printf %03d "$hosts")]"]
jobs: [{name: wait, command: "sleep 3", shards: {count: $hosts}}]
YAML
bench/measure "$build/sshard" run "$work/spec.yaml" --ssh-config "$work/ssh_config" --run-dir "$work/run" \
  --progress never
python3 - "$work/run/journal.jsonl" "$hosts" <<'PY'
import json, sys
setups = [e["setup_s"] for e in map(json.loads, open(sys.argv[1])) if e["event"] == "host_up"]
setups.sort()
print(f"{len(setups)} of {sys.argv[2]} hosts up; set-up per host: median {setups[len(setups)//2]*1000:.0f} ms, "
      f"max {setups[-1]*1000:.0f} ms")
PY
