#!/usr/bin/env bash
# Greedy decode speed of one GPT-2-small-geometry model compiled two ways by tfc: from its
# Hugging Face directory (save_pretrained, tied LM head) and from its ONNX export, both run by
# `tfrun --generate`, alternating (tools/bench/hf_decode_bench.py; docs/BENCHMARKS.md,
# "Generation: Hugging Face directory vs ONNX export").
# Builds tfc; needs .venv with Debian's torch 1.13 (tools/setup.sh --dev) and the pinned
# transformers of tools/requirements-dev.txt (installed here) to make the model and its export.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/setup.sh --dev
tools/build.sh
.venv/bin/python -m pip install -q \
  $(grep -E '^(transformers|tokenizers|huggingface-hub|safetensors)==' tools/requirements-dev.txt)
# The model (save_pretrained) and its ONNX export without past key/values; kept when present.
.venv/bin/python tools/bench/gpt2_export.py build/bench --no-past
exec .venv/bin/python tools/bench/hf_decode_bench.py "$@"
