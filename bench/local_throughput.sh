#!/usr/bin/env bash
# Runs N trivial shards (`true`) on the local transport and reports shards per second and the runner's peak
# memory; run it at two sizes to see that memory stays flat as the shard count grows.
# usage: bench/local_throughput.sh [SHARDS] [BUILD_DIR]     (default 100000 shards)
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:-100000}
build=${2:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/spec.yaml" <<YAML
version: 1
hosts: [{name: here, transport: local, slots: 8}]
jobs:
  - {name: trivial, command: "true", shards: {count: $shards}}
YAML
start=$(date +%s.%N)
bench/measure "$build/sshard" run "$work/spec.yaml" --run-dir "$work/run" --progress never
end=$(date +%s.%N)
python3 -c "print(f'$shards shards, {$shards / ($end - $start):.0f} shards/s')"
