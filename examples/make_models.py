#!/usr/bin/python3
"""make_models.py -- write the example models and the end-to-end fixtures.

Run from the repository root:

    /usr/bin/python3 examples/make_models.py

Writes (deterministically; fixed seeds, single-threaded torch):
  examples/models/{encoder,decoder,encdec,classifier}.fbs
  tests/e2e/refs/<model>/case<k>.<input>.npy   (int64)
  tests/e2e/refs/<model>/case<k>.<output>.npy  (float32, from the float64
                                                reference examples/reference/)
  tests/e2e/refs/manifest.json

The fixtures are computed from the weights *read back* from the written file
(tools/python/tfc_model.read_model), so they reflect exactly what is stored.
"""

import glob
import json
import math
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
sys.path.insert(0, os.path.join(ROOT, "examples", "reference"))

from tfc_model import ModelWriter, read_model  # noqa: E402
import tfc_reference  # noqa: E402

MODELS_DIR = os.path.join(ROOT, "examples", "models")
REFS_DIR = os.path.join(ROOT, "tests", "e2e", "refs")

PAD, START, END, UNK = 0, 1, 2, 3

# Suggested comparison tolerances for a float32 implementation against these
# float64 references: |got - want| <= atol + rtol * |want|.
TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}


def vocabulary(n):
    return ["<PAD>", "<START>", "<END>", "<UNK>"] + ["tok%d" % i for i in range(4, n)]


class Gen:
    """Random weights of moderate size, added in PyTorch layout."""

    def __init__(self, writer, seed):
        self.w = writer
        self.rng = np.random.default_rng(seed)

    def normal(self, shape, std, mean=0.0):
        return (mean + std * self.rng.standard_normal(shape)).astype(np.float32)

    def tensor(self, name, shape, std):
        self.w.add(name, self.normal(shape, std))

    def linear(self, prefix, d_in, d_out, std=0.08, bias_std=0.02):
        self.w.add_linear(prefix, self.normal((d_out, d_in), std),
                          self.normal((d_out,), bias_std))

    def norm(self, prefix, d):
        self.w.add(prefix + ".weight", self.normal((d,), 0.1, mean=1.0))
        self.w.add(prefix + ".bias", self.normal((d,), 0.05))

    def embeddings(self, h):
        d = h["d_model"]
        self.tensor("embeddings.token", (h["vocab_size"], d), 0.1)
        if h.get("position_encoding", "Learned") == "Learned":
            self.tensor("embeddings.position", (h["max_positions"], d), 0.05)
        if h.get("type_vocab_size", 0) > 0:
            self.tensor("embeddings.token_type", (h["type_vocab_size"], d), 0.05)
        if h.get("embedding_norm", False):
            self.norm("embeddings.norm", d)

    def attn(self, prefix, d):
        for m in ("q", "k", "v"):
            self.linear("%s.%s" % (prefix, m), d, d, std=0.1)
        self.linear(prefix + ".o", d, d, std=0.08)

    def layer(self, prefix, h, cross=False):
        d, ff = h["d_model"], h["d_ff"]
        self.attn(prefix + ".self_attn", d)
        self.norm(prefix + ".self_attn_norm", d)
        if cross:
            self.attn(prefix + ".cross_attn", d)
            self.norm(prefix + ".cross_attn_norm", d)
        self.linear(prefix + ".ffn.up", d, ff, std=0.08)
        self.linear(prefix + ".ffn.down", ff, d, std=0.06)
        self.norm(prefix + ".ffn_norm", d)

    def stack(self, p, n, h, cross=False):
        for i in range(n):
            self.layer("%s.layers.%d" % (p, i), h, cross)
        if h.get("final_norm", False):
            self.norm(p + ".final_norm", h["d_model"])


def build(name, seed, extra):
    """extra(gen, hparams) adds the family-specific tensors."""
    h = SPECS[name]
    w = ModelWriter(name=name, **h)
    g = Gen(w, seed)
    g.embeddings(h)
    extra(g, h)
    w.set_special_tokens(start=START, end=END, unk=UNK, pad=PAD)
    w.set_vocabulary(vocabulary(h["vocab_size"]))
    path = os.path.join(MODELS_DIR, name + ".fbs")
    w.save(path)
    return path


