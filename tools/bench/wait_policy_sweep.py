#!/usr/bin/python3
"""wait_policy_sweep.py -- what each OpenMP wait setting costs tfc on a machine nobody else loads.

    /usr/bin/python3 tools/bench/wait_policy_sweep.py [--bin build/bin] [--work build/bench/seam]
                     [--rounds 4] [--modes auto,spin,passive,GOMP_SPINCOUNT=10000,...]

The other half of tools/bench/busy_machine.py: that one measures latency beside a busy process,
this one the price of each setting when the cores are free. The plans are the ones
tools/bench/backend_seam_bench.sh makes in WORK (MiniLM geometry; GPT-2-small geometry decoder).
Each round runs every mode once, in an order that rotates per round, each in a fresh process:
  * MiniLM geometry batch 1 seq 128: `tfrun minilm.plan --threads 2 --iterations 50 --warmup 5`, p50;
  * GPT-2 greedy decode of 64 tokens after 32 at batch 1 and 8: tfrun's decode tokens/s.
A mode is a TFC_WAIT_POLICY value or NAME=VALUE (an OpenMP variable set instead, e.g.
GOMP_SPINCOUNT=10000, which tfc leaves alone). Prints every run and the medians per mode, with
each mode's ratio to `spin` (libgomp's default, what tfc did before TFC_WAIT_POLICY).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def env_for(mode):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TFC_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    if "=" in mode:
        k, v = mode.split("=", 1)
        env[k] = v
    else:
        env["TFC_WAIT_POLICY"] = mode
    return env


def run(cmd, mode):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=env_for(mode))
    if r.returncode != 0:
        sys.exit("failed (%s): %s\n%s" % (mode, " ".join(cmd), r.stdout))
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--work", default=os.path.join(ROOT, "build", "bench", "seam"))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--modes", default="spin,auto,passive,GOMP_SPINCOUNT=10000,GOMP_SPINCOUNT=30000")
    a = ap.parse_args()
    modes = a.modes.split(",")
    tfrun = os.path.join(a.bin, "tfrun")
    w = lambda name: os.path.join(a.work, name)
    metrics = {
        "MiniLM p50 ms": lambda m: float(re.search(r"p50 ([0-9.]+) ms", run(
            [tfrun, w("minilm.plan"), "--threads", "2", "--iterations", "50", "--warmup", "5"],
            m)).group(1)),
    }
    for batch in (1, 8):
        metrics["GPT-2 b%d tok/s" % batch] = (lambda b: lambda m: float(re.search(
            r"decode: \d+ tokens in [0-9.]+ ms \(([0-9.]+) tokens/s", run(
                [tfrun, w("gpt2.plan"), "--generate", "--input",
                 "input_ids=" + w("prompt%d.npy" % b), "--max-new-tokens", "64", "--threads",
                 "2", "--eos-id", "-1"], m)).group(1)))(batch)
    got = {(name, m): [] for name in metrics for m in modes}
    for r in range(a.rounds):
        load = open("/proc/loadavg").read().split()[0]
        order = modes[r % len(modes):] + modes[:r % len(modes)]
        for name, measure in metrics.items():
            for m in order:
                v = measure(m)
                got[(name, m)].append(v)
                print("round %d (load %s) %s %s: %.2f" % (r + 1, load, name, m, v), flush=True)
    print("\n| mode | " + " | ".join(metrics) + " |")
    print("|---|" + "---|" * len(metrics))
    base = {name: statistics.median(got[(name, "spin")]) for name in metrics} \
        if "spin" in modes else None
    for m in modes:
        cells = []
        for name in metrics:
            med = statistics.median(got[(name, m)])
            cells.append("%.2f" % med + (" (%.3f of spin)" % (med / base[name]) if base else ""))
        print("| %s | %s |" % (m, " | ".join(cells)))


if __name__ == "__main__":
    main()
