#!/usr/bin/env bash
# Many small shards inside a Slurm allocation (issue 16, mode 2): N x `true` through `hosts: slurm_allocation`
# (one `sshard agent` step on the node), against one `srun --exact` step per task in the same allocation (the
# way without an agent), and against the local transport with the same slots. The targets: mode 2 at least 5x
# the rate of a step per task, and within 50% of the local transport's rate.
# usage: bench/slurm_agent.sh [SHARDS] [SLOTS] [BUILD_DIR]   (default 1000 8 build; as root: it starts the
# one-node test cluster of tests/slurm/cluster.sh on SSHARD_SLURM_PORT, or as that script derives them)
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:-1000}
slots=${2:-8}
build=${3:-build}
sshard=$(realpath "$build/sshard")
cluster_sh=$(realpath tests/slurm/cluster.sh)
work=$(mktemp -d)
trap '"$cluster_sh" stop "$work/cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$cluster_sh" start "$work/cluster" >/dev/null
# shellcheck disable=SC1091 # written by cluster.sh
. "$work/cluster/env"
cd "$work"

spec() {
  printf 'version: 1\nhosts: %s\njobs:\n  - name: t\n    command: "true"\n    shards: {count: %d}\n' "$1" "$2"
}
spec slurm_allocation "$shards" >agent.yaml
printf 'version: 1\nhosts:\n  - {name: localhost, transport: local, slots: %d}\njobs:\n  - name: t\n    command: "true"\n    shards: {count: %d}\n' \
  "$slots" "$shards" >local.yaml

# Seconds a command took, or the script fails with its stderr.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>"$work/err" || { echo "failed: $*" >&2; cat "$work/err" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

# One `srun --exact` step per task, SLOTS at a time, inside the allocation: what a shard costs without an agent.
steps() {
  seq 1 "$1" | xargs -P "$slots" -I{} srun --nodes=1 --ntasks=1 --exact --quiet true
}
export -f steps
export slots

agent=$(seconds salloc --quiet --nodes=1 --ntasks="$slots" "$sshard" run agent.yaml --run-dir "$work/agent-run" --progress never)
step_count=$((shards / 10))
step=$(seconds salloc --quiet --nodes=1 --ntasks="$slots" bash -c "steps $step_count")
local_s=$(seconds "$sshard" run local.yaml --run-dir "$work/local-run" --progress never)

rate() { echo "scale=1; $1 / $2" | bc; }
printf '%-40s %10s %12s\n' "way" "seconds" "shards/s"
printf '%-40s %10.2f %12s\n' "mode 2 (agent), $shards shards" "$agent" "$(rate "$shards" "$agent")"
printf '%-40s %10.2f %12s\n' "srun --exact per task, $step_count tasks" "$step" "$(rate "$step_count" "$step")"
printf '%-40s %10.2f %12s\n' "local transport, $shards shards" "$local_s" "$(rate "$shards" "$local_s")"
