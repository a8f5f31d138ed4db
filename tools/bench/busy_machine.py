"""busy_machine.py -- tfc and ONNX Runtime latency on a quiet and on a busy machine.

    .venv/bin/python tools/bench/busy_machine.py [--rounds 3] [--iterations 60] [--busy-cpu 1]
                                                 [--tfc-modes auto,spin,passive] [--bin build/bin]
                                                 [--no-ort]

MiniLM geometry (6 layers, 384, 12 heads, FFN 1536), batch 1, seq 128, fp32, 2 threads. Each
round, for each condition (quiet; then one busy process `while :; do :; done` pinned with
`taskset -c BUSY_CPU`), runs in turn, each in a fresh process:
  * tfc:  `tfrun build/bench/seam/minilm.plan --threads 2 --iterations N --warmup 5`, once per
          TFC_WAIT_POLICY in --tfc-modes (the p50/p90/max tfrun prints); a mode NAME=VALUE
          sets that OpenMP variable instead (e.g. GOMP_SPINCOUNT=1000, OMP_WAIT_POLICY=ACTIVE),
  * ORT:  the same geometry as a random-init BertModel exported to ONNX (opset 17, made once
          into build/bench/busy/), InferenceSession ORT_ENABLE_ALL, intra_op_num_threads=2,
          sequential, N timed runs after 5 warmup, the same nearest-rank percentiles as tfrun;
          with ORT's default spinning thread pool and with session.intra_op.allow_spinning=0.
Prints one line per run and a Markdown table of medians over rounds (p50, p90, max, and
busy p90 / quiet p50). The load average before each round is printed: the machine is shared.
The tfc plan is made by tools/bench/backend_seam_bench.sh (or make_bench_model.py minilm and
`tfc compile ... --max-batch 1 --max-seq 128`); pass --plan to use another one.
"""
import argparse
import math
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
WORK = os.path.join(ROOT, "build", "bench", "busy")
CFG = dict(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536)
SEQ = 128


def rank(ms, p):
    """Nearest-rank percentile, as tfrun computes it (tools/tfrun/Format.cpp)."""
    ms = sorted(ms)
    r = int(math.ceil(p * len(ms)))
    return ms[min(max(r, 1), len(ms)) - 1]


def export_onnx(path):
    import torch
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=30522, max_position_embeddings=512, **CFG)).eval()
    ids = torch.randint(0, 30522, (1, 16))
    ones = torch.ones(1, 16, dtype=torch.int64)
    zeros = torch.zeros(1, 16, dtype=torch.int64)
    torch.onnx.export(model, (ids, ones, zeros), path, opset_version=17,
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state", "pooler_output"],
                      dynamic_axes={n: {0: "batch", 1: "seq"} for n in
                                    ("input_ids", "attention_mask", "token_type_ids",
                                     "last_hidden_state")})


def ort_child(path, threads, iterations, warmup, spin):
    """Runs in its own process (fresh thread pool, like a fresh tfrun); prints the stats."""
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feed = {"input_ids": rng.integers(0, 30522, (1, SEQ), dtype=np.int64),
            "attention_mask": np.ones((1, SEQ), np.int64),
            "token_type_ids": np.zeros((1, SEQ), np.int64)}
    for _ in range(warmup):
        sess.run(["last_hidden_state"], feed)
    ms = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        sess.run(["last_hidden_state"], feed)
        ms.append((time.perf_counter() - t0) * 1e3)
    print("p50 %.3f ms  p90 %.3f ms  max %.3f ms" % (rank(ms, 0.5), rank(ms, 0.9), max(ms)))


def parse(text):
    m = re.search(r"p50 ([0-9.]+) ms\s+p90 ([0-9.]+) ms\s+max ([0-9.]+) ms", text)
    if not m:
        sys.exit("could not parse latency from:\n" + text)
    return tuple(float(v) for v in m.groups())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iterations", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--busy-cpu", default="1")
    ap.add_argument("--tfc-modes", default="auto,spin,passive")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--plan", default=os.path.join(ROOT, "build", "bench", "seam", "minilm.plan"))
    ap.add_argument("--no-ort", action="store_true")
    ap.add_argument("--ort-child", help=argparse.SUPPRESS)
    ap.add_argument("--ort-spin", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ort_child:
        ort_child(args.ort_child, args.threads, args.iterations, args.warmup, args.ort_spin)
        return
    os.makedirs(WORK, exist_ok=True)
    onnx_path = os.path.join(WORK, "minilm.onnx")
    if not os.path.exists(onnx_path):
        export_onnx(onnx_path)
    if not os.path.exists(args.plan):
        sys.exit("no plan at %s (see the docstring)" % args.plan)

    configs = []
    for mode in [m for m in args.tfc_modes.split(",") if m]:
        env = dict(os.environ)
        for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "TFC_WAIT_POLICY"):
            env.pop(k, None)
        if "=" in mode:  # an OpenMP variable set directly, e.g. GOMP_SPINCOUNT=1000
            k, v = mode.split("=", 1)
            env[k] = v
        else:
            env["TFC_WAIT_POLICY"] = mode
        configs.append(("tfc " + mode, [os.path.join(args.bin, "tfrun"), args.plan, "--threads",
                                        str(args.threads), "--iterations", str(args.iterations),
                                        "--warmup", str(args.warmup)], env))
    for spin in () if args.no_ort else (1, 0):
        configs.append(("ORT spin=%d" % spin,
                        [sys.executable, os.path.abspath(__file__), "--ort-child", onnx_path,
                         "--ort-spin", str(spin), "--threads", str(args.threads),
                         "--iterations", str(args.iterations), "--warmup", str(args.warmup)],
                        dict(os.environ)))

    results = {}  # (config, condition) -> list of (p50, p90, max)
    for r in range(args.rounds):
        print("round %d: load average %s" % (r + 1, open("/proc/loadavg").read().split()[:3]),
              flush=True)
        for condition in ("quiet", "busy"):
            busy = None
            if condition == "busy":
                busy = subprocess.Popen(["taskset", "-c", args.busy_cpu, "sh", "-c",
                                         "while :; do :; done"])
                time.sleep(0.5)
            try:
                for name, cmd, env in configs:
                    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
                    if out.returncode != 0:
                        sys.exit("%s failed:\n%s%s" % (name, out.stdout, out.stderr))
                    stats = parse(out.stdout)
                    results.setdefault((name, condition), []).append(stats)
                    print("  %-5s %-14s p50 %8.2f  p90 %8.2f  max %8.2f ms" %
                          ((condition, name) + stats), flush=True)
            finally:
                if busy:
                    busy.kill()
                    busy.wait()

    med = lambda vals: statistics.median(vals)  # noqa: E731
    print("\n| run | quiet p50 ms | busy p50 ms | busy p90 ms | busy max ms | busy p90 / quiet p50 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, _, _ in configs:
        q = results[(name, "quiet")]
        b = results[(name, "busy")]
        qp50 = med([s[0] for s in q])
        bp50, bp90, bmax = (med([s[i] for s in b]) for i in range(3))
        print("| %s | %.1f | %.1f | %.1f | %.1f | %.2f |" % (name, qp50, bp50, bp90, bmax,
                                                            bp90 / qp50))


if __name__ == "__main__":
    main()
