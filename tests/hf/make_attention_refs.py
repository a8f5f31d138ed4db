#!/usr/bin/env python3
"""Writes tests/hf/minilm/attention/: all-MiniLM-L6-v2's attention weights from transformers.

Run from the repository root, after tools/get_minilm.sh has made build/models/all-MiniLM-L6-v2/,
with a Python that has torch and transformers (the repository's .venv sees Debian's
python3-torch through its system site packages):

    .venv/bin/python tests/hf/make_attention_refs.py [--model DIR]

Two sentences of different lengths are tokenized together by the model's own tokenizer
(tokenizer.json, BertTokenizerFast, padding=True: the shorter one gets [PAD] tokens and a 0 in
its attention mask), then BertModel (eager attention, eval mode) runs them with
output_attentions=True. Written (float32 / int64 .npy, 0.14 MB in all):

    input_ids.npy, attention_mask.npy   int64 [2, S]
    layer0.npy ... layer5.npy           float32 [2, 12, S, S]: softmax(QK^T / sqrt(32) + mask)
                                        per layer, as transformers returns it
    tokens.json                         {"sentences", "tokens": [[...], [...]], "versions"}

tests/lit/tfrun/attention.test compares `tfrun --attention-out` with these files. CI only reads
them; it does not run this script.
"""
import argparse
import json
import os
import platform
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
import transformers
from transformers import BertModel, BertTokenizerFast

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "minilm" / "attention"
SENTENCES = [
    "The cat sat on the mat.",
    "Attention is all you need, said the paper that introduced transformers.",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ROOT / "build" / "models" / "all-MiniLM-L6-v2"))
    args = parser.parse_args()
    tok = BertTokenizerFast.from_pretrained(args.model)
    enc = tok(SENTENCES, padding=True, return_tensors="pt")
    model = BertModel.from_pretrained(args.model, add_pooling_layer=False,
                                      attn_implementation="eager").eval()
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                    token_type_ids=torch.zeros_like(enc["input_ids"]), output_attentions=True)
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(OUT / "input_ids.npy", enc["input_ids"].numpy().astype(np.int64))
    np.save(OUT / "attention_mask.npy", enc["attention_mask"].numpy().astype(np.int64))
    for i, a in enumerate(out.attentions):
        np.save(OUT / f"layer{i}.npy", a.numpy().astype(np.float32))
    tokens = [tok.convert_ids_to_tokens(row) for row in enc["input_ids"].tolist()]
    info = {
        "sentences": SENTENCES,
        "tokens": tokens,
        "layers": len(out.attentions),
        "shape": list(out.attentions[0].shape),
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "numpy": np.__version__, "python": platform.python_version()},
    }
    (OUT / "tokens.json").write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    print("wrote", OUT, info["shape"], "x", info["layers"], "layers")


if __name__ == "__main__":
    main()
