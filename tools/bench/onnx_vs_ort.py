"""onnx_vs_ort.py -- tfc vs ONNX Runtime vs PyTorch on the same BERT-style ONNX export.

    tools/bench/onnx_vs_ort.sh [--rounds 5] [--threads 2]

For MiniLM geometry (6 layers, 384, 12 heads, FFN 1536) and BERT-base geometry (12, 768, 12,
3072), batch 1 and 8, seq 128, fp32: a random-init Hugging Face BertModel is exported to ONNX
(opset 17, dynamic batch/seq) into build/bench/; then, alternating in rounds,
  * tfc:          `tfc compile model.onnx -o plan --max-batch B --max-seq 128`, timed by
                  `tfrun plan --threads T --iterations N --warmup W` (p50 it prints),
  * ONNX Runtime: InferenceSession, ORT_ENABLE_ALL, intra_op_num_threads=T, sequential,
  * PyTorch:      the same BertModel geometry in PyTorch 2 (.venv-export, see
                  torch_bert_latency.py), torch.set_num_threads(T), no_grad,
and prints a Markdown table of p50 latencies and the ratio tfc/ORT (medians over rounds), and
writes an SVG bar chart next to docs/BENCHMARKS.md. Needs the packages of
tools/requirements-dev.txt in .venv (torch comes from Debian's python3-torch).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "build", "bin")
WORK = os.path.join(ROOT, "build", "bench")

GEOMETRIES = {
    "MiniLM": dict(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536),
    "BERT-base": dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072),
}


def export(name, cfg, path):
    import torch
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=30522, max_position_embeddings=512, **cfg)).eval()
    if not os.path.exists(path):
        ids = torch.randint(0, 30522, (1, 16))
        mask = torch.ones(1, 16, dtype=torch.int64)
        types = torch.zeros(1, 16, dtype=torch.int64)
        torch.onnx.export(model, (ids, mask, types), path, opset_version=17,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state", "pooler_output"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                        "attention_mask": {0: "batch", 1: "seq"},
                                        "token_type_ids": {0: "batch", 1: "seq"},
                                        "last_hidden_state": {0: "batch", 1: "seq"}})


def p50(samples):
    return statistics.median(samples)


def time_calls(fn, iterations, warmup):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return p50(out)


def torch_p50(python, cfg, batch, seq, threads, iterations):
    r = subprocess.run([python, os.path.join(ROOT, "tools", "bench", "torch_bert_latency.py")] +
                       [str(v) for v in (cfg["num_hidden_layers"], cfg["hidden_size"],
                                         cfg["num_attention_heads"], cfg["intermediate_size"],
                                         batch, seq, threads, iterations)],
                       capture_output=True, text=True, check=True)
    m = re.search(r"p50_ms=([0-9.]+) torch=(\S+)", r.stdout)
    return float(m.group(1)), m.group(2)


def tfc_p50(onnx_path, batch, seq, threads, iterations, warmup):
    plan = onnx_path.replace(".onnx", "-b%d.plan" % batch)
    if not os.path.exists(plan):
        r = subprocess.run([os.path.join(BIN, "tfc"), "compile", onnx_path, "-o", plan,
                            "--max-batch", str(batch), "--max-seq", str(seq)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return None, r.stderr.strip().splitlines()[-1] if r.stderr else "tfc compile failed"
    ids = os.path.join(WORK, "ids-%dx%d.npy" % (batch, seq))
    mask = os.path.join(WORK, "mask-%dx%d.npy" % (batch, seq))
    rng = np.random.default_rng(0)
    np.save(ids, rng.integers(1000, 30000, (batch, seq), dtype=np.int64))
    np.save(mask, np.ones((batch, seq), np.int64))
    types = os.path.join(WORK, "types-%dx%d.npy" % (batch, seq))
    np.save(types, np.zeros((batch, seq), np.int64))
    r = subprocess.run([os.path.join(BIN, "tfrun"), plan, "--threads", str(threads),
                        "--iterations", str(iterations), "--warmup", str(warmup),
                        "--input", "input_ids=" + ids, "--input", "attention_mask=" + mask,
                        "--input", "token_type_ids=" + types],
                       capture_output=True, text=True)
    m = re.search(r"p50 ([0-9.]+) ms", r.stdout)
    if r.returncode != 0 or not m:
        return None, (r.stderr.strip() or "tfrun failed")
    return float(m.group(1)), ""


def svg_chart(rows, path):
    w, h, pad, bar = 760, 320, 50, 18
    peers = [("tfc", "#2b6cb0"), ("ORT", "#dd6b20"), ("PyTorch", "#718096")]
    vmax = max(v for r in rows for v in r[2:5] if v) * 1.1
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (w, h),
           '<text x="%d" y="18" font-size="13">p50 latency (ms), seq 128, lower is better</text>' % pad]
    group = (w - 2 * pad) / len(rows)
    for i, r in enumerate(rows):
        x0 = pad + i * group + 10
        for j, (peer, color) in enumerate(peers):
            v = r[2 + j]
            if not v:
                continue
            bh = (h - 2 * pad) * v / vmax
            x = x0 + j * (bar + 4)
            out.append('<rect x="%.1f" y="%.1f" width="%d" height="%.1f" fill="%s"/>' % (x, h - pad - bh, bar, bh, color))
            out.append('<text x="%.1f" y="%.1f" font-size="9">%.1f</text>' % (x - 2, h - pad - bh - 3, v))
        out.append('<text x="%.1f" y="%d">%s b%d</text>' % (x0, h - pad + 16, r[0], r[1]))
    for j, (peer, color) in enumerate(peers):
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>' %
                   (w - 140, 30 + 16 * j, color, w - 125, 39 + 16 * j, peer))
    out.append("</svg>")
    open(path, "w").write("\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--geometries", default="MiniLM,BERT-base")
    ap.add_argument("--torch-python", default=os.path.join(ROOT, ".venv-export", "bin", "python"))
    ap.add_argument("--svg", default=os.path.join(ROOT, "docs", "bench_onnx_vs_ort.svg"))
    args = ap.parse_args()
    import onnxruntime as ort
    os.makedirs(WORK, exist_ok=True)
    seq = 128
    rows, notes = [], []
    for gname in args.geometries.split(","):
        path = os.path.join(WORK, "bert-%s.onnx" % gname.lower())
        export(gname, GEOMETRIES[gname], path)
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = args.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        for batch in [int(b) for b in args.batches.split(",")]:
            rng = np.random.default_rng(0)
            ids = rng.integers(1000, 30000, (batch, seq), dtype=np.int64)
            mask = np.ones((batch, seq), np.int64)
            feed = {"input_ids": ids, "attention_mask": mask,
                    "token_type_ids": np.zeros((batch, seq), np.int64)}
            t_tfc, t_ort, t_pt = [], [], []
            for _ in range(args.rounds):
                v, err = tfc_p50(path, batch, seq, args.threads, args.iterations, 3)
                if v is None:
                    notes.append("%s b%d: tfc: %s" % (gname, batch, err))
                else:
                    t_tfc.append(v)
                t_ort.append(time_calls(lambda: sess.run(["last_hidden_state"], feed), args.iterations, 3))
                v_pt, torch_version = torch_p50(args.torch_python, GEOMETRIES[gname], batch, seq,
                                                args.threads, args.iterations)
                t_pt.append(v_pt)
                if v is None:
                    break
            tfc = p50(t_tfc) if t_tfc else None
            rows.append((gname, batch, tfc, p50(t_ort), p50(t_pt)))
    print("| geometry | batch | seq | tfc p50 (ms) | ORT p50 (ms) | PyTorch p50 (ms) | tfc/ORT | tfc/PyTorch |")
    print("|---|---|---|---|---|---|---|---|")
    for g, b, tfc, o, p in rows:
        f = lambda v: "%.2f" % v if v else "n/a"
        print("| %s | %d | %d | %s | %.2f | %.2f | %s | %s |" % (
            g, b, seq, f(tfc), o, p, f(tfc / o if tfc else None), f(tfc / p if tfc else None)))
    print("\n%d threads, fp32, %d rounds alternating tfc / ORT / PyTorch, medians of per-round p50s "
          "(%d iterations each); onnxruntime %s, torch %s" % (
              args.threads, args.rounds, args.iterations, ort.__version__, torch_version))
    for n in dict.fromkeys(notes):
        print("note:", n)
    svg_chart(rows, args.svg)
    print("chart:", os.path.relpath(args.svg, ROOT))


if __name__ == "__main__":
    main()
