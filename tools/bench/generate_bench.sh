#!/usr/bin/env bash
# Greedy decode speed, GPT-2 small geometry: tfc vs ONNX Runtime vs CTranslate2
# (tools/bench/generate_bench.py; see docs/BENCHMARKS.md, "Generation").
# Builds tfc; needs .venv (ONNX Runtime, tools/requirements-dev.txt) and .venv-export
# (torch 2 + transformers, for the model and its exports); makes build/bench/venv-ct2 with
# ctranslate2, which sees .venv-export's torch/transformers through a .pth file (the
# converter needs them). Nothing is installed into .venv or .venv-export beyond what
# tools/bench/onnx_vs_ort.sh installs.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/setup.sh --dev
tools/build.sh
.venv/bin/python -m pip install -q -r tools/requirements-dev.txt
if [[ ! -x .venv-export/bin/python ]]; then /usr/bin/python3 -m venv .venv-export; fi
.venv-export/bin/python -m pip install -q -r tests/onnx/requirements-export.txt transformers==4.40.2
mkdir -p build/bench
if [[ ! -x build/bench/venv-ct2/bin/python ]]; then
  .venv-export/bin/python -m venv build/bench/venv-ct2
  build/bench/venv-ct2/bin/python -m pip install -q ctranslate2==4.8.5
  site=$(.venv-export/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  ct2site=$(build/bench/venv-ct2/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$site" > "$ct2site/zz-venv-export.pth"
fi
# The model (save_pretrained) and its two ONNX exports; kept when present.
.venv-export/bin/python tools/bench/gpt2_export.py build/bench
if [[ ! -f build/bench/gpt2-small-ct2/model.bin ]]; then
  build/bench/venv-ct2/bin/python tools/bench/ct2_generate.py convert build/bench/gpt2-small build/bench/gpt2-small-ct2
fi
exec .venv/bin/python tools/bench/generate_bench.py "$@"