SPECS = {
    "encoder": dict(family="Encoder", num_layers=2, d_model=64, num_heads=4, d_ff=256,
                    vocab_size=512, max_positions=64, norm_placement="Post",
                    activation="GeluErf", position_encoding="Learned",
                    type_vocab_size=2, embedding_norm=True, layer_norm_epsilon=1e-12),
    "decoder": dict(family="Decoder", num_layers=2, d_model=64, num_heads=4, d_ff=256,
                    vocab_size=512, max_positions=128, norm_placement="Pre",
                    activation="GeluTanh", position_encoding="Learned",
                    tied_embeddings=True, final_norm=True, layer_norm_epsilon=1e-5),
    "encdec": dict(family="EncoderDecoder", num_layers=2, num_decoder_layers=2,
                   d_model=64, num_heads=4, d_ff=128, vocab_size=256, max_positions=128,
                   norm_placement="Post", activation="Relu",
                   position_encoding="Sinusoidal", embedding_scale=math.sqrt(64),
                   layer_norm_epsilon=1e-5),
    "classifier": dict(family="Classifier", num_layers=2, d_model=64, num_heads=4,
                       d_ff=128, vocab_size=512, max_positions=64, norm_placement="Post",
                       activation="Relu", position_encoding="Learned", pooling="Mean",
                       num_classes=3, layer_norm_epsilon=1e-5),
}


def extra_encoder(g, h):
    g.stack("encoder", h["num_layers"], h)


def extra_decoder(g, h):
    g.stack("decoder", h["num_layers"], h)  # tied: no lm_head.weight, no bias


def extra_encdec(g, h):
    g.stack("encoder", h["num_layers"], h)
    g.stack("decoder", h["num_decoder_layers"] or h["num_layers"], h, cross=True)
    g.tensor("lm_head.weight", (h["d_model"], h["vocab_size"]), 0.1)
    g.tensor("lm_head.bias", (h["vocab_size"],), 0.02)


def extra_classifier(g, h):
    g.stack("encoder", h["num_layers"], h)
    g.w.add_linear("classifier", g.normal((h["num_classes"], h["d_model"]), 0.3),
                   g.normal((h["num_classes"],), 0.05))


# ---------------------------------------------------------------------------
# Fixture inputs
# ---------------------------------------------------------------------------

def token_ids(rng, batch, seq, vocab, lengths=None):
    """Random ids in [4, vocab), <START> first; with `lengths`, <END> at the
    last real position (when length >= 2) and <PAD> after it."""
    ids = rng.integers(4, vocab, size=(batch, seq), dtype=np.int64)
    ids[:, 0] = START
    if lengths is not None:
        for r, n in enumerate(lengths):
            if n >= 2:
                ids[r, n - 1] = END
            ids[r, n:] = PAD
    return ids


def padding_mask(batch, seq, lengths):
    m = np.zeros((batch, seq), dtype=np.int64)
    for r, n in enumerate(lengths):
        assert 1 <= n <= seq
        m[r, :n] = 1
    return m


