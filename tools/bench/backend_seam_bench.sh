#!/usr/bin/env bash
# CPU speed before/after a runtime change, alternating (tools/bench/backend_seam_bench.py; see
# docs/BENCHMARKS.md, "The backend seam"). Usage: backend_seam_bench.sh BEFORE_BIN AFTER_BIN
# [--rounds N], the two build/bin directories (each with tfrun; AFTER_BIN with tfc too).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/bench/seam
before=$1 after=$2
shift 2
exec /usr/bin/python3 tools/bench/backend_seam_bench.py "$before" "$after" build/bench/seam "$@"
