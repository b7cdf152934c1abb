#!/usr/bin/env bash
# Mode 1 of the Slurm transport against plain Slurm, in one run on the one-node test cluster
# (tests/slurm/cluster.sh, started here in a temp dir; needs root and Slurm installed):
#
#   1. TASKS x `true` as one bare `sbatch --array=0-(TASKS-1)` (each task's output to a file, as sshard's are),
#      timed from submission until squeue shows none of it; then the same through `sshard run` (slots TASKS).
#      Both ROUNDS times, alternating, so that a loaded machine weighs on both alike; the runner's peak RSS.
#   2. BIG x `true` through `sshard run` with SLOTS slots: wall time and the runner's peak RSS (bench/measure),
#      the most tasks squeue showed at once (sampled each second: never above SLOTS), and the largest array
#      submitted (never above 1000, under MaxArraySize).
#
# usage: bench/slurm_arrays.sh [TASKS [ROUNDS [BIG [SLOTS [BUILD_DIR]]]]]   (default 1000 2 100000 2000 build)
# Slurm's ports come from SSHARD_SLURM_PORT (default: as tests/slurm/cluster.sh derives them), as for the tests.
# The node has SSHARD_SLURM_CPUS CPUs, 256 unless set: with the tests' 8, Slurm's second or so to start and end a
# task caps the cluster near 8 tasks/s with the machine mostly idle; with 256 the machine's cores are the limit.
set -euo pipefail
cd "$(dirname "$0")/.."
tasks=${1:-1000}
rounds=${2:-2}
big=${3:-100000}
slots=${4:-2000}
build=${5:-build}
export SSHARD_SLURM_CPUS=${SSHARD_SLURM_CPUS:-256}
work=$(mktemp -d)
cluster=$work/cluster
stop() {
  tests/slurm/cluster.sh stop "$cluster" || true
  rm -rf "$work"
}
trap stop EXIT
tests/slurm/cluster.sh start "$cluster"
export SLURM_CONF=$cluster/slurm.conf

now() { date +%s.%N; }
queue_empty() { [[ -z $(squeue -h -o %i) ]]; }

bare_array() {
  local dir=$work/bare.$1 start end
  mkdir -p "$dir"
  printf '#!/bin/sh\ntrue\n' >"$dir/task.sh"
  start=$(now)
  sbatch --parsable --array=0-$((tasks - 1)) --job-name=bare --output="$dir/%a.out" --ntasks=1 "$dir/task.sh" >/dev/null
  until queue_empty; do sleep 0.5; done
  end=$(now)
  python3 -c "print(f'bare sbatch --array: {$tasks} tasks in {$end - $start:.1f} s')"
}

spec() { # SHARDS SLOTS FILE
  cat >"$3" <<YAML
version: 1
hosts: [{name: hpc, transport: slurm, slots: $2, slurm: {partition: debug}}]
jobs:
  - {name: trivial, command: "true", shards: {count: $1}}
YAML
}

through_sshard() {
  local run=$work/run.$1 start end
  spec "$tasks" "$tasks" "$work/spec.yaml"
  start=$(now)
  bench/measure "$build/sshard" run "$work/spec.yaml" --run-dir "$run" --progress never
  end=$(now)
  python3 -c "print(f'sshard mode 1:        {$tasks} shards in {$end - $start:.1f} s')"
}

for ((round = 1; round <= rounds; round++)); do
  bare_array "$round"
  through_sshard "$round"
done

spec "$big" "$slots" "$work/big.yaml"
# Each second: how many tasks squeue shows pending or running (a task whose status sshard has taken may still
# show COMPLETING: its slot is free), the most it shows at all, the highest array index among them, and the
# runner's own peak RSS (VmHWM; bench/measure's figure also covers the squeue, sbatch and scancel it ran).
(
  peak=0 listed=0 index=0 hwm=0
  while sleep 1; do
    read -r n l i < <(squeue -h -r -o '%K %T' | awk '{ l++; if ($2 == "PENDING" || $2 == "RUNNING") n++;
                                                       if ($1 > m) m = $1 } END { print n + 0, l + 0, m + 0 }')
    ((n > peak)) && peak=$n
    ((l > listed)) && listed=$l
    ((i > index)) && index=$i
    if [[ -s $work/big/lock ]] && read -r pid <"$work/big/lock"; then
      kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
      ((${kib:-0} > hwm)) && hwm=$kib
    fi
    echo "$peak $listed $index $hwm" >"$work/peak"
  done
) &
sampler=$!
start=$(now)
bench/measure "$build/sshard" run "$work/big.yaml" --run-dir "$work/big" --progress never
end=$(now)
kill "$sampler"
read -r peak listed index hwm <"$work/peak"
python3 -c "print(f'{$big} shards, slots {$slots}: {$big / ($end - $start):.1f} shards/s')"
python3 -c "print(f'runner alone: peak RSS {$hwm / 1024:.1f} MiB (VmHWM)')"
echo "most tasks pending or running at once: $peak (slots $slots); listed at all, COMPLETING included: $listed"
echo "highest array index: $index (arrays of at most 1000)"
echo "arrays submitted: $(find "$work/big/slurm" -mindepth 1 -maxdepth 1 -type d | wc -l)"
