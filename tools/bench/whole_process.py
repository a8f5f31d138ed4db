"""whole_process.py -- tfc vs ONNX Runtime, timed as whole processes (issue 13).

    .venv/bin/python tools/bench/whole_process.py [--rounds 3] [--geometries MiniLM,BERT-base]
        [--batch 1] [--seq 128] [--threads 2] [--short 20] [--long 120] [--tfrun build/bin/tfrun]
        [--before-tfrun OTHER/build/bin/tfrun]

In-process percentiles leave out what a process pays per run outside the timed call and hide
the tails in a median. Here each peer runs as its own process twice, with `short` and `long`
iterations, timed from spawn to exit; (time(long) - time(short)) / (long - short) is the cost
of one more run, whatever it includes (start-up, loading and first-run costs cancel out).
Per round the processes alternate: tfc short, ORT short, tfc long, ORT long (the order of
the peers flips every other round). Reports per round and the median over rounds of the
per-run ms and the ratio tfc / ORT, with the load average before each round, and the median
CPU time (user + system, from wait4) per extra run: with --threads 1 the least disturbed
measure on a shared machine (with more threads it includes the workers' spinning). With
--before-tfrun, another build's tfrun runs the same plan as a third peer ("before"); each
--variant adds this build's tfrun under other environment variables.

* tfc: `tfrun PLAN --threads T --iterations N --input ...` (no warm-up: the first run's
  primitive creation is in both processes and cancels), the plan compiled from the same export
  with `tfc compile model.onnx -o PLAN --max-batch B --max-seq S`.
* ONNX Runtime: tools/bench/ort_iterations.py (InferenceSession, ORT_ENABLE_ALL,
  intra_op_num_threads=T, inter_op 1, sequential, the default spinning pool), N runs.

The BERT-style exports (random-init transformers BertModel, opset 17, dynamic batch/seq) come
from onnx_vs_ort.py's export() into build/bench/ (needs torch and transformers in this Python).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import onnx_vs_ort  # noqa: E402  (export, GEOMETRIES, paths)

ROOT = onnx_vs_ort.ROOT
WORK = onnx_vs_ort.WORK


def load_average():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def make_inputs(batch, seq):
    rng = np.random.default_rng(0)
    paths = {}
    arrays = {"input_ids": rng.integers(1000, 30000, (batch, seq), dtype=np.int64),
              "attention_mask": np.ones((batch, seq), np.int64),
              "token_type_ids": np.zeros((batch, seq), np.int64)}
    for name, a in arrays.items():
        paths[name] = os.path.join(WORK, "wp-%s-%dx%d.npy" % (name, batch, seq))
        np.save(paths[name], a)
    return paths


def compile_plan(tfc, onnx_path, batch, seq):
    plan = onnx_path.replace(".onnx", "-wp-b%d-s%d.plan" % (batch, seq))
    if not os.path.exists(plan) or os.path.getmtime(plan) < os.path.getmtime(tfc):
        subprocess.run([tfc, "compile", onnx_path, "-o", plan, "--max-batch", str(batch),
                        "--max-seq", str(seq)], check=True, capture_output=True, text=True)
    return plan


def timed(cmd, env=None):
    """Wall seconds from spawn to exit, and the CPU seconds (user + system) the process used."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if status != 0:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), err[-2000:]))
    return dt, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--geometries", default="MiniLM,BERT-base")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--short", type=int, default=20)
    ap.add_argument("--long", type=int, default=120)
    ap.add_argument("--tfrun", default=os.path.join(onnx_vs_ort.BIN, "tfrun"))
    ap.add_argument("--tfc", default=os.path.join(onnx_vs_ort.BIN, "tfc"))
    ap.add_argument("--before-tfrun", help="another build's tfrun, run on the same plan")
    ap.add_argument("--tfrun-env", action="append", default=[],
                    help="NAME=VALUE set for the tfrun processes (e.g. TFC_ATTENTION=onednn)")
    ap.add_argument("--variant", action="append", default=[],
                    help="LABEL:NAME=VALUE[,NAME=VALUE]: one more tfc peer, this build's tfrun "
                         "with these environment variables (e.g. spin:TFC_WAIT_POLICY=spin)")
    args = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    import onnxruntime as ort
    inputs = make_inputs(args.batch, args.seq)
    tfc_env = dict(os.environ)
    for kv in args.tfrun_env:
        k, v = kv.split("=", 1)
        tfc_env[k] = v
    extra = args.long - args.short
    summary = []
    for gname in args.geometries.split(","):
        path = os.path.join(WORK, "bert-%s.onnx" % gname.lower())
        onnx_vs_ort.export(gname, onnx_vs_ort.GEOMETRIES[gname], path)
        plan = compile_plan(args.tfc, path, args.batch, args.seq)
        feeds = []
        for name, p in inputs.items():
            feeds += ["--input", "%s=%s" % (name, p)]
        def tfrun_cmd(tfrun):
            return lambda n: [tfrun, plan, "--threads", str(args.threads), "--iterations", str(n)] + feeds
        def ort_cmd(n):
            return [sys.executable, os.path.join(HERE, "ort_iterations.py"), path, str(n),
                    str(args.threads), inputs["input_ids"], inputs["attention_mask"],
                    inputs["token_type_ids"]]
        print("## %s, batch %d, seq %d, %d threads: ms per extra run = (t(%d) - t(%d)) / %d"
              % (gname, args.batch, args.seq, args.threads, args.long, args.short, extra))
        peers = [("tfc", tfrun_cmd(args.tfrun), tfc_env), ("ORT", ort_cmd, None)]
        if args.before_tfrun:
            peers.append(("before", tfrun_cmd(args.before_tfrun), tfc_env))
        for v in args.variant:
            label, _, assignments = v.partition(":")
            env = dict(tfc_env)
            for kv in filter(None, assignments.split(",")):
                k, val = kv.split("=", 1)
                env[k] = val
            peers.append((label, tfrun_cmd(args.tfrun), env))
        names = [p[0] for p in peers]
        print("| round | load | " + " | ".join("%s ms/run" % n for n in names) + " | " +
              " | ".join("%s/ORT" % n for n in names if n != "ORT") + " |")
        print("|---" * (2 + 2 * len(names) - 1) + "|")
        per = {n: [] for n in names}
        cpu_per = {n: [] for n in names}
        ratios = {n: [] for n in names if n != "ORT"}
        for r in range(args.rounds):
            load = load_average()
            t, cpu = {}, {}
            order = peers if r % 2 == 0 else peers[::-1]
            for n in (args.short, args.long):
                for name, cmd, env in order:
                    t[(name, n)], cpu[(name, n)] = timed(cmd(n), env)
            for name in names:
                per[name].append((t[(name, args.long)] - t[(name, args.short)]) / extra * 1e3)
                cpu_per[name].append((cpu[(name, args.long)] - cpu[(name, args.short)]) / extra * 1e3)
            for name in ratios:
                ratios[name].append(per[name][-1] / per["ORT"][-1])
            print("| %d | %s | " % (r + 1, load) +
                  " | ".join("%.2f" % per[n][-1] for n in names) + " | " +
                  " | ".join("%.3f" % ratios[n][-1] for n in ratios) + " |", flush=True)
        print("| median | %s | " % load_average() +
              " | ".join("%.2f" % statistics.median(per[n]) for n in names) + " | " +
              " | ".join("**%.3f**" % statistics.median(ratios[n]) for n in ratios) + " |\n")
        print("CPU time (user + system) per extra run, ms, median over rounds: " +
              ", ".join("%s %.2f" % (n, statistics.median(cpu_per[n])) for n in names) + "\n")
        summary.append((gname, {n: statistics.median(v) for n, v in ratios.items()}))
    print("onnxruntime %s; tfrun env: %s" % (ort.__version__, " ".join(args.tfrun_env) or "default"))
    for g, r in summary:
        print("%s (median of rounds): " % g + ", ".join("%s/ORT %.3f" % kv for kv in r.items()))


if __name__ == "__main__":
    main()
