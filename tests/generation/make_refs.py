#!/usr/bin/env python3
"""make_refs.py -- greedy-generation references (full recompute) for tfc's generation tests.

Run from the repository root with the dev venv (torch, transformers, onnxruntime, flatbuffers;
see tools/requirements-dev.txt) and a torch-2 venv for the ONNX exports
(tests/onnx/requirements-export.txt):

    .venv/bin/python tests/generation/make_refs.py [--export-python .venv-export/bin/python]
                                                   [--tfc-bin build/bin]

Writes (deterministically: fixed seeds, single-threaded torch):
  tests/generation/models/gpt2_tiny.onnx        GPT2LMHeadModel, no past key/values
  tests/generation/models/torch_seq2seq.onnx    nn.Transformer wrapped as a seq2seq LM
  tests/generation/refs/<case>.<input>.npy      the inputs (int64)
  tests/generation/refs/<case>.tokens.npy       expected tokens, int64 [batch, prompt + new]
  tests/generation/refs/<case>.margins.npy      per step top-1 minus top-2 logit, f32 [batch, new]
  tests/generation/manifest.json

Cases (2 rows each, greedy, 64 new tokens, no eos stop):
  decoder        examples/models/decoder.fbs, prompt = 5 random ids >= 4 per row
  encdec         examples/models/encdec.fbs, src_ids + src_mask (lengths 9 and 6, padded),
                 target prompt [<START>]
  gpt2_tiny      the GPT-2 export, prompt = 5 random ids >= 4 per row
  torch_seq2seq  the nn.Transformer export, src_ids (lengths 9 and 6, padded with 0; the
                 padding mask is made in the graph from src_ids == 0), target prompt [<START>]

Every reference is a plain greedy loop that runs the whole sequence again at each step, in
float64: tfc_reference.py (examples/reference/, PyTorch) for the .fbs models, the PyTorch
modules below (.double()) for the ONNX ones. At each step the margin between the largest and
the second largest logit of every row is recorded; when one is below MIN_MARGIN, the prompts
are drawn again from the next seed, so that token-exact comparison of a float32
implementation is a fair test. The GPT-2 model is exported by torch 2 (TorchScript exporter,
dynamo=False, opset 17, dynamic batch and sequence axes) in a subprocess, from the weights the
main process made; the nn.Transformer model by the main process's torch 1.13 (see the note at
ONNX_SPECS: torch 2.15 freezes its target length); each final sequence is then run through ONNX Runtime (full sequence,
teacher forcing): its argmax must reproduce every generated token, and the largest logit
difference from the float64 PyTorch module is recorded.

With --tfc-bin, each model is also compiled by `tfc compile` (fusion report recorded) and
its full-sequence logits on the final sequences from `tfrun` are compared the same way
(informational; recorded in the manifest under "tfc_check").
"""
import argparse
import copy
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODELS_DIR = HERE / "models"
REFS_DIR = HERE / "refs"
MANIFEST = HERE / "manifest.json"
sys.path.insert(0, str(ROOT / "tools" / "python"))
sys.path.insert(0, str(ROOT / "examples" / "reference"))

PAD, START, END = 0, 1, 2
NEW_TOKENS = 64
PROMPT_LEN = 5
SRC_LENGTHS = [9, 6]
MIN_MARGIN = 1e-3
MIN_DISTINCT = 5
OPSET = 17
TORCH2 = int(torch.__version__.split(".")[0]) >= 2

# GPT-2 (a): tiny random-init GPT2LMHeadModel.
GPT2_CFG = dict(vocab_size=512, n_positions=128, n_embd=64, n_layer=2, n_head=4, n_inner=256)
# nn.Transformer seq2seq (b).
# S2S_MAX_POS: 512 rows of sinusoids (tfc's default --max-seq for ONNX is 512; with 128 rows
# `tfc compile` without --max-seq rejects the positional Slice: "the slice end 'src_seq' may
# exceed the dim (128) at its max bound 512").
S2S_D, S2S_HEADS, S2S_LAYERS, S2S_FFN, S2S_VOCAB, S2S_MAX_POS = 64, 4, 2, 128, 256, 512


