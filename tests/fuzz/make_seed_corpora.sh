#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the repository's fixtures, into OUT/<target>/:
#   fuzz_plan_loader  plans compiled from examples/models/*.fbs by PLAN_TFC (a tfc binary; the
#                     sanitizer build has none of its own, so tools/sanitize.sh passes build/bin/tfc
#                     when there is one), else none (the committed regression inputs remain)
#   fuzz_model_fbs    examples/models/*.fbs, tests/generation/models/*.fbs
#   fuzz_onnx         tests/onnx/**/*.onnx under 1 MB
#   fuzz_safetensors  tests/hf/**/*.safetensors
#   fuzz_hf_json      tests/hf/**/{tokenizer,config}.json (with the mode byte in front)
#   fuzz_tokenizer    lines of tests/tokenizer/corpus.jsonl (as raw JSON strings), 4 modes
#   fuzz_npy          tests/**/*.npy under 64 KB
# and tests/fuzz/corpus/<target>/ (inputs that once crashed: regressions, kept forever).
# Usage: make_seed_corpora.sh OUT [PLAN_TFC]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1
tfc=${2:-}
rm -rf "$out"
for t in fuzz_plan_loader fuzz_model_fbs fuzz_onnx fuzz_safetensors fuzz_hf_json fuzz_tokenizer fuzz_npy; do
  mkdir -p "$out/$t"
  if [[ -d tests/fuzz/corpus/$t ]]; then cp tests/fuzz/corpus/$t/* "$out/$t/" 2>/dev/null || true; fi
done
n=0
for f in examples/models/*.fbs tests/generation/models/*.fbs; do
  [[ -f $f ]] && cp "$f" "$out/fuzz_model_fbs/$((n++))_$(basename "$f")"
done
find tests/onnx -name '*.onnx' -size -1024k | while read -r f; do
  cp "$f" "$out/fuzz_onnx/$(echo "$f" | tr / _)"
done
find tests/hf -name '*.safetensors' -size -2048k | while read -r f; do
  cp "$f" "$out/fuzz_safetensors/$(echo "$f" | tr / _)"
done
find tests/hf -name tokenizer.json -size -400k | while read -r f; do
  name=$(echo "$f" | tr / _)
  { printf '\x00'; cat "$f"; } > "$out/fuzz_hf_json/bert_$name"
  { printf '\x02'; cat "$f"; } > "$out/fuzz_hf_json/gpt2_$name"
done
find tests/hf -name config.json | while read -r f; do
  { printf '\x01'; cat "$f"; } > "$out/fuzz_hf_json/$(echo "$f" | tr / _)"
done
i=0
while IFS= read -r line; do
  ((i < 400)) || continue
  printf "\\x$(printf %02x $((i % 16)))%s" "$line" > "$out/fuzz_tokenizer/line_$i"
  i=$((i + 1))
done < tests/tokenizer/corpus.jsonl
mapfile -t npys < <(find tests -name '*.npy' -size -64k | sort)
for f in "${npys[@]:0:200}"; do
  cp "$f" "$out/fuzz_npy/$(echo "$f" | tr / _)"
done
if [[ -n $tfc && -x $tfc ]]; then
  for m in examples/models/encoder.fbs examples/models/decoder.fbs examples/models/encdec.fbs \
           examples/models/classifier.fbs; do
    "$tfc" compile "$m" -o "$out/fuzz_plan_loader/$(basename "$m" .fbs).plan" --max-batch 2 \
      --max-seq 16 > /dev/null 2>&1 || echo "make_seed_corpora: could not compile $m" >&2
  done
fi
for t in "$out"/*; do echo "seed corpus $(basename "$t"): $(ls "$t" | wc -l) inputs"; done
