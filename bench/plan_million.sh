#!/usr/bin/env bash
# Plans a job of 1,000,000 shards as JSON to /dev/null: the time and peak memory of `sshard plan`.
# usage: bench/plan_million.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
spec=$(mktemp --suffix=.yaml)
trap 'rm -f "$spec"' EXIT
cat > "$spec" <<'YAML'
version: 1
hosts: ["16/node[001-100]"]
jobs:
  - name: million
    command: process --chunk {index} --of {count} --range {start}-{end}
    shards: {range: {from: 0, to: 1000000000, chunk: 1000}}
YAML
bench/measure "$build/sshard" plan "$spec" --format json
