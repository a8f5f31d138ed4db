#!/usr/bin/python3
"""backend_seam_bench.py -- CPU speed of two runtime builds, alternating (issue 12's backend seam).

    /usr/bin/python3 tools/bench/backend_seam_bench.py BEFORE_BIN AFTER_BIN WORKDIR [--rounds N]
                                                       [--no-spin]

BEFORE_BIN and AFTER_BIN are build/bin directories holding `tfrun` (e.g. main's build and the
branch's). WORKDIR holds the models (tools/bench/make_bench_model.py minilm|gpt2) and the plans,
compiled with AFTER_BIN's `tfc` (the plan format is the same for both; made once, kept). Each
round runs, for each build in alternating order (before first in odd rounds, after first in even
ones, so that drift in the machine's load falls on both):
  * MiniLM geometry, batch 1, seq 128: `tfrun PLAN --threads 2 --iterations 50 --warmup 5`, p50;
  * GPT-2 small geometry, greedy decode of 64 new tokens after a 32-token prompt, batch 1 and 8:
    `tfrun PLAN --generate --input input_ids=PROMPT.npy --max-new-tokens 64 --threads 2
    --eos-id -1`, decode tokens/s (tfrun's own measure of the decode steps).
With --no-spin both builds' tfrun get --no-spin (OMP_WAIT_POLICY=PASSIVE): on a machine whose
cores other processes share, spinning OpenMP workers turn a few ms of contention into hundreds
(docs/BUILD-NOTES: p90 738 ms vs 77 ms), which drowns a 3 % comparison.
Prints per round the figures and after/before ratios (latency: after/before, lower is better;
tokens/s: after/before, higher is better), then the medians of the ratios.
"""
import os
import re
import statistics
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


EXTRA = []


def run(cmd):
    if os.path.basename(cmd[0]) == "tfrun":
        cmd = cmd + EXTRA
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stdout))
    return r.stdout


def prepare(after, work):
    os.makedirs(work, exist_ok=True)
    for name, args in (("minilm", ["--max-batch", "1", "--max-seq", "128"]),
                       ("gpt2", ["--max-batch", "8", "--max-seq", "256"])):
        fbs, plan = os.path.join(work, name + ".fbs"), os.path.join(work, name + ".plan")
        if not os.path.exists(fbs):
            run(["/usr/bin/python3", os.path.join(HERE, "make_bench_model.py"), name, fbs])
        if not os.path.exists(plan):
            run([os.path.join(after, "tfc"), "compile", fbs, "-o", plan] + args)
    rng = np.random.default_rng(0)
    for batch in (1, 8):
        np.save(os.path.join(work, "prompt%d.npy" % batch),
                rng.integers(0, 50257, size=(batch, 32), dtype=np.int64))


def minilm_p50(binary, work):
    out = run([os.path.join(binary, "tfrun"), os.path.join(work, "minilm.plan"), "--threads", "2",
               "--iterations", "50", "--warmup", "5"])
    return float(re.search(r"p50 ([0-9.]+) ms", out).group(1))


def decode_rate(binary, work, batch):
    out = run([os.path.join(binary, "tfrun"), os.path.join(work, "gpt2.plan"), "--generate",
               "--input", "input_ids=" + os.path.join(work, "prompt%d.npy" % batch),
               "--max-new-tokens", "64", "--threads", "2", "--eos-id", "-1"])
    return float(re.search(r"decode: \d+ tokens in [0-9.]+ ms \(([0-9.]+) tokens/s", out).group(1))


def main():
    args = sys.argv[1:]
    rounds = 5
    if "--rounds" in args:
        i = args.index("--rounds")
        rounds = int(args[i + 1])
        del args[i:i + 2]
    if "--no-spin" in args:
        args.remove("--no-spin")
        EXTRA.append("--no-spin")
    if len(args) != 3:
        sys.exit(__doc__)
    before, after, work = args
    prepare(after, work)
    metrics = [("MiniLM p50 ms", lambda b: minilm_p50(b, work)),
               ("GPT-2 b1 decode tok/s", lambda b: decode_rate(b, work, 1)),
               ("GPT-2 b8 decode tok/s", lambda b: decode_rate(b, work, 8))]
    ratios = {name: [] for name, _ in metrics}
    print("| round | metric | before | after | after/before |")
    print("|---|---|---|---|---|")
    for r in range(rounds):
        for name, measure in metrics:
            order = [("before", before), ("after", after)]
            if r % 2:
                order.reverse()
            got = {label: measure(binary) for label, binary in order}
            ratio = got["after"] / got["before"]
            ratios[name].append(ratio)
            print("| %d | %s | %.3f | %.3f | %.3f |" % (r + 1, name, got["before"], got["after"],
                                                       ratio), flush=True)
    print("\nmedian after/before over %d rounds:" % rounds)
    for name, _ in metrics:
        print("  %s: %.3f (min %.3f, max %.3f)" % (name, statistics.median(ratios[name]),
                                                 min(ratios[name]), max(ratios[name])))


if __name__ == "__main__":
    main()
