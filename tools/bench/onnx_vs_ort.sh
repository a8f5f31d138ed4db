#!/usr/bin/env bash
# Builds tfc, installs the benchmark's Python packages into .venv, and runs
# tools/bench/onnx_vs_ort.py (tfc vs ONNX Runtime vs PyTorch); see docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/setup.sh --dev
tools/build.sh
.venv/bin/python -m pip install -q -r tools/requirements-dev.txt
# PyTorch 2 for the PyTorch peer (Debian's torch 1.13 runs on a generic reference BLAS here).
if [[ ! -x .venv-export/bin/python ]]; then /usr/bin/python3 -m venv .venv-export; fi
.venv-export/bin/python -m pip install -q -r tests/onnx/requirements-export.txt transformers==4.40.2
exec .venv/bin/python tools/bench/onnx_vs_ort.py "$@"
