#!/usr/bin/env bash
# Builds tfc and runs the CPU encoder benchmark (tools/bench/cpu_encoder.py); see docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/setup.sh
tools/build.sh
exec /usr/bin/python3 tools/bench/cpu_encoder.py "$@"
