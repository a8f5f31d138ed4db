#!/usr/bin/env bash
# The main job: set up, build, compile a shipped model into a plan (showing what the passes
# fused) and run it with tfrun.   tools/demo.sh [MODEL]   (default examples/models/encoder.fbs)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
model="${1:-examples/models/encoder.fbs}"
name="$(basename "$model" .fbs)"
mkdir -p build/demo
echo
echo "== tfc compile $model -o build/demo/$name.plan --report build/demo/$name.report.json"
build/bin/tfc compile "$model" -o "build/demo/$name.plan" --report "build/demo/$name.report.json"
echo
echo "== fusion report (build/demo/$name.report.json)"
/usr/bin/python3 - "build/demo/$name.report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("fusions:", r["fusions"], " unfused:", len(r["unfused"]),
      " arena:", r["arena_bytes"], "bytes (", r["naive_bytes"], "without reuse )")
PY
echo
echo "== tfrun build/demo/$name.plan --describe"
build/bin/tfrun "build/demo/$name.plan" --describe
echo
echo "== tfrun build/demo/$name.plan --output-dir build/demo/$name.out --threads 2"
build/bin/tfrun "build/demo/$name.plan" --output-dir "build/demo/$name.out" --threads 2
echo
echo "== tfrun build/demo/$name.plan --threads 2 --warmup 3 --iterations 20"
build/bin/tfrun "build/demo/$name.plan" --threads 2 --warmup 3 --iterations 20
