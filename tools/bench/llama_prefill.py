"""llama_prefill.py -- a Llama-style decoder's prompt pass on the CPU: tfc vs PyTorch.

    .venv/bin/python tools/bench/llama_prefill.py [--rounds 3] [--threads 2] [--seq 128]
        [--iterations 20] [--variant NAME=ENV=VALUE ...] [--torch]

The model: a random-init transformers LlamaForCausalLM (torch.manual_seed(0)) of 8 layers,
hidden 1024, 16 heads of 64 with 4 KV heads, SwiGLU FFN of 2816, vocab 8192, written once by
save_pretrained (float32 safetensors) into build/bench/llama-prefill/ and compiled there with
`tfc compile DIR -o llama-prefill.plan`. The workload: one prompt of SEQ token ids (numpy seed 0),
batch 1, the whole forward pass to the logits.

  * tfc: `tfrun PLAN --function prefill --input input_ids=... --threads T --warmup 3
    --iterations N`, its p50 (in-process, the primitives made in the warm-up).
  * with --torch, PyTorch (the same weights): model(input_ids) under no_grad with
    torch.set_num_threads(T), 3 warm-up calls, p50 of N. Debian's torch 1.13 (tools/setup.sh
    --dev) runs it at about 2.5 GFLOP/s (10.4 s for b1 s128 on a Zen 4: no fast BLAS), so it
    is no peer there; the default compares tfc's variants and prints each one's GFLOP/s
    (2 flops per multiply-add of every product, the attention's included).
  * --variant NAME=ENV=VALUE: tfc again under that environment setting (an A/B of a switch,
    e.g. packed=TFC_GATED_PACKED=0).

Peers alternate within each round (the order flips every other round); prints each round and
the medians over rounds of the p50s, and the ratios to the first peer (tfc).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(ROOT, "build", "bench")
MODEL = os.path.join(WORK, "llama-prefill")
PLAN = os.path.join(WORK, "llama-prefill.plan")
GEOMETRY = dict(hidden_size=1024, intermediate_size=2816, num_hidden_layers=8,
                num_attention_heads=16, num_key_value_heads=4, vocab_size=8192,
                max_position_embeddings=2048, rms_norm_eps=1e-5, tie_word_embeddings=False)


def make_model():
    import torch
    import transformers
    if not os.path.exists(os.path.join(MODEL, "config.json")):
        torch.manual_seed(0)
        config = transformers.LlamaConfig(**GEOMETRY)
        model = transformers.LlamaForCausalLM(config).eval()
        model.save_pretrained(MODEL, safe_serialization=True)
    if not os.path.exists(PLAN):
        subprocess.run([os.path.join(ROOT, "build", "bin", "tfc"), "compile", MODEL, "-o", PLAN],
                       check=True, stdout=subprocess.DEVNULL)


def run_tfc(ids_path, threads, iterations, env):
    cmd = [os.path.join(ROOT, "build", "bin", "tfrun"), PLAN, "--function", "prefill",
           "--input", "input_ids=" + ids_path, "--threads", str(threads), "--warmup", "3",
           "--iterations", str(iterations)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=dict(os.environ, **env)).stdout
    m = re.search(r"p50[ =:]+([0-9.]+)", out)
    if not m:
        sys.exit("no p50 in tfrun's output:\n" + out)
    return float(m.group(1))


def run_torch(ids, threads, iterations):
    import torch
    import transformers
    torch.set_num_threads(threads)
    model = transformers.LlamaForCausalLM.from_pretrained(MODEL, torch_dtype=torch.float32).eval()
    x = torch.from_numpy(ids)
    times = []
    with torch.no_grad():
        for i in range(iterations + 3):
            t = time.perf_counter()
            model(x, use_cache=False)
            if i >= 3:
                times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--torch", action="store_true")
    args = ap.parse_args()
    make_model()
    ids = np.random.default_rng(0).integers(0, GEOMETRY["vocab_size"], (1, args.seq),
                                            dtype=np.int64)
    ids_path = os.path.join(WORK, "llama-prefill-ids-%d.npy" % args.seq)
    np.save(ids_path, ids)
    peers = [("tfc", lambda: run_tfc(ids_path, args.threads, args.iterations, {}))]
    for v in args.variant:
        name, key, value = v.split("=", 2)
        peers.append(("tfc " + name, lambda k=key, val=value: run_tfc(
            ids_path, args.threads, args.iterations, {k: val})))
    if args.torch:
        peers.append(("torch", lambda: run_torch(ids, args.threads, args.iterations)))
    results = {name: [] for name, _ in peers}
    for r in range(args.rounds):
        order = peers if r % 2 == 0 else list(reversed(peers))
        for name, fn in order:
            results[name].append(fn())
        print("round %d (load %s): %s" % (r + 1, open("/proc/loadavg").read().split()[0],
              ", ".join("%s %.2f ms" % (n, results[n][-1]) for n, _ in peers)), flush=True)
    base = statistics.median(results["tfc"])
    g = GEOMETRY
    d, f, kv = g["hidden_size"], g["intermediate_size"], g["hidden_size"] // 4
    n = args.seq
    layer = 2 * n * d * (2 * d + 2 * kv) + 2 * n * d * 3 * f + 2 * 2 * n * n * d
    flops = g["num_hidden_layers"] * layer + 2 * n * d * g["vocab_size"]
    print("\nLlama-style prefill, b1 s%d, %d threads, %.2f GFLOP, p50 ms (median of %d rounds):"
          % (n, args.threads, flops / 1e9, args.rounds))
    for name, _ in peers:
        med = statistics.median(results[name])
        print("  %-14s %8.2f ms  %6.1f GFLOP/s  / tfc %.3f   rounds %s" % (
            name, med, flops / med / 1e6, med / base,
            ", ".join("%.2f" % t for t in results[name])))

if __name__ == "__main__":
    main()
