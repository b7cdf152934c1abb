#!/usr/bin/env bash
# Predicts a spec of SHARDS shards (default 1,000,000) on 1,000 hosts of 4 slots with `sshard plan --predict`:
# its time and peak memory. The past run is written, not run: a run directory whose journal holds PAST
# successful attempts (default 1,000) of a job `work` on 100 hosts, run times drawn from a log-normal law
# (seed 1). Shards beyond PAST take the job's median; PAST=SHARDS gives every shard a run time of its own.
# Prints the wall time and peak RSS (bench/measure), then the CPU time: on a busy machine the wall time says
# more about the others.
# usage: bench/predict_speed.sh [SHARDS] [PAST] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:-1000000}
past=${2:-1000}
build=${3:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/spec.yaml" <<YAML
version: 1
name: predict
hosts: ["4/h[0001-1000]"]
jobs:
  - name: work
    command: work --part {index}
    shards: {count: $shards}
YAML
mkdir -m 700 "$dir/run"
cp "$dir/spec.yaml" "$dir/run/spec.yaml"
python3 - "$dir/run/journal.jsonl" "$past" <<'PY'
import json, random, sys
path, past = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
t = 1.8e9
with open(path, "w") as out:
    hosts = [f"h{i:04d}" for i in range(1, 101)]
    out.write(json.dumps({"event": "run_start", "hosts": [{"name": h, "slots": 4, "auto_slots": False} for h in hosts],
                          "jobs": [{"name": "work", "priority": 0, "shards": past}], "name": "predict", "resume": False,
                          "run": "run", "spec": "spec.yaml", "spec_hash": "0", "time": t}) + "\n")
    for h in hosts:
        out.write(json.dumps({"event": "host_up", "host": h, "setup_s": 0.2, "cpus": 4, "time": t}) + "\n")
    for i in range(past):
        d = rng.lognormvariate(0, 0.5) * 10
        out.write(json.dumps({"event": "attempt_end", "id": i + 1, "job": "work", "index": i, "attempt": 1,
                              "host": hosts[i % 100], "start": t, "end": t + d, "outcome": "exited", "exit_code": 0,
                              "verdict": "succeeded", "command": f"work --part {i}", "key": f"work --part {i}",
                              "inputs": [], "time": t + d}) + "\n")
PY
/usr/bin/time -f "cpu %U s user, %S s sys" bench/measure "$build/sshard" plan --predict "$dir/run" "$dir/spec.yaml" --format json
