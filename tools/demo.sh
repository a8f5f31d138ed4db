#!/usr/bin/env bash
# The main job: set up, build, compile a shipped model and show the fused IR and the
# fusion report.   tools/demo.sh [MODEL]   (default examples/models/encoder.fbs)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
model="${1:-examples/models/encoder.fbs}"
mkdir -p build/demo
report="build/demo/$(basename "$model" .fbs).report.json"
echo "== tfc compile $model --emit=mlir --report $report"
build/bin/tfc compile "$model" --emit=mlir --report "$report"
echo "== fusion report ($report)"
cat "$report"
