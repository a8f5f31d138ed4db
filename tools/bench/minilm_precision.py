"""minilm_precision.py -- all-MiniLM-L6-v2 on the CPU in fp32, bf16 and int8: speed and accuracy,
tfc against ONNX Runtime's fp32 and dynamic int8 (onnxruntime.quantization.quantize_dynamic).

    tools/bench/minilm_precision.sh [--rounds 3] [--iterations 20]   (installs, builds, runs this)

Model: build/models/all-MiniLM-L6-v2 (tools/get_minilm.sh). tfc plans: `tfc compile DIR
--max-batch 10 --max-seq 256 --precision P` (its accuracy check on: the line it prints is
kept). ONNX Runtime: the same checkpoint exported by transformers' BertModel (no pooler, opset
14, dynamic batch/seq) with Debian's torch, and two `quantize_dynamic(weight_type=QInt8)`
copies: the defaults (`int8`: per-tensor weights, u8 activations with a dynamic per-tensor
scale and zero point) and `int8-rr-pc` (per_channel=True, reduce_range=True: 7-bit weights,
ONNX Runtime's advice for CPUs without VNNI, whose u8 x s8 products can saturate); sessions with
ORT_ENABLE_ALL, 2 intra-op threads, sequential.

Workloads (real text, tests/hf/minilm/): `b1 s128` = sentence 46's first 128 word pieces;
`50 sentences` = the 50-sentence set as 5 batches of 10, each padded to its longest (the
time is the sum of the 5 batches' p50s). Each round runs every (runtime, precision) once per
workload, alternating; the table gives the median over rounds of the p50s.

Accuracy: the 50 sentences' embeddings (masked mean pooling, L2 normalization): the lowest
cosine against the same runtime's fp32 embeddings, and against sentence-transformers'
(tests/hf/minilm/embeddings.npy).

Profile: `tfrun --profile` of the b1 s128 workload, time per kernel kind, fp32 and int8.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "build", "bin")
WORK = os.path.join(ROOT, "build", "bench", "minilm")
MODEL = os.path.join(ROOT, "build", "models", "all-MiniLM-L6-v2")
REFS = os.path.join(ROOT, "tests", "hf", "minilm")
PRECISIONS = ["fp32", "bf16", "int8"]

EXPORT = r"""
import sys, torch
from transformers import BertModel
m = BertModel.from_pretrained(sys.argv[1], add_pooling_layer=False).eval()
ids = torch.ones(1, 16, dtype=torch.long)
names = ["input_ids", "attention_mask", "token_type_ids"]
axes = {n: {0: "batch", 1: "seq"} for n in names + ["last_hidden_state"]}
torch.onnx.export(m, (ids, torch.ones_like(ids), torch.zeros_like(ids)), sys.argv[2],
                  input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes,
                  opset_version=14)
print("torch", torch.__version__)
"""


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def onnx_models():
    fp32 = os.path.join(WORK, "model.onnx")
    int8 = os.path.join(WORK, "model.int8.onnx")
    if not os.path.exists(fp32):
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # Debian's torch 1.13 with its own numpy
        run([sys.executable, "-c", EXPORT, MODEL, fp32], env=env)
    from onnxruntime.quantization import QuantType, quantize_dynamic
    if not os.path.exists(int8):
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
    # What ONNX Runtime advises for CPUs without VNNI (its u8 x s8 kernels can saturate):
    # 7-bit weights, per output channel.
    int8rr = os.path.join(WORK, "model.int8-rr-pc.onnx")
    if not os.path.exists(int8rr):
        quantize_dynamic(fp32, int8rr, weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True)
    return {"fp32": fp32, "int8": int8, "int8-rr-pc": int8rr}


def tfc_plans():
    plans, notes = {}, {}
    for p in PRECISIONS:
        plan = os.path.join(WORK, "minilm.%s.plan" % p)
        t0 = time.perf_counter()
        r = run([os.path.join(BIN, "tfc"), "compile", MODEL, "-o", plan, "--max-batch", "10",
                 "--max-seq", "256", "--precision", p])
        secs = time.perf_counter() - t0
        acc = [l for l in r.stderr.splitlines() if l.startswith("tfc: accuracy")]
        notes[p] = "compile %.1f s%s" % (secs, ("; " + acc[0][5:]) if acc else "")
        plans[p] = plan
    return plans, notes


def batches():
    """The workloads' inputs: name -> list of (ids, mask) batches."""
    ids = np.load(os.path.join(REFS, "input_ids.npy"))
    mask = np.load(os.path.join(REFS, "attention_mask.npy"))
    out = {"b1 s128": [(ids[46:47, :128].copy(), np.ones((1, 128), np.int64))]}
    sets = []
    for s in range(0, 50, 10):
        n = int(mask[s:s + 10].sum(axis=1).max())
        sets.append((ids[s:s + 10, :n].copy(), mask[s:s + 10, :n].copy()))
    out["50 sentences"] = sets
    return out


def npy_inputs(tag, ids, mask):
    paths = []
    for name, a in (("input_ids", ids), ("attention_mask", mask),
                    ("token_type_ids", np.zeros_like(ids))):
        path = os.path.join(WORK, "%s.%s.npy" % (tag, name))
        np.save(path, a)
        paths += ["--input", "%s=%s" % (name, path)]
    return paths


def tfc_p50(plan, inputs, threads, iterations, warmup):
    r = run([os.path.join(BIN, "tfrun"), plan, "--threads", str(threads), "--iterations",
             str(iterations), "--warmup", str(warmup)] + inputs)
    return float(re.search(r"p50 ([0-9.]+) ms", r.stdout).group(1))


