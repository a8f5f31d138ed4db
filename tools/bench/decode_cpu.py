"""decode_cpu.py -- greedy decode cost in CPU time per token, one thread: tfc (fp32 / bf16 / int8
plans from the ONNX export and from the Hugging Face directory) vs CTranslate2 (float32, int8),
GPT-2 small. For a machine that other processes keep busy, where wall-clock rates move by 2x
between rounds (docs/BENCHMARKS.md, "Issue 13 on Zen 4").

    .venv/bin/python tools/bench/decode_cpu.py [--rounds 3] [--precisions fp32,bf16,int8]
                                               [--sources onnx,hf] [--new 64]

Needs what tools/bench/generate_bench.sh makes (build/bench: the model, its exports, the
CTranslate2 copy and venv). Same workload as generate_bench.py: prompt of 32 ids (numpy seed 0),
NEW new tokens, greedy, batch 1, one thread.

  * tfc: `tfrun PLAN --generate --threads 1`, whose "decode cpu:" line is the process CPU time
    from the first token (the prompt's) to the last: NEW - 1 decode steps, nothing of loading,
    opening the session (which packs the decode weights) or the prompt pass.
  * CTranslate2: tools/bench/ct2_generate.py with intra_threads 1, which times a prefill-only
    call and the full call in one process, in CPU time (time.process_time) as well as wall.

With one thread, CPU time is the time the work took on a core, whatever else runs beside it;
what a busy machine still changes is the memory bandwidth and caches the peers share. Peers
alternate within each round (the order rotates). Prints, per peer, the median over rounds of
CPU ms per decode token, tokens per CPU second, ratios to tfc fp32 of the same source and to
CTranslate2 fp32, and the wall-clock rate of the same runs.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import generate_bench as gb  # noqa: E402


def child_cpu(cmd):
    """(CPU seconds of the child, its stdout)."""
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("%s failed: %s" % (cmd[0], text[-500:]))
    return ru.ru_utime + ru.ru_stime, text


def tfc_decode(plan, prompt_file, new):
    cmd = [os.path.join(gb.BIN, "tfrun"), plan, "--generate", "--tokens-input", "input_ids",
           "--input", "input_ids=" + prompt_file, "--max-new-tokens", str(new), "--threads", "1"]
    _, text = child_cpu(cmd)
    m = re.search(r"decode: (\d+) tokens in ([0-9.]+) ms", text)
    c = re.search(r"decode cpu: ([0-9.]+) ms over (\d+) steps", text)
    if not m or not c:
        raise RuntimeError("tfrun printed no decode figures: " + text[-500:])
    steps = int(c.group(2))
    return float(c.group(1)) / 1000.0 / steps, steps / (float(m.group(2)) / 1000.0)


def ct2_decode(python, prompt_file, new, compute_type):
    r = subprocess.run([python, os.path.join(gb.ROOT, "tools", "bench", "ct2_generate.py"), "run",
                        os.path.join(gb.WORK, "gpt2-small-ct2"), prompt_file, str(new), "1", "1",
                        compute_type], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ct2_generate.py: " + r.stderr[-500:])
    rep = json.loads(r.stdout.strip().splitlines()[-1])["repeats"][0]
    steps = new - 1
    return (rep["full_cpu_s"] - rep["prefill_cpu_s"]) / steps, rep["decode_tok_s"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--precisions", default="fp32,bf16,int8")
    ap.add_argument("--sources", default="onnx,hf")
    ap.add_argument("--new", type=int, default=64)
    ap.add_argument("--ct2-python", default=os.path.join(gb.WORK, "venv-ct2", "bin", "python"))
    a = ap.parse_args()
    prompt_file = os.path.join(gb.WORK, "prompt-b1.npy")
    np.save(prompt_file, gb.prompt_ids(1))
    peers = {}
    for src in a.sources.split(","):
        for prec in a.precisions.split(","):
            plan, err = gb.tfc_plan(src, prec)
            if not plan:
                print("tfc %s %s: %s" % (src, prec, err))
                continue
            peers["tfc %s %s" % (src, prec)] = (lambda p=plan: tfc_decode(p, prompt_file, a.new))
    for prec in ("fp32", "int8"):
        if prec in a.precisions.split(",") and os.path.exists(a.ct2_python):
            peers["CTranslate2 %s" % prec] = (
                lambda t=gb.CT2_TYPES[prec]: ct2_decode(a.ct2_python, prompt_file, a.new, t))
    names = sorted(peers)
    cpu = {n: [] for n in names}
    wall = {n: [] for n in names}
    for r in range(a.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            c, w = peers[n]()
            cpu[n].append(c)
            wall[n].append(w)
        print("round %d: %s" % (r, "; ".join("%s %.2f ms" % (n, cpu[n][-1] * 1e3) for n in order)),
              flush=True)
    med = {n: statistics.median(cpu[n]) for n in names}
    print()
    print("| peer | CPU ms / decode token (median) | rounds | tokens per CPU s | vs tfc fp32 "
          "(same source) | vs CTranslate2 fp32 | wall tok/s (median) |")
    print("|---|---|---|---|---|---|---|")
    ct2 = med.get("CTranslate2 fp32")
    for n in names:
        parts = n.split()
        base = med.get("tfc %s fp32" % parts[1]) if parts[0] == "tfc" else None
        print("| %s | %.2f | %s | %.1f | %s | %s | %.1f |" % (
            n, med[n] * 1e3, ", ".join("%.2f" % (c * 1e3) for c in cpu[n]), 1 / med[n],
            "%.2f" % (base / med[n]) if base else "n/a",
            "%.2f" % (ct2 / med[n]) if ct2 else "n/a", statistics.median(wall[n])))
    print()
    print("one thread, batch 1, %d new tokens (%d decode steps), %d rounds; load average at the "
          "end: %s" % (a.new, a.new - 1, a.rounds, " ".join("%.2f" % l for l in os.getloadavg())))


if __name__ == "__main__":
    main()
