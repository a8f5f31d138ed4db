#!/usr/bin/env bash
# The main job: set up, build, compile a shipped model into a plan (showing what the passes
# fused and how it generates) and run it with tfrun.
#
#   tools/demo.sh            chargpt (examples/models/chargpt.fbs, a character-level GPT trained
#                            on the King James Bible): generate text with the KV cache; then
#                            all-MiniLM-L6-v2 (the real pretrained checkpoint tools/setup.sh
#                            installs): sentence embeddings and their cosine similarities
#   tools/demo.sh MODEL      any model.fbs or .onnx: compile it, then generate when it is a
#                            causal decoder (model.fbs vocabulary) or run forward once otherwise
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
model="${1:-examples/models/chargpt.fbs}"
name="$(basename "${model%.*}")"
mkdir -p build/demo
plan="build/demo/$name.plan"
report="build/demo/$name.report.json"

echo
echo "== tfc compile $model -o $plan --report $report"
build/bin/tfc compile "$model" -o "$plan" --report "$report" --max-batch 4
echo
echo "== what the compiler did ($report)"
generates=$(/usr/bin/python3 - "$report" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("fusions:", r["fusions"], " unfused:", len(r["unfused"]),
      " arena:", r["arena_bytes"], "bytes (", r["naive_bytes"], "without reuse )", file=sys.stderr)
g = r.get("generation")
if g:
    print("generation:", g["mode"], g.get("reason", ""), file=sys.stderr)
print("yes" if g else "no")
PY
)
echo
echo "== tfrun $plan --describe"
build/bin/tfrun "$plan" --describe

if [[ "$generates" == yes && "$model" == *.fbs ]]; then
  echo
  echo "== tfrun $plan --generate --text 'And God said unto Moses' --max-new-tokens 160 --strategy sample --temperature 0.8 --top-k 20 --seed 7 --threads 2"
  build/bin/tfrun "$plan" --generate --text "And God said unto Moses" --max-new-tokens 160 \
    --strategy sample --temperature 0.8 --top-k 20 --seed 7 --threads 2
  echo
  echo "== tfrun $plan --generate --text 'In the beginning' --text 'And the LORD' --max-new-tokens 60 --threads 2 --output-dir build/demo/$name.out   (greedy, a batch of two)"
  build/bin/tfrun "$plan" --generate --text "In the beginning" --text "And the LORD" \
    --max-new-tokens 60 --threads 2 --output-dir "build/demo/$name.out"
else
  echo
  echo "== tfrun $plan --output-dir build/demo/$name.out --threads 2"
  build/bin/tfrun "$plan" --output-dir "build/demo/$name.out" --threads 2
  echo
  echo "== tfrun $plan --threads 2 --warmup 3 --iterations 20"
  build/bin/tfrun "$plan" --threads 2 --warmup 3 --iterations 20
fi

if [[ $# -eq 0 ]]; then
  minilm=build/models/all-MiniLM-L6-v2
  echo
  echo "== tfc compile $minilm -o build/demo/minilm.plan   (a Hugging Face checkpoint: config.json, model.safetensors, tokenizer)"
  build/bin/tfc compile "$minilm" -o build/demo/minilm.plan --max-batch 8 --max-seq 256
  echo
  echo "== tfrun build/demo/minilm.plan --embed --text ... (semantic similarity)"
  build/bin/tfrun build/demo/minilm.plan --embed --threads 2 \
    --text "How do I reset my password?" \
    --text "What are the steps to change a forgotten password?" \
    --text "A cat is sleeping on the sofa." \
    --text "A kitten naps on the couch." \
    --text "The stock market fell sharply today."
fi
