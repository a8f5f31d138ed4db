#!/usr/bin/env bash
# Greedy decode speed, GPT-2 small geometry: tfc (from the ONNX export and from the Hugging Face
# directory; fp32, and --precision bf16 / int8) vs ONNX Runtime vs CTranslate2 (float32,
# bfloat16, int8) (tools/bench/generate_bench.py; see docs/BENCHMARKS.md, "Generation" and
# "Decode precision (issue 13)"). Arguments go to generate_bench.py, e.g.
#   tools/bench/generate_bench.sh --rounds 3 --batches 1 --precisions fp32,bf16,int8 --sources onnx,hf
# Builds tfc; needs .venv (ONNX Runtime, tools/requirements-dev.txt, over Debian's torch 1.13:
# tools/setup.sh --dev). The model and its exports are made by tools/bench/gpt2_export.py with
# .venv-export (torch 2) when it exists, else with .venv (torch 1.13 + transformers 4.40.2, which
# gpt2_export.py supports). Makes build/bench/venv-ct2 with ctranslate2 (and numpy < 2, which
# Debian's torch 1.13 needs), which sees the export venv's torch/transformers through a .pth file
# (its converter needs them). Nothing is installed into .venv or .venv-export beyond what
# tools/bench/onnx_vs_ort.sh and tools/bench/hf_decode_bench.sh install.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/setup.sh --dev
tools/build.sh
.venv/bin/python -m pip install -q -r tools/requirements-dev.txt
if [[ -x .venv-export/bin/python ]]; then
  .venv-export/bin/python -m pip install -q -r tests/onnx/requirements-export.txt transformers==4.40.2
  export_py=.venv-export/bin/python
else
  export_py=.venv/bin/python
fi
mkdir -p build/bench
if [[ ! -x build/bench/venv-ct2/bin/python ]]; then
  "$export_py" -m venv build/bench/venv-ct2
  build/bench/venv-ct2/bin/python -m pip install -q ctranslate2==4.8.5
  site=$("$export_py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  ct2site=$(build/bench/venv-ct2/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$site" > "$ct2site/zz-venv-export.pth"
  if [[ "$export_py" == .venv/bin/python ]]; then
    # .venv sees Debian's torch 1.13 (built against numpy 1.x) through the system site.
    build/bench/venv-ct2/bin/python -m pip install -q "numpy<2"
    echo /usr/lib/python3/dist-packages >> "$ct2site/zz-venv-export.pth"
  fi
fi
# The model (save_pretrained) and its two ONNX exports; kept when present.
"$export_py" tools/bench/gpt2_export.py build/bench
if [[ ! -f build/bench/gpt2-small-ct2/model.bin ]]; then
  build/bench/venv-ct2/bin/python tools/bench/ct2_generate.py convert build/bench/gpt2-small build/bench/gpt2-small-ct2
fi
exec .venv/bin/python tools/bench/generate_bench.py "$@"