# ----------------------------------------------------------------------------------------
# ONNX models
# ----------------------------------------------------------------------------------------

class GPT2NoPast(nn.Module):
    """transformers.GPT2LMHeadModel (use_cache=False), input_ids -> logits. No attention_mask
    input: the generation prompts of a batch have equal lengths, so none is needed."""

    def __init__(self):
        super().__init__()
        from transformers import GPT2Config, GPT2LMHeadModel
        cfg = GPT2Config(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, use_cache=False,
                         attn_implementation="eager", **GPT2_CFG)
        self.gpt2 = GPT2LMHeadModel(cfg)

    def forward(self, input_ids):
        return self.gpt2(input_ids=input_ids, use_cache=False, return_dict=True).logits


class SinusoidalPositions(nn.Module):
    def __init__(self, d, max_len):
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float64)[:, None]
        div = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
        pe = torch.zeros(max_len, d, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.float())

    def forward(self, x):  # x: [batch, seq, d]
        return x + self.pe[: x.shape[1]].unsqueeze(0).to(x.dtype)


class TorchSeq2Seq(nn.Module):
    """Token embedding (x sqrt(d)) + sinusoidal positions (buffer) + nn.Transformer
    (batch_first=True, post-LN, ReLU, dropout 0, 2+2 layers) + generator Linear. The causal
    tgt mask (nn.Transformer.generate_square_subsequent_mask of the target length) and the
    source key padding mask (src_ids == PAD, for the encoder and the cross-attention) are
    made inside the graph. Inputs src_ids, tgt_ids; output logits [batch, tgt_seq, vocab]."""

    def __init__(self):
        super().__init__()
        self.src_tok = nn.Embedding(S2S_VOCAB, S2S_D)
        self.tgt_tok = nn.Embedding(S2S_VOCAB, S2S_D)
        self.pos = SinusoidalPositions(S2S_D, S2S_MAX_POS)
        self.transformer = nn.Transformer(S2S_D, S2S_HEADS, S2S_LAYERS, S2S_LAYERS, S2S_FFN,
                                          dropout=0.0, batch_first=True)
        self.transformer.encoder.enable_nested_tensor = False
        self.generator = nn.Linear(S2S_D, S2S_VOCAB)

    def forward(self, src_ids, tgt_ids):
        scale = math.sqrt(S2S_D)
        src = self.pos(self.src_tok(src_ids) * scale)
        tgt = self.pos(self.tgt_tok(tgt_ids) * scale)
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt_ids.shape[1]).to(src.dtype)
        pad = src_ids == PAD
        # tgt_is_causal=False (torch >= 2): otherwise nn.TransformerDecoder compares tgt_mask
        # with a fresh causal mask to detect causality, and the tracer folds that comparison
        # and the sizes behind it into constants of the example's target length (the export
        # then fails for any other length). The mask itself is used either way.
        kw = {"tgt_is_causal": False} if TORCH2 else {}
        h = self.transformer(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=pad,
                             memory_key_padding_mask=pad, **kw)
        return self.generator(h)


ONNX_SPECS = {
    "gpt2_tiny": dict(build=GPT2NoPast, inputs=["input_ids"],
                      dims={"input_ids": {0: "batch", 1: "seq"},
                            "logits": {0: "batch", 1: "seq"}},
                      example=lambda: (torch.randint(4, 512, (3, 11)),)),
    # Exported by this process's torch (the dev venv's 1.13), not torch 2: torch 2.15's
    # TorchScript exporter writes the decoder self-attention's q reshape of this model with
    # the example's target length as a constant ([11, batch*heads, 16]), so ONNX Runtime
    # fails for every other target length ("The input tensor cannot be reshaped to the
    # requested shape. Input shape:{65,2,64}, requested shape:{11,8,16}"), with or without
    # tgt_mask, constant folding or ONNX shape inference; torch 1.13's export is dynamic.
    "torch_seq2seq": dict(build=TorchSeq2Seq, inputs=["src_ids", "tgt_ids"],
                          export_in_process=True,
                          dims={"src_ids": {0: "batch", 1: "src_seq"},
                                "tgt_ids": {0: "batch", 1: "tgt_seq"},
                                "logits": {0: "batch", 1: "tgt_seq"}},
                          # Example sizes (batch 3, src 13, tgt 11) that equal no constant
                          # of the graph: the TorchScript tracer can mistake a size for an
                          # equal small Python int (a tgt length of 3 became the constant 3
                          # of the packed q/k/v split, freezing the target length).
                          example=lambda: (torch.cat([torch.randint(4, S2S_VOCAB, (3, 13))[:, :9],
                                                      torch.zeros(3, 4, dtype=torch.int64)], 1),
                                           torch.randint(4, S2S_VOCAB, (3, 11)))),
}


