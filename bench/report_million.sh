#!/usr/bin/env bash
# Builds a journal of 1,000,000 attempts (1,000 hosts, 3 jobs, 1% failures) and times `sshard report` on it,
# text and JSON, with peak memory.
# usage: bench/report_million.sh [ATTEMPTS] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
attempts=${1:-1000000}
build=${2:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/journal.jsonl" "$attempts" <<'PY'
import json, random, sys
path, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
hosts = [f"node{i:04d}" for i in range(1000)]
jobs = ["prepare", "crunch", "reduce"]
with open(path, "w") as out:
    out.write(json.dumps({"event": "run_start", "time": 0, "run": "bench", "name": "bench", "spec": "/b.yaml",
                          "hosts": [{"name": h, "slots": 8, "auto_slots": False} for h in hosts],
                          "jobs": [{"name": j, "shards": n // 3 + 1, "priority": 0} for j in jobs]}) + "\n")
    for h in hosts:
        out.write(json.dumps({"event": "host_up", "time": 0, "host": h, "setup_s": 0.05, "cpus": 8}) + "\n")
    t = [0.0] * len(hosts)
    for i in range(n):
        h = i % len(hosts)
        d = random.uniform(0.5, 3.0)
        failed = random.random() < 0.01
        out.write(json.dumps({"event": "attempt_end", "time": t[h] + d, "id": i + 1, "job": jobs[i % 3],
                              "index": i // 3, "attempt": 1, "host": hosts[h], "start": t[h], "end": t[h] + d,
                              "outcome": "exited", "exit_code": 1 if failed else 0,
                              "verdict": "failed" if failed else "succeeded", "reason": "exit 1" if failed else "",
                              "command": f"crunch --part {i}", "key": f"crunch --part {i}",
                              "cpu_user_s": d * 0.8, "cpu_sys_s": d * 0.1}) + "\n")
        t[h] += d / 8
PY
stat -c %s "$work/journal.jsonl" | awk '{print "journal:", $1 / 1048576, "MiB"}'
echo "text:"; bench/measure "$build/sshard" report "$work"
echo "json:"; bench/measure "$build/sshard" report "$work" --format json