def segment_ids(batch, seq, lengths):
    """Segment 0 for the first half of each row's real tokens, 1 for the rest,
    0 at padding."""
    t = np.zeros((batch, seq), dtype=np.int64)
    for r, n in enumerate(lengths):
        t[r, (n + 1) // 2:n] = 1
    return t


# (batch, seq, lengths of the rows)
ENCODER_CASES = [
    (1, 1, [1]),
    (1, 7, [5]),
    (2, 16, [16, 9]),
    (3, 33, [33, 20, 1]),
    (2, 64, [64, 37]),
]
DECODER_CASES = [(1, 1), (1, 7), (2, 16), (3, 33), (2, 64)]
# (batch, src_seq, tgt_seq, src lengths)
ENCDEC_CASES = [
    (1, 1, 1, [1]),
    (1, 7, 7, [6]),
    (2, 9, 5, [9, 4]),
    (3, 17, 64, [17, 11, 1]),
    (2, 64, 16, [40, 64]),
]


def encoder_like_cases(h, seed):
    rng = np.random.default_rng(seed)
    cases = []
    for batch, seq, lengths in ENCODER_CASES:
        inp = {"input_ids": token_ids(rng, batch, seq, h["vocab_size"], lengths),
               "attention_mask": padding_mask(batch, seq, lengths)}
        if h.get("type_vocab_size", 0) > 0:
            inp["token_type_ids"] = segment_ids(batch, seq, lengths)
        cases.append(({"batch": batch, "seq": seq}, inp))
    return cases


def decoder_cases(h, seed):
    rng = np.random.default_rng(seed)
    return [({"batch": b, "seq": s}, {"input_ids": token_ids(rng, b, s, h["vocab_size"])})
            for b, s in DECODER_CASES]


def encdec_cases(h, seed):
    rng = np.random.default_rng(seed)
    cases = []
    for batch, src, tgt, lengths in ENCDEC_CASES:
        inp = {"src_ids": token_ids(rng, batch, src, h["vocab_size"], lengths),
               "src_mask": padding_mask(batch, src, lengths),
               "tgt_ids": token_ids(rng, batch, tgt, h["vocab_size"])}
        cases.append(({"batch": batch, "src_seq": src, "tgt_seq": tgt}, inp))
    return cases


MODELS = [
    # name, weight seed, extra, case maker, case seed
    ("encoder", 1001, extra_encoder, encoder_like_cases, 2001),
    ("decoder", 1002, extra_decoder, decoder_cases, 2002),
    ("encdec", 1003, extra_encdec, encdec_cases, 2003),
    ("classifier", 1004, extra_classifier, encoder_like_cases, 2004),
]


def main():
    torch.set_num_threads(1)
    os.makedirs(MODELS_DIR, exist_ok=True)
    os.makedirs(REFS_DIR, exist_ok=True)
    manifest = {
        "version": 1,
        "generator": "examples/make_models.py",
        "paths": "'model' is relative to the repository root; 'file' entries are "
                 "relative to the directory of this manifest",
        "tolerance": TOLERANCE,
        "models": [],
    }
    for name, wseed, extra, make_cases, cseed in MODELS:
        path = build(name, wseed, extra)
        hparams, weights, _, _ = read_model(path)
        in_names = tfc_reference.input_names(hparams)
        out_name = tfc_reference.output_name(hparams)
        model_dir = os.path.join(REFS_DIR, name)
        os.makedirs(model_dir, exist_ok=True)
        for stale in glob.glob(os.path.join(model_dir, "case*.npy")):
            os.unlink(stale)
        entry = {
            "name": name,
            "model": os.path.relpath(path, ROOT),
            "family": hparams["family"],
            "inputs": in_names,
            "outputs": [out_name],
            "cases": [],
        }
        for k, (dims, inputs) in enumerate(make_cases(hparams, cseed)):
            assert list(inputs) == in_names, (list(inputs), in_names)
            outputs = tfc_reference.run(hparams, weights, inputs)
            case = {"name": "case%d" % k, "dims": dims, "inputs": {}, "outputs": {}}
            for kind, arrays in (("inputs", inputs), ("outputs", outputs)):
                for tname, arr in arrays.items():
                    arr = np.ascontiguousarray(arr)
                    fname = "%s/case%d.%s.npy" % (name, k, tname)
                    np.save(os.path.join(REFS_DIR, fname), arr, allow_pickle=False)
                    case[kind][tname] = {"file": fname, "dtype": str(arr.dtype),
                                         "shape": list(arr.shape)}
            entry["cases"].append(case)
        manifest["models"].append(entry)
        print("wrote %s (%d bytes), %d cases" % (os.path.relpath(path, ROOT),
                                                 os.path.getsize(path),
                                                 len(entry["cases"])))
    with open(os.path.join(REFS_DIR, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