def perturb(model):
    """Independent noise on every parameter (random init has LayerNorm weights of 1, zero
    biases and, for nn.Transformer's cloned layers, identical layers; an importer that drops
    a bias or mixes up layers would go unseen). Tied parameters stay tied."""
    g = torch.Generator().manual_seed(4321)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            p.add_(torch.randn(p.shape, generator=g) * 0.05)


def build_onnx_model(name):
    torch.manual_seed(1234)
    model = ONNX_SPECS[name]["build"]().eval()
    perturb(model)
    return model


def torch_export(name, model, path):
    spec = ONNX_SPECS[name]
    kw = {"dynamo": False} if int(torch.__version__.split(".")[0]) >= 2 else {}
    torch.manual_seed(0)
    args = spec["example"]()
    # Grad enabled: nn.Transformer* never takes its fused fast path while tracing.
    with torch.enable_grad():
        torch.onnx.export(model, args, str(path), opset_version=OPSET,
                          input_names=spec["inputs"], output_names=["logits"],
                          dynamic_axes=spec["dims"], do_constant_folding=True, **kw)


def export_main(name, weights, out):
    """Runs under torch 2 (--export-python): export one model with the given weights."""
    model = ONNX_SPECS[name]["build"]().eval()
    model.load_state_dict(torch.load(weights))
    torch_export(name, model, out)


def export_onnx(name, model, export_python):
    import onnx
    path = MODELS_DIR / f"{name}.onnx"
    if ONNX_SPECS[name].get("export_in_process"):
        torch_export(name, model, path)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            w = os.path.join(tmp, "weights.pt")
            torch.save(model.state_dict(), w)
            subprocess.run([export_python, str(Path(__file__).resolve()), "--export", name,
                            "--weights", w, "--out", str(path)], check=True)
    m = onnx.load(str(path))
    for n in m.graph.node:
        n.doc_string = ""
    exporter = m.producer_version
    m.producer_name = "tfc tests/generation/make_refs.py (pytorch %s)" % exporter
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return path, exporter


def ort_session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


# ----------------------------------------------------------------------------------------
# Greedy, full recompute
# ----------------------------------------------------------------------------------------

def greedy(step_logits, prompt, new_tokens):
    """step_logits(tokens [b, t] int64) -> float64 logits [b, t, vocab]. Returns (tokens
    [b, t0 + new], margins [b, new], last-position logits [b, new, vocab])."""
    tokens = prompt.copy()
    margins, last = [], []
    for _ in range(new_tokens):
        lg = step_logits(tokens)[:, -1, :]
        top2 = np.sort(lg, axis=-1)[:, -2:]
        margins.append(top2[:, 1] - top2[:, 0])
        last.append(lg)
        nxt = np.argmax(lg, axis=-1).astype(np.int64)
        tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
    return tokens, np.stack(margins, axis=1), np.stack(last, axis=1)


def random_prompt(rng, vocab):
    return rng.integers(4, vocab, size=(2, PROMPT_LEN), dtype=np.int64)


def random_source(rng, vocab):
    seq = max(SRC_LENGTHS)
    ids = rng.integers(4, vocab, size=(len(SRC_LENGTHS), seq), dtype=np.int64)
    mask = np.zeros_like(ids)
    for r, n in enumerate(SRC_LENGTHS):
        ids[r, 0] = START
        ids[r, n - 1] = END
        ids[r, n:] = PAD
        mask[r, :n] = 1
    return ids, mask


