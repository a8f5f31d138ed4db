"""hf_decode_bench.py -- greedy decode speed of GPT-2 small compiled from its Hugging Face
directory vs from its ONNX export, both through `tfrun --generate`.

    tools/bench/hf_decode_bench.sh [--rounds 5] [--repeats 2] [--threads 2]
                                   [--plan NAME=PLAN ...]

Model: tools/bench/gpt2_export.py's GPT-2-small geometry (12 layers, 768, 12 heads, vocab 50257,
1024 positions, random init, torch.manual_seed(0)), saved by save_pretrained into
build/bench/gpt2-small/ (the LM head tied to the token embeddings) and exported to ONNX
(build/bench/gpt2.onnx, opset 17, no past key/values; the exporter's constant folding stores
the transposed LM head as its own initializer). Plans, compiled by this tfc at every run:

  * hf:   tfc compile build/bench/gpt2-small -o build/bench/gpt2-hf.plan
  * onnx: tfc compile build/bench/gpt2.onnx  -o build/bench/gpt2-onnx.plan
  both with --max-batch 1 --max-seq 256; `--report`'s "constant_input_kernels" is printed.

Workload: batch 1, prompt 32 random ids (generate_bench.prompt_ids, numpy seed 0), 64 new tokens,
greedy, no end-token stop (--eos-id -1: the HF plan knows GPT-2's end token, the ONNX plan does
not), fp32, THREADS threads. Each round runs every plan (a warm-up run, then REPEATS timed
runs; generate_bench.run_tfc), in an order that alternates between rounds. Decode tokens/s is
tfrun's own measure of the 63 decode steps. The table gives, per plan, the median over all timed
runs, the best run, and the ratio of medians to the ONNX plan (the target: hf/onnx >= 0.90).
Extra plans (--plan NAME=PATH, e.g. one compiled by an older tfc) join the alternation.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_bench import BIN, NEW, PROMPT, WORK, prompt_ids, run_tfc  # noqa: E402

SOURCES = {"hf": "gpt2-small", "onnx": "gpt2.onnx"}


def compile_plan(name, source):
    plan = os.path.join(WORK, "gpt2-%s.plan" % name)
    report = os.path.join(WORK, "gpt2-%s.report.json" % name)
    r = subprocess.run([os.path.join(BIN, "tfc"), "compile", os.path.join(WORK, source), "-o", plan,
                        "--max-batch", "1", "--max-seq", "256", "--report", report],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("tfc compile %s failed:\n%s" % (source, r.stderr))
    with open(report) as f:
        constant_kernels = json.load(f).get("constant_input_kernels")
    return plan, constant_kernels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2, help="timed runs per plan per round")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--plan", action="append", default=[], metavar="NAME=PATH",
                    help="another plan to alternate with (e.g. from an older tfc)")
    args = ap.parse_args()
    plans = {}
    for name, source in SOURCES.items():
        plans[name], kernels = compile_plan(name, source)
        print("%s: %s, %.0f MB, constant_input_kernels = %s" % (
            name, plans[name], os.path.getsize(plans[name]) / 1e6, kernels), flush=True)
    for spec in args.plan:
        name, path = spec.split("=", 1)
        plans[name] = path
    pfile = os.path.join(WORK, "prompt-b1.npy")
    np.save(pfile, prompt_ids(1))

    rates = {name: [] for name in plans}
    tokens = {}
    names = list(plans)
    for rnd in range(args.rounds):
        order = names if rnd % 2 == 0 else names[::-1]
        for name in order:
            r, toks = run_tfc(plans[name], pfile, args.threads, args.repeats, ("--eos-id", "-1"))
            rates[name] += r
            tokens[name] = toks
        print("round %d: %s" % (rnd, ", ".join(
            "%s %s" % (n, ["%.1f" % x for x in rates[n][-args.repeats:]]) for n in names)),
            flush=True)

    med = {n: statistics.median(v) for n, v in rates.items()}
    print()
    print("| plan | compiled from | decode tok/s (median) | best run | vs onnx (medians) |")
    print("|---|---|---|---|---|")
    for n in names:
        print("| %s | %s | %.1f | %.1f | %.2f |" % (
            n, SOURCES.get(n, plans[n]), med[n], max(rates[n]), med[n] / med["onnx"]))
    print("\nbatch 1, prompt %d, %d new tokens (decode tokens/s over the %d decode steps), greedy, "
          "fp32, %d threads; medians of %d runs per plan (%d rounds x %d, alternating)" % (
              PROMPT, NEW, NEW - 1, args.threads, len(rates["onnx"]), args.rounds, args.repeats))
    ratio = med["hf"] / med["onnx"]
    print("hf/onnx = %.2f: %s" % (ratio, "within 10%" if ratio >= 0.90 else "NOT within 10%"))
    ref = tokens["onnx"][:, PROMPT:]
    for n in names:
        if n != "onnx":
            print("check: %s and onnx greedy tokens: %d/%d equal" % (
                n, int((tokens[n][:, PROMPT:] == ref).sum()), ref.size))


if __name__ == "__main__":
    main()