def ort_session(path, threads):
    import onnxruntime as ort
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])


def ort_feed(ids, mask):
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def ort_p50(session, feed, iterations, warmup):
    for _ in range(warmup):
        session.run(None, feed)
    t = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        session.run(None, feed)
        t.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(t)


def pool(hidden, mask):
    m = mask[:, :, None].astype(np.float64)
    e = (hidden.astype(np.float64) * m).sum(axis=1) / m.sum(axis=1)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


def embeddings_tfc(plan, sets, threads):
    out = []
    for i, (ids, mask) in enumerate(sets):
        d = os.path.join(WORK, "out-%d" % i)
        os.makedirs(d, exist_ok=True)
        run([os.path.join(BIN, "tfrun"), plan, "--threads", str(threads), "--output-dir", d] +
            npy_inputs("emb%d" % i, ids, mask))
        out.append(pool(np.load(os.path.join(d, "last_hidden_state.npy")), mask))
    return np.concatenate(out)


def embeddings_ort(session, sets):
    return np.concatenate([pool(session.run(None, ort_feed(i, m))[0], m) for i, m in sets])


def min_cosine(a, b):
    return float(np.min(np.sum(a * b, axis=1) /
                        (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))))


def profile_by_kind(plan, inputs, threads):
    r = run([os.path.join(BIN, "tfrun"), plan, "--threads", str(threads), "--iterations", "10",
             "--warmup", "2", "--profile"] + inputs)
    kinds, on = {}, False
    for line in (r.stdout + r.stderr).splitlines():
        if line.startswith("profile by kind"):
            on = True
            continue
        m = re.match(r"\s+([0-9.]+)\s+([0-9.]+)%\s+\d+\s+(\w+)", line)
        if on and m:
            kinds[m.group(3)] = (float(m.group(1)) / 10, float(m.group(2)))
    return kinds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    import onnxruntime
    onnx = onnx_models()
    plans, notes = tfc_plans()
    work = batches()
    inputs = {w: [npy_inputs("%s-%d" % (w.replace(" ", "_"), i), ids, mask)
                  for i, (ids, mask) in enumerate(sets)] for w, sets in work.items()}
    sessions = {p: ort_session(path, args.threads) for p, path in onnx.items()}
    peers = [("tfc", p) for p in PRECISIONS] + [("ORT", p) for p in onnx]
    times = {(w, peer): [] for w in work for peer in peers}
    for rnd in range(args.rounds):
        for w, sets in work.items():
            for runtime, p in peers:
                if runtime == "tfc":
                    t = sum(tfc_p50(plans[p], inp, args.threads, args.iterations, args.warmup)
                            for inp in inputs[w])
                else:
                    t = sum(ort_p50(sessions[p], ort_feed(i, m), args.iterations, args.warmup)
                            for i, m in sets)
                times[(w, (runtime, p))].append(t)
        print("round %d done" % (rnd + 1), file=sys.stderr)

    print("onnxruntime %s, %d threads, %d rounds x %d iterations (+%d warmup), medians of p50s (ms)"
          % (onnxruntime.__version__, args.threads, args.rounds, args.iterations, args.warmup))
    print()
    print("| workload | " + " | ".join("%s %s" % peer for peer in peers) +
          " | tfc fp32/int8 | tfc fp32/bf16 | ORT fp32/int8 | tfc int8 vs ORT int8 |")
    print("|---|" + "---|" * (len(peers) + 4))
    for w in work:
        med = {peer: statistics.median(times[(w, peer)]) for peer in peers}
        print("| %s | " % w + " | ".join("%.2f" % med[peer] for peer in peers) +
              " | %.2fx | %.2fx | %.2fx | %.2fx |" % (
                  med[("tfc", "fp32")] / med[("tfc", "int8")],
                  med[("tfc", "fp32")] / med[("tfc", "bf16")],
                  med[("ORT", "fp32")] / med[("ORT", "int8")],
                  med[("ORT", "int8")] / med[("tfc", "int8")]))
    print()
    st = np.load(os.path.join(REFS, "embeddings.npy")).astype(np.float64)
    sets = work["50 sentences"]
    emb = {("tfc", p): embeddings_tfc(plans[p], sets, args.threads) for p in PRECISIONS}
    emb.update({("ORT", p): embeddings_ort(sessions[p], sets) for p in onnx})
    print("| runtime precision | lowest cosine vs its fp32 (50 sentences) | lowest cosine vs sentence-transformers |")
    print("|---|---|---|")
    for runtime, p in peers:
        print("| %s %s | %.6f | %.6f |" % (runtime, p, min_cosine(emb[(runtime, p)],
                                                              emb[(runtime, "fp32")]),
                                          min_cosine(emb[(runtime, p)], st)))
    print()
    for p in PRECISIONS:
        print("- tfc %s: %s" % (p, notes[p]))
    print()
    prof = {p: profile_by_kind(plans[p], inputs["b1 s128"][0], args.threads)
            for p in ("fp32", "int8")}
    kinds = sorted(set(prof["fp32"]) | set(prof["int8"]),
                   key=lambda k: -prof["fp32"].get(k, (0, 0))[0])
    print("| kernel kind (b1 s128) | fp32 ms/run | fp32 share | int8 ms/run | int8 share |")
    print("|---|---|---|---|---|")
    for k in kinds:
        a, b = prof["fp32"].get(k, (0, 0)), prof["int8"].get(k, (0, 0))
        if a[0] + b[0] >= 0.01:
            print("| %s | %.2f | %.1f%% | %.2f | %.1f%% |" % (k, a[0], a[1], b[0], b[1]))


if __name__ == "__main__":
    main()
