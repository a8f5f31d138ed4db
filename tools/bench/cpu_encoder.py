"""cpu_encoder.py -- whole-model encoder latency vs oneDNN's standalone matmul rate (CPU).

    tools/bench/cpu_encoder.sh            (builds first, then runs this)
    /usr/bin/python3 tools/bench/cpu_encoder.py [--rounds 5] [--threads 2]

For the shipped encoder example (batch 1, seq 64 = its max) and a MiniLM-sized encoder
(6 layers, 384, 12 heads, FFN 1536; batch 1, seq 128): compiles a plan, runs `tfrun` and
`onednn_matmul_bench` alternately for several rounds, and prints a Markdown table with the
p50 latency, the GFLOP/s the model's matmul FLOPs imply at that latency, oneDNN's aggregate
standalone matmul rate on the same shapes, and their ratio. Medians over rounds.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "build", "bin")
WORK = os.path.join(ROOT, "build", "bench")

MODELS = [
    # name, model file, (layers, d, heads, ff), batch, seq
    ("encoder example", os.path.join(ROOT, "examples", "models", "encoder.fbs"), (2, 64, 4, 256), 1, 64),
    ("MiniLM geometry", os.path.join(WORK, "minilm.fbs"), (6, 384, 12, 1536), 1, 128),
]


def run(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return out.stdout + out.stderr


def model_flops(layers, d, heads, ff, batch, seq):
    m = batch * seq
    per_layer = 2 * m * (4 * d * d + 2 * d * ff) + 2 * 2 * batch * seq * seq * d
    return layers * per_layer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=50)
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    if not os.path.exists(MODELS[1][1]):
        run([sys.executable, os.path.join(ROOT, "tools", "bench", "make_bench_model.py"),
             "minilm", MODELS[1][1]])
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    rows = []
    for name, path, (layers, d, heads, ff), batch, seq in MODELS:
        plan = os.path.join(WORK, os.path.basename(path).replace(".fbs", ".plan"))
        run([os.path.join(BIN, "tfc"), "compile", path, "-o", plan,
             "--max-batch", str(batch), "--max-seq", str(seq)])
        lat, rate = [], []
        for _ in range(args.rounds):
            out = run([os.path.join(BIN, "tfrun"), plan, "--threads", str(args.threads),
                       "--iterations", str(args.iterations), "--warmup", "5"], env)
            lat.append(float(re.search(r"p50 ([0-9.]+) ms", out).group(1)))
            out = run([os.path.join(BIN, "onednn_matmul_bench"), str(seq), str(d), str(heads),
                       str(ff), str(batch), "100"], env)
            rate.append(float(re.search(r"aggregate_gflops=([0-9.]+)", out).group(1)))
        p50 = statistics.median(lat)
        flops = model_flops(layers, d, heads, ff, batch, seq)
        implied = flops / (p50 * 1e-3) / 1e9
        standalone = statistics.median(rate)
        rows.append((name, batch, seq, p50, flops / 1e9, implied, standalone, implied / standalone))
    print("| model | batch | seq | tfc p50 (ms) | GFLOP per run | implied GFLOP/s | oneDNN matmul alone GFLOP/s | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d | %d | %.3f | %.3f | %.1f | %.1f | %.2f |" % r)
    print("\n%d threads, %d rounds (medians), %d iterations per tfrun round" %
          (args.threads, args.rounds, args.iterations))


if __name__ == "__main__":
    main()
