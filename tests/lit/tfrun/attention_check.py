"""attention_check.py MODE OUT_DIR [REF_DIR] -- checks what tfrun --attention-out wrote.

MODE "minilm": OUT_DIR holds the weights of all-MiniLM-L6-v2 on the two sentences of
REF_DIR/tokens.json (tests/hf/make_attention_refs.py): per layer, the weights of the padded
keys (attention_mask 0) must be exactly 0, every row must sum to 1, and the weights must match
transformers' output_attentions (REF_DIR/layer<L>.npy) within 1e-4; the tokens in attention.json
must be the tokenizer's; with heatmaps, one SVG per layer, head and row, and in row 0's the
cells of padded keys white.

MODE "causal": OUT_DIR holds a generation's records (prefill, then decode steps): prefill rows
see no later key (upper triangle 0), a decode step has one query over every cached position,
rows sum to 1.
"""
import glob
import json
import re
import sys

import numpy as np


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def load(out_dir):
    manifest = json.load(open(out_dir + "/attention.json", encoding="utf-8"))
    return manifest, [np.load(out_dir + "/" + r["file"]) for r in manifest["records"]]


def check_rows(name, w, tol=1e-5):
    sums = w.sum(-1)
    if not np.all(np.abs(sums - 1) <= tol):
        fail("%s: a row sums to %g" % (name, sums.flat[np.abs(sums - 1).argmax()]))


def minilm(out_dir, ref_dir):
    manifest, weights = load(out_dir)
    ref_info = json.load(open(ref_dir + "/tokens.json", encoding="utf-8"))
    mask = np.load(ref_dir + "/attention_mask.npy")
    if manifest["tokens"] != ref_info["tokens"]:
        fail("tokens %s, expected %s" % (manifest["tokens"], ref_info["tokens"]))
    layers = [r["layer"] for r in manifest["records"]]
    if layers != list(range(ref_info["layers"])):
        fail("layers %s" % layers)
    worst = 0.0
    for r, w in zip(manifest["records"], weights):
        ref = np.load("%s/layer%d.npy" % (ref_dir, r["layer"]))
        if w.shape != ref.shape or list(w.shape) != r["dims"]:
            fail("%s: shape %s, expected %s" % (r["file"], w.shape, ref.shape))
        for b in range(w.shape[0]):
            padded = w[b][:, :, mask[b] == 0]
            if padded.size and np.any(padded != 0):
                fail("%s: row %d gives padded keys weight %g" % (r["file"], b, np.abs(padded).max()))
        check_rows(r["file"], w)
        worst = max(worst, float(np.abs(w.astype(np.float64) - ref).max()))
    pads = int((mask == 0).sum())
    print("%d layers %s: %d padded key(s) all 0, rows sum to 1, max |tfc - transformers| %s 1e-4"
          % (len(weights), list(weights[0].shape), pads, "<=" if worst <= 1e-4 else ">"))
    print("max |diff| = %.3g" % worst, file=sys.stderr)
    if worst > 1e-4:
        sys.exit(1)
    svgs = glob.glob(out_dir + "/heatmaps/*.svg")
    if svgs:
        B, H = weights[0].shape[:2]
        if len(svgs) != len(weights) * B * H:
            fail("%d heatmaps, expected %d" % (len(svgs), len(weights) * B * H))
        prefix = manifest["records"][0]["file"][:-len(".npy")]
        svg = open("%s/heatmaps/%s.h00.b0.svg" % (out_dir, prefix), encoding="utf-8").read()
        cells = re.findall(r'data-q="(\d+)" data-k="(\d+)"[^>]* fill="(#[0-9a-f]{6})"', svg)
        padded = [int(k) for k in np.nonzero(mask[0] == 0)[0]]
        white = [f == "#ffffff" for q, k, f in cells if int(k) in padded]
        if len(cells) != mask.shape[1] ** 2 or not white or not all(white):
            fail("row 0's heatmap: %d cells, padded keys white: %s" % (len(cells), white))
        print("%d heatmaps; row 0's padded key columns white" % len(svgs))


def causal(out_dir):
    manifest, weights = load(out_dir)
    prefill = [(r, w) for r, w in zip(manifest["records"], weights) if r["function"] == "prefill"]
    steps = [(r, w) for r, w in zip(manifest["records"], weights) if r["function"] == "decode_step"]
    if not prefill or not steps:
        fail("functions %s" % sorted({r["function"] for r in manifest["records"]}))
    for r, w in prefill:
        b, h, q, k = w.shape
        if q != k or np.any(np.triu(np.ones((q, k)), 1)[None, None] * w != 0):
            fail("%s: a query sees a later key" % r["file"])
        check_rows(r["file"], w)
    length = prefill[0][1].shape[3]
    for r, w in steps:
        if w.shape[2] != 1 or w.shape[3] != length + r["run"]:
            fail("%s: shape %s at run %d" % (r["file"], w.shape, r["run"]))
        check_rows(r["file"], w)
    print("prefill %d record(s) %s causal; %d decode record(s), keys %d..%d; rows sum to 1"
          % (len(prefill), list(prefill[0][1].shape), len(steps), steps[0][1].shape[3],
             steps[-1][1].shape[3]))


if __name__ == "__main__":
    if sys.argv[1] == "minilm":
        minilm(sys.argv[2], sys.argv[3])
    else:
        causal(sys.argv[2])