def distinct_new(tokens):
    return [len(set(r[-NEW_TOKENS:].tolist())) for r in tokens]


def search(make_case, run_case, seed0):
    """Draw inputs from seed0, seed0+1, ... until every greedy margin is >= MIN_MARGIN and
    every row's new tokens hold >= MIN_DISTINCT distinct ids (random-init models often fall
    into repeating one token, a weak test of a KV cache)."""
    for seed in range(seed0, seed0 + 200):
        inputs = make_case(np.random.default_rng(seed))
        tokens, margins, last = run_case(inputs)
        distinct = distinct_new(tokens)
        if margins.min() >= MIN_MARGIN and min(distinct) >= MIN_DISTINCT:
            return seed, inputs, tokens, margins, last
        print("  seed %d: min margin %.2e, distinct new tokens per row %s; next seed"
              % (seed, margins.min(), distinct))
    raise SystemExit("no inputs with all margins >= %g in 200 seeds" % MIN_MARGIN)


def fbs_case(name, seed0):
    from tfc_model import read_model
    import tfc_reference
    model = ROOT / "examples" / "models" / f"{name}.fbs"
    hp, weights, _, _ = read_model(str(model))
    vocab = hp["vocab_size"]

    def logits(inputs):
        return tfc_reference.run(hp, weights, inputs)["logits"].astype(np.float64)

    # tfc_reference computes in float64 but returns float32; margins use that float32
    # rounding of the float64 logits (its error, ~1e-7 relative, is far below MIN_MARGIN).
    if name == "decoder":
        def make(rng):
            return {"input_ids": random_prompt(rng, vocab)}

        def run(inputs):
            return greedy(lambda t: logits({"input_ids": t}), inputs["input_ids"], NEW_TOKENS)
        token_input, prompt_key = "input_ids", "input_ids"
    else:
        def make(rng):
            src, mask = random_source(rng, vocab)
            return {"src_ids": src, "src_mask": mask,
                    "tgt_ids": np.full((2, 1), START, np.int64)}

        def run(inputs):
            f = lambda t: logits({"src_ids": inputs["src_ids"], "src_mask": inputs["src_mask"],
                                  "tgt_ids": t})
            return greedy(f, inputs["tgt_ids"], NEW_TOKENS)
        token_input, prompt_key = "tgt_ids", "tgt_ids"
    seed, inputs, tokens, margins, last = search(make, run, seed0)
    return dict(source=str(model.relative_to(ROOT)), source_kind="fbs", seed=seed,
                inputs=inputs, token_input=token_input, prompt_key=prompt_key, tokens=tokens,
                margins=margins, reference="examples/reference/tfc_reference.py (float64)")


