#!/usr/bin/env bash
# How close `sshard plan --predict` comes: each of three specs runs twice over a 4-host loopback SSH cluster
# (2 slots a host); the prediction made from the first run's journal is compared with the second run's
# makespan. Prints, per spec, the predicted and the actual makespan and the error.
# usage: bench/predict_accuracy.sh [BUILD_DIR]   (run as root: it starts sshd hosts; SSHARD_CLUSTER_PORT sets
# their port)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=$(mktemp -d)
cluster="$work/cluster"
trap 'tests/ssh/cluster.sh stop "$cluster" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
tests/ssh/cluster.sh start "$cluster" 4 >/dev/null

# uniform: 40 shards of 0.5 s; varied: 48 shards from 0.1 to 1.2 s; needs: a job of 16 shards, then two that
# need it, one of a higher priority.
cat >"$work/uniform.yaml" <<'YAML'
version: 1
hosts: ["2/node[1-4]"]
jobs:
  - {name: sleep, command: sleep 0.5, shards: {count: 40}}
YAML
cat >"$work/varied.yaml" <<'YAML'
version: 1
hosts: ["2/node[1-4]"]
jobs:
  - name: varied
    command: sleep {item}
    shards: {items: [0.1, 0.4, 0.8, 1.2, 0.3, 0.6, 0.2, 1.0, 0.5, 0.7, 0.9, 0.15,
                     0.1, 0.4, 0.8, 1.2, 0.3, 0.6, 0.2, 1.0, 0.5, 0.7, 0.9, 0.15,
                     0.1, 0.4, 0.8, 1.2, 0.3, 0.6, 0.2, 1.0, 0.5, 0.7, 0.9, 0.15,
                     0.1, 0.4, 0.8, 1.2, 0.3, 0.6, 0.2, 1.0, 0.5, 0.7, 0.9, 0.15]}
YAML
cat >"$work/needs.yaml" <<'YAML'
version: 1
hosts: ["2/node[1-4]"]
jobs:
  - {name: prepare, command: sleep 0.3, shards: {count: 16}}
  - {name: train, command: 'sleep 0.{index}', shards: {count: 10}, needs: [prepare], priority: 5}
  - {name: score, command: sleep 0.4, shards: {count: 20}, needs: [prepare]}
YAML

json() { python3 -c "import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
printf '%-8s %12s %12s %12s %8s\n' spec first_run predicted second_run error
for spec in uniform varied needs; do
  for run in 1 2; do
    "$build/sshard" run "$work/$spec.yaml" --ssh-config "$cluster/ssh_config" --run-dir "$work/$spec-$run" \
      --progress never >/dev/null
  done
  first=$("$build/sshard" report "$work/$spec-1" --format json | json 'd["run"]["makespan_s"]')
  second=$("$build/sshard" report "$work/$spec-2" --format json | json 'd["run"]["makespan_s"]')
  predicted=$("$build/sshard" plan --predict "$work/$spec-1" "$work/$spec.yaml" --format json |
    json 'd["predicted"]["makespan_s"]')
  python3 -c "import sys; f, p, s = map(float, sys.argv[2:]); print(f'{sys.argv[1]:<8} {f:11.3f}s {p:11.3f}s {s:11.3f}s {abs(p - s) / s:7.1%}')" \
    "$spec" "$first" "$predicted" "$second"
done
