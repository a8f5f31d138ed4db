#!/usr/bin/env bash
# all-MiniLM-L6-v2 in fp32 / bf16 / int8: tfc against ONNX Runtime fp32 and quantize_dynamic int8
# (tools/bench/minilm_precision.py; docs/BENCHMARKS.md, "CPU precision"). Builds tfc and tfrun,
# the kernel benchmark (int8_gemm_bench), and puts what onnxruntime.quantization needs beyond
# .venv (onnx, ml_dtypes, numpy 2) into build/bench/pydeps.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/get_minilm.sh
ninja -C build -j2 bin/tfc bin/tfrun bin/int8_gemm_bench
.venv/bin/python -m pip install -q -r tools/requirements-dev.txt
.venv/bin/python -m pip install -q --target build/bench/pydeps onnx==1.23.2 ml_dtypes numpy==2.4.6
echo "== kernels: build/bin/int8_gemm_bench 2 30"
build/bin/int8_gemm_bench 2 30
echo "== whole model"
PYTHONPATH=build/bench/pydeps exec .venv/bin/python tools/bench/minilm_precision.py "$@"