def onnx_case(name, seed0, export_python):
    model = build_onnx_model(name)
    path, exporter = export_onnx(name, model, export_python)
    m64 = copy.deepcopy(model).double()

    def torch_logits(*args):
        with torch.no_grad():
            return m64(*[torch.from_numpy(a) for a in args]).numpy()

    if name == "gpt2_tiny":
        vocab = GPT2_CFG["vocab_size"]

        def make(rng):
            return {"input_ids": random_prompt(rng, vocab)}

        def run(inputs):
            return greedy(lambda t: torch_logits(t), inputs["input_ids"], NEW_TOKENS)
        token_input = "input_ids"
        final = lambda inputs, tokens: {"input_ids": tokens}
    else:
        def make(rng):
            src, _ = random_source(rng, S2S_VOCAB)
            return {"src_ids": src, "tgt_ids": np.full((2, 1), START, np.int64)}

        def run(inputs):
            return greedy(lambda t: torch_logits(inputs["src_ids"], t), inputs["tgt_ids"],
                          NEW_TOKENS)
        token_input = "tgt_ids"
        final = lambda inputs, tokens: {"src_ids": inputs["src_ids"], "tgt_ids": tokens}
    seed, inputs, tokens, margins, last = search(make, run, seed0)

    # ONNX Runtime vs the float32 module on other shapes (no size frozen by the tracer).
    sess = ort_session(path)
    rng = np.random.default_rng(7)
    for b, s1, s2 in ((1, 1, 1), (3, 17, 5), (2, 4, 30)):
        vocab = GPT2_CFG["vocab_size"] if name == "gpt2_tiny" else S2S_VOCAB
        f = {"input_ids": rng.integers(4, vocab, (b, s1))} if name == "gpt2_tiny" else \
            {"src_ids": rng.integers(4, vocab, (b, s1)), "tgt_ids": rng.integers(4, vocab, (b, s2))}
        with torch.no_grad():
            want = model(*[torch.from_numpy(v) for v in f.values()]).numpy()
        got = sess.run(["logits"], f)[0]
        assert got.shape == want.shape and np.max(np.abs(got - want)) < 1e-4, (name, b, s1, s2)

    # ONNX Runtime, full sequence on the final tokens (teacher forcing).
    feeds = final(inputs, tokens)
    ort_logits = sess.run(["logits"], feeds)[0]
    t64 = torch_logits(*feeds.values())
    p = inputs[token_input].shape[1]
    ort_pred = np.argmax(ort_logits[:, p - 1:-1, :], axis=-1)
    ort_ok = bool(np.array_equal(ort_pred, tokens[:, p:]))
    diff = float(np.max(np.abs(ort_logits.astype(np.float64) - t64)))
    assert ort_ok, (name, "ORT argmax differs from the greedy tokens")
    assert diff < 1e-4, (name, "ORT vs float64 torch logits differ by", diff)
    print("  %s: ORT argmax reproduces all tokens; max |ORT - torch64| = %.2e" % (name, diff))
    return dict(source=str(path.relative_to(ROOT)), source_kind="onnx", seed=seed,
                inputs=inputs, token_input=token_input, prompt_key=token_input,
                tokens=tokens, margins=margins, exporter_torch=exporter,
                size_bytes=path.stat().st_size,
                ort_check=dict(argmax_equal=ort_ok, max_abs_logit_diff=float("%.3g" % diff)),
                reference="the PyTorch module in make_refs.py, float64 (.double())")


# ----------------------------------------------------------------------------------------
# Optional: tfc full-sequence check
# ----------------------------------------------------------------------------------------

def tfc_check(case, name, tfc_bin):
    with tempfile.TemporaryDirectory() as tmp:
        plan, report = os.path.join(tmp, "m.plan"), os.path.join(tmp, "r.json")
        r = subprocess.run([os.path.join(tfc_bin, "tfc"), "compile", str(ROOT / case["source"]),
                            "-o", plan, "--report", report, "--max-batch", "2",
                            "--max-seq", "128"], capture_output=True, text=True)
        if r.returncode != 0:
            return dict(compile_error=(r.stderr or r.stdout).strip())
        rep = json.load(open(report))
        tokens = case["tokens"]
        feeds = {k: v for k, v in case["inputs"].items() if k != case["token_input"]}
        feeds[case["token_input"]] = tokens
        cmd = [os.path.join(tfc_bin, "tfrun"), plan, "--output-dir", tmp]
        for k, v in feeds.items():
            f = os.path.join(tmp, k + ".in.npy")
            np.save(f, v)
            cmd += ["--input", "%s=%s" % (k, f)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        out = dict(fusions=rep.get("fusions"), unfused=rep.get("unfused"))
        if r.returncode != 0:
            out["run_error"] = (r.stderr or r.stdout).strip()
            return out
        lg = np.load(os.path.join(tmp, "logits.npy"))
        p = case["inputs"][case["token_input"]].shape[1]
        out["argmax_equal"] = bool(np.array_equal(np.argmax(lg[:, p - 1:-1], -1), tokens[:, p:]))
        if case["source_kind"] == "onnx":
            ort_logits = ort_session(ROOT / case["source"]).run(["logits"], feeds)[0]
            out["max_abs_diff_vs_ort"] = float("%.3g" % np.max(np.abs(lg - ort_logits)))
        print("  %s: tfc %s" % (name, out))
        return out


# ----------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--export-python", default=os.environ.get(
        "TFC_TORCH2_PYTHON", str(ROOT / ".venv-export" / "bin" / "python")))
    ap.add_argument("--tfc-bin", default="", help="check full-sequence tfc plans too")
    ap.add_argument("--export", help=argparse.SUPPRESS)
    ap.add_argument("--weights", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.export:
        return export_main(a.export, a.weights, a.out)
    torch.set_num_threads(1)
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    REFS_DIR.mkdir(parents=True, exist_ok=True)
    for f in REFS_DIR.glob("*.npy"):
        f.unlink()
    cases = {}
    for name, seed0 in (("decoder", 100), ("encdec", 200)):
        print(name)
        cases[name] = fbs_case(name, seed0)
    for name, seed0 in (("gpt2_tiny", 300), ("torch_seq2seq", 400)):
        print(name)
        cases[name] = onnx_case(name, seed0, a.export_python)

    import onnxruntime
    import transformers
    entries = []
    for name, c in cases.items():
        files = {}
        for k, v in c["inputs"].items():
            fn = "refs/%s.%s.npy" % (name, k)
            np.save(HERE / fn, np.ascontiguousarray(v))
            files[k] = fn
        np.save(HERE / ("refs/%s.tokens.npy" % name), c["tokens"])
        np.save(HERE / ("refs/%s.margins.npy" % name), c["margins"].astype(np.float32))
        p = c["inputs"][c["token_input"]].shape[1]
        e = dict(name=name, source=c["source"], source_kind=c["source_kind"],
                 inputs=files, token_input=c["token_input"],
                 prompt=c["inputs"][c["token_input"]].tolist(), prompt_len=p,
                 batch=int(c["tokens"].shape[0]), new_tokens=NEW_TOKENS, eos=None,
                 decoding="greedy", expected_tokens="refs/%s.tokens.npy" % name,
                 expected_tokens_shape=list(c["tokens"].shape),
                 margins="refs/%s.margins.npy" % name,
                 min_margin=float("%.4g" % c["margins"].min()),
                 distinct_new_tokens_per_row=distinct_new(c["tokens"]), seed=c["seed"],
                 reference=c["reference"])
        for k in ("exporter_torch", "size_bytes", "ort_check"):
            if k in c:
                e[k] = c[k]
        if a.tfc_bin:
            e["tfc_check"] = tfc_check(c, name, a.tfc_bin)
        entries.append(e)
        print("%s: tokens %s, min margin %.3g (seed %d)" % (name, list(c["tokens"].shape),
                                                           c["margins"].min(), c["seed"]))
    manifest = dict(
        generator="tests/generation/make_refs.py",
        paths="'source' is relative to the repository root; other files are relative to "
              "the directory of this manifest",
        rule="greedy, full recompute each step, float64 reference; tokens = prompt followed "
             "by new_tokens generated tokens (no eos stop); every step's top-1 minus top-2 "
             "logit margin >= %g; each row's new tokens hold >= %d distinct ids" % (
                 MIN_MARGIN, MIN_DISTINCT),
        versions=dict(torch=torch.__version__, transformers=transformers.__version__,
                      onnxruntime=onnxruntime.__version__, numpy=np.__version__),
        onnx_models=dict(
            gpt2_tiny="transformers.GPT2LMHeadModel %s random init + noise 0.05, use_cache=False, "
                      "no past key/values, no attention_mask input (equal-length prompts); "
                      "opset %d, dynamic batch/seq" % (json.dumps(GPT2_CFG), OPSET),
            torch_seq2seq="nn.Transformer(d_model=%d, nhead=%d, %d+%d layers, "
                          "dim_feedforward=%d, dropout=0, batch_first=True, post-LN, ReLU) "
                          "random init + noise 0.05; token embeddings x sqrt(d), sinusoidal "
                          "positions (buffer, %d), causal tgt mask from "
                          "generate_square_subsequent_mask(tgt_len), key padding from "
                          "src_ids == 0, generator Linear to vocab %d; start id %d; opset %d, "
                          "dynamic batch/src_seq/tgt_seq" % (
                              S2S_D, S2S_HEADS, S2S_LAYERS, S2S_LAYERS, S2S_FFN, S2S_MAX_POS,
                              S2S_VOCAB, START, OPSET)),
        cases=entries)
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
