#!/usr/bin/env python3
"""train_char_gpt.py -- train `chargpt`, a small character-level GPT, on the
King James Bible and write it as examples/models/chargpt.fbs.

Data
----
* Debian package ``bible-kjv-text`` 4.38 (bookworm, section doc): the text,
  stored compressed in ``/usr/lib/bible.data``; it is decoded by the
  ``bible`` program of Debian package ``bible-kjv`` 4.38
  (``/usr/bin/bible -f -l10000 gen1:1-rev22:21``: one verse a line,
  ``Ge1:1 In the beginning God created ...``; the script strips the verse
  references and keeps the verse text: 31,102 verses, 4.1 million characters).
      apt-get install bible-kjv bible-kjv-text
* Licence, from the package's own ``/usr/share/doc/bible-kjv-text/copyright``:
  "The copyright for the King James Version text of the Bible is expired since
  the translation was done in 1611 under King James the first of Great
  Britain."  (The retrieval program is GPL-2+; only its output, the KJV text,
  is used.  Caveat: in the United Kingdom the KJV is still covered by the
  Crown's letters patent; elsewhere it is in the public domain.)

Model (docs/MODEL_FORMAT.md, family ``Decoder``, name ``chargpt``)
------------------------------------------------------------------
GPT-2 style: causal self-attention, pre-LN with a final layer norm, GELU (tanh
form), learned positions, LM head tied to the token embedding, no LM-head bias;
4 layers, d_model 128, 4 heads, d_ff 512, max_positions 256, LN eps 1e-5.
Vocabulary: ``<PAD>``=0, ``<START>``=1, ``<END>``=2, ``<UNK>``=3, then the
characters of the text (``\\n`` separates verses) by decreasing frequency;
characters seen fewer than --min-count times map to ``<UNK>``.  A training
sequence is ``<START>`` followed by 255 characters of text beginning at a verse
start (so it spans several verses).  ``<PAD>`` and ``<END>`` are in the
vocabulary for the runtime's sake but never appear in training.

`CharGPT` below computes exactly the function that
examples/reference/tfc_reference.py defines for that model (dropout is not
used).  After writing the file the script reads it back, runs
tfc_reference.run on a few inputs and asserts that its logits match the
PyTorch module's within 1e-4 (an independent check of the export).  With
``--tfc BIN_DIR`` (e.g. build/bin) it also compiles the model with ``tfc``,
checks that every attention and layer norm was fused (report's ``unfused``
empty), runs one full-length sequence through ``tfrun`` and compares with the
module.

Run from the repository root (2 threads, fixed seeds):

    # fast: PyPI torch 2.x (needs numpy + the pure-Python flatbuffers package)
    VENV/bin/python -m pip install flatbuffers    # once, if missing
    VENV/bin/python examples/train_char_gpt.py --tfc build/bin

    # or Debian's python3-torch 1.13 (generic BLAS, several times slower:
    # fewer --steps, or expect a long run)
    /usr/bin/python3 examples/train_char_gpt.py

``--from-fbs`` skips training: it loads --out back into the module, prints
its losses, runs the same checks and prints samples.

The committed examples/models/chargpt.fbs was made with PyPI torch 2.15 (CPU,
2 threads, seed 1234):

    PYTHONPATH=<flatbuffers> .venv-export/bin/python examples/train_char_gpt.py \
        --steps 1500 --batch 16 --warmup 50 --eval-every 250 --tfc build/bin

1500 steps of 16 x 256 characters, 1871 s on a 2-core machine shared with other
jobs (about 0.35 s a step when idle); final loss train 1.182, val 1.169
nats/char (1.69 bits/char). Its samples are mostly English words in KJV style.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
sys.path.insert(0, os.path.join(ROOT, "examples", "reference"))

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import flatbuffers  # noqa: F401  (tools/python/tfc_model.py needs it)
except ImportError as e:  # pragma: no cover
    sys.exit("train_char_gpt.py: %s\n  needs numpy, torch and flatbuffers: "
             "`apt-get install python3-torch python3-numpy python3-flatbuffers` "
             "(then run with /usr/bin/python3), or in a venv with torch: "
             "`pip install numpy flatbuffers`" % e)

from tfc_model import ModelWriter, read_model  # noqa: E402
import tfc_reference  # noqa: E402

PAD, START, END, UNK = 0, 1, 2, 3
SPECIALS = ["<PAD>", "<START>", "<END>", "<UNK>"]

BIBLE = "/usr/bin/bible"
BIBLE_DATA = "/usr/lib/bible.data"
INSTALL_HINT = ("the training text comes from Debian's bible-kjv-text package, read "
                "with the `bible` program of bible-kjv: install both with\n"
                "    apt-get install bible-kjv bible-kjv-text")

HPARAMS = dict(family="Decoder", num_layers=4, d_model=128, num_heads=4, d_ff=512,
               max_positions=256, norm_placement="Pre", activation="GeluTanh",
               position_encoding="Learned", tied_embeddings=True, final_norm=True,
               layer_norm_epsilon=1e-5)

_REF = re.compile(r"^([1-3]?[A-Za-z]+)(\d+):(\d+) (.*)$")


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def load_verses():
    """The KJV as a list of verse strings, in canonical order."""
    if not (os.path.exists(BIBLE) and os.path.exists(BIBLE_DATA)):
        sys.exit("train_char_gpt.py: %s or %s is missing;\n  %s"
                 % (BIBLE, BIBLE_DATA, INSTALL_HINT))
    out = subprocess.run([BIBLE, "-f", "-l10000", "gen1:1-rev22:21"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode != 0:
        sys.exit("train_char_gpt.py: `bible` failed (%d): %s\n  %s"
                 % (out.returncode, out.stderr.decode(errors="replace"), INSTALL_HINT))
    verses = []
    for line in out.stdout.decode("ascii").split("\n"):
        if not line.strip():
            continue
        m = _REF.match(line)
        if m is None:
            sys.exit("train_char_gpt.py: unexpected line from `bible`: %r" % line[:80])
        verses.append(m.group(4).strip())
    if len(verses) != 31102:
        sys.exit("train_char_gpt.py: expected 31102 verses, got %d" % len(verses))
    return verses


def build_vocab(verses, min_count):
    counts = Counter()
    for v in verses:
        counts.update(v)
    counts["\n"] += len(verses)
    chars = [c for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
             if n >= min_count]
    tokens = SPECIALS + chars
    dropped = sorted((c for c in counts if counts[c] < min_count))
    return tokens, dropped


def encode(text, stoi):
    return np.array([stoi.get(c, UNK) for c in text], dtype=np.int64)


def decode(ids, tokens):
    out = []
    for i in ids:
        i = int(i)
        out.append(tokens[i] if i >= 4 else ("" if i in (PAD, START, END) else "?"))
    return "".join(out)


class Split:
    """A stream of encoded verses ('\\n' after each) and the verse starts
    from which a full window of `seq - 1` characters fits."""

    def __init__(self, verses, stoi, seq):
        text = "".join(v + "\n" for v in verses)
        self.ids = encode(text, stoi)
        starts, pos = [], 0
        for v in verses:
            if pos + seq - 1 <= len(self.ids):
                starts.append(pos)
            pos += len(v) + 1
        self.starts = np.array(starts, dtype=np.int64)
        self.seq = seq

    def batch(self, rng, batch):
        """x: <START> + 255 chars, y: the same 256 chars shifted (next char)."""
        s = self.starts[rng.integers(0, len(self.starts), size=batch)]
        idx = s[:, None] + np.arange(self.seq - 1)[None, :]
        chars = self.ids[idx]                                  # [B, seq-1]
        x = np.concatenate([np.full((batch, 1), START, np.int64), chars], axis=1)
        nxt = self.ids[np.minimum(s + self.seq - 1, len(self.ids) - 1)]
        y = np.concatenate([chars, nxt[:, None]], axis=1)
        return torch.from_numpy(x), torch.from_numpy(y)


def split_verses(verses, block=500, every=20):
    """Blocks of `block` consecutive verses; every `every`-th block (the
    first, the 21st, ...) is held out for validation (about 5%)."""
    train, val = [], []
    for k in range(0, len(verses), block):
        (val if (k // block) % every == every // 2 else train).extend(verses[k:k + block])
    return train, val


# ---------------------------------------------------------------------------
# Model: the Decoder family of docs/MODEL_FORMAT.md
# ---------------------------------------------------------------------------

class Block(nn.Module):
    def __init__(self, d, nh, dff, eps):
        super().__init__()
        self.nh = nh
        self.ln_a = nn.LayerNorm(d, eps=eps)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln_f = nn.LayerNorm(d, eps=eps)
        self.up, self.down = nn.Linear(d, dff), nn.Linear(dff, d)

    def attn(self, x):
        b, t, d = x.shape
        nh, dh = self.nh, d // self.nh
        q = self.q(x).view(b, t, nh, dh).transpose(1, 2)
        k = self.k(x).view(b, t, nh, dh).transpose(1, 2)
        v = self.v(x).view(b, t, nh, dh).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch < 2.0
            s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
            hidden = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            o = torch.softmax(s.masked_fill(hidden, float("-inf")), dim=-1) @ v
        return self.o(o.transpose(1, 2).reshape(b, t, d))

    def forward(self, x):
        h = x + self.attn(self.ln_a(x))
        return h + self.down(F.gelu(self.up(self.ln_f(h)), approximate="tanh"))


class CharGPT(nn.Module):
    def __init__(self, vocab, d, nh, dff, layers, max_pos, eps):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_pos, d)
        self.blocks = nn.ModuleList(Block(d, nh, dff, eps) for _ in range(layers))
        self.ln_final = nn.LayerNorm(d, eps=eps)
        self.max_pos = max_pos
        # GPT-2 initialisation: N(0, 0.02), residual projections scaled down.
        for name, p in self.named_parameters():
            if name.endswith(".bias"):
                nn.init.zeros_(p)
            elif "ln_" in name:
                nn.init.ones_(p)
            elif name.endswith(("o.weight", "down.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, ids):
        t = ids.shape[1]
        assert t <= self.max_pos
        x = self.tok(ids) + self.pos.weight[:t][None]   # embedding_scale 1
        for blk in self.blocks:
            x = blk(x)
        return self.ln_final(x) @ self.tok.weight.t()     # tied, no bias


def export(model, tokens, path):
    h = dict(HPARAMS, vocab_size=len(tokens))
    w = ModelWriter(name="chargpt", **h)
    w.add("embeddings.token", model.tok.weight)
    w.add("embeddings.position", model.pos.weight)
    for i, blk in enumerate(model.blocks):
        p = "decoder.layers.%d" % i
        for m in ("q", "k", "v", "o"):
            lin = getattr(blk, m)
            w.add_linear("%s.self_attn.%s" % (p, m), lin.weight, lin.bias)
        w.add(p + ".self_attn_norm.weight", blk.ln_a.weight)
        w.add(p + ".self_attn_norm.bias", blk.ln_a.bias)
        w.add_linear(p + ".ffn.up", blk.up.weight, blk.up.bias)
        w.add_linear(p + ".ffn.down", blk.down.weight, blk.down.bias)
        w.add(p + ".ffn_norm.weight", blk.ln_f.weight)
        w.add(p + ".ffn_norm.bias", blk.ln_f.bias)
    w.add("decoder.final_norm.weight", model.ln_final.weight)
    w.add("decoder.final_norm.bias", model.ln_final.bias)
    w.set_special_tokens(start=START, end=END, unk=UNK, pad=PAD)
    w.set_vocabulary(tokens)
    return w.save(path)


def load_fbs(path):
    """A CharGPT holding the weights of a written chargpt.fbs, and its
    vocabulary (for --from-fbs: checks and samples without training)."""
    h, wts, _, tokens = read_model(path)
    for k, v in HPARAMS.items():
        same = abs(h[k] - v) <= 1e-6 * abs(v) if isinstance(v, float) else h[k] == v
        assert same, "%s: %s is %r, expected %r" % (path, k, h[k], v)
    model = CharGPT(h["vocab_size"], h["d_model"], h["num_heads"], h["d_ff"],
                    h["num_layers"], h["max_positions"], h["layer_norm_epsilon"])
    t = lambda name: torch.from_numpy(wts.pop(name))  # noqa: E731
    with torch.no_grad():
        model.tok.weight.copy_(t("embeddings.token"))
        model.pos.weight.copy_(t("embeddings.position"))

        def linear(lin, prefix):
            lin.weight.copy_(t(prefix + ".weight").t())
            lin.bias.copy_(t(prefix + ".bias"))

        def norm(ln, prefix):
            ln.weight.copy_(t(prefix + ".weight"))
            ln.bias.copy_(t(prefix + ".bias"))

        for i, blk in enumerate(model.blocks):
            p = "decoder.layers.%d" % i
            for m in ("q", "k", "v", "o"):
                linear(getattr(blk, m), "%s.self_attn.%s" % (p, m))
            norm(blk.ln_a, p + ".self_attn_norm")
            linear(blk.up, p + ".ffn.up")
            linear(blk.down, p + ".ffn.down")
            norm(blk.ln_f, p + ".ffn_norm")
        norm(model.ln_final, "decoder.final_norm")
    assert not wts, "unexpected tensors in %s: %s" % (path, sorted(wts))
    return model, tokens


# ---------------------------------------------------------------------------
# Training, evaluation, generation
# ---------------------------------------------------------------------------

@torch.no_grad()
def evaluate(model, split, batches, batch, seed):
    model.eval()
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(batches):
        x, y = split.batch(rng, batch)
        total += F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item()
    model.train()
    return total / batches


@torch.no_grad()
def generate(model, prompt_ids, n, temperature, gen):
    """temperature 0: greedy.  The context is cut to the last max_pos ids."""
    model.eval()
    ids = list(prompt_ids)
    for _ in range(n):
        ctx = torch.tensor([ids[-model.max_pos:]], dtype=torch.int64)
        logits = model(ctx)[0, -1].double()
        logits[[PAD, START, UNK]] = float("-inf")
        if temperature <= 0:
            nxt = int(torch.argmax(logits))
        else:
            nxt = int(torch.multinomial(torch.softmax(logits / temperature, -1), 1,
                                        generator=gen))
        if nxt == END:
            break
        ids.append(nxt)
    return ids


def lr_at(step, steps, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    frac = (step - warmup) / max(1, steps - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))


def check_reference(model, path, val, tokens):
    """Read the file back and compare tfc_reference.run with the module."""
    hparams, weights, special, vocab = read_model(path)
    assert vocab == tokens and special == {"start": START, "end": END, "unk": UNK,
                                           "pad": PAD}, (special, vocab[:8])
    rng = np.random.default_rng(7)
    x256, _ = val.batch(rng, 2)
    cases = [x256.numpy(), x256.numpy()[:1, :1],
             np.concatenate([x256.numpy()[1:, :37], x256.numpy()[:1, 5:42]], 0)]
    worst = 0.0
    model.eval()
    for ids in cases:
        want = tfc_reference.run(hparams, weights, {"input_ids": ids})["logits"]
        with torch.no_grad():
            got = model(torch.from_numpy(ids)).numpy()
        err = float(np.max(np.abs(got - want)))
        print("  reference check %-10s max |module - tfc_reference| = %.2e"
              % ("%dx%d" % ids.shape, err))
        worst = max(worst, err)
    assert worst <= 1e-4, "export mismatch: %.3e > 1e-4" % worst
    return worst


def check_tfc(model, path, val, bin_dir):
    """Compile with tfc (every attention and layer norm fused), run one
    full-length sequence through tfrun, compare with the module."""
    tfc, tfrun = os.path.join(bin_dir, "tfc"), os.path.join(bin_dir, "tfrun")
    tmp = tempfile.mkdtemp(prefix="chargpt.")
    try:
        plan, report = os.path.join(tmp, "chargpt.plan"), os.path.join(tmp, "r.json")
        subprocess.run([tfc, "compile", path, "-o", plan, "--report", report], check=True)
        with open(report) as f:
            rep = json.load(f)
        print("  tfc report: fusions %s, unfused %s" % (rep.get("fusions"), rep.get("unfused")))
        assert rep.get("unfused") == [], "tfc left ops unfused: %s" % rep.get("unfused")
        subprocess.run([tfrun, plan, "--describe"], check=True)
        ids = val.batch(np.random.default_rng(11), 1)[0].numpy()
        np.save(os.path.join(tmp, "ids.npy"), ids)
        out_dir = os.path.join(tmp, "out")
        os.makedirs(out_dir)
        subprocess.run([tfrun, plan, "--input", "input_ids=" + os.path.join(tmp, "ids.npy"),
                        "--output-dir", out_dir, "--threads", "2"], check=True,
                       stdout=subprocess.DEVNULL)
        got = np.load(os.path.join(out_dir, "logits.npy"))
        model.eval()
        with torch.no_grad():
            want = model(torch.from_numpy(ids)).numpy()
        err = float(np.max(np.abs(got - want)))
        print("  tfrun check 1x%d: max |tfrun - module| = %.2e (logits up to %.1f)"
              % (ids.shape[1], err, float(np.max(np.abs(want)))))
        assert err <= 1e-4, "tfrun mismatch: %.3e" % err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--min-count", type=int, default=100,
                    help="rarer characters map to <UNK> (default 100)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=40)
    ap.add_argument("--eval-batches", type=int, default=4,
                    help="batches per evaluation (the final one uses twice as many)")
    ap.add_argument("--out", default=os.path.join(ROOT, "examples", "models", "chargpt.fbs"))
    ap.add_argument("--tfc", metavar="BIN_DIR",
                    help="also compile and run the model with BIN_DIR/tfc and BIN_DIR/tfrun")
    ap.add_argument("--from-fbs", action="store_true",
                    help="do not train: load --out, run the checks and print samples")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    print("torch %s, numpy %s, %d threads" % (torch.__version__, np.__version__,
                                              torch.get_num_threads()))

    verses = load_verses()
    tokens, dropped = build_vocab(verses, args.min_count)
    stoi = {c: i for i, c in enumerate(tokens) if i >= 4}
    seq = HPARAMS["max_positions"]
    train_v, val_v = split_verses(verses)
    train, val = Split(train_v, stoi, seq), Split(val_v, stoi, seq)
    print("KJV: %d verses, %d chars; vocabulary %d tokens (characters mapped to <UNK>: %r)"
          % (len(verses), len(train.ids) + len(val.ids), len(tokens), "".join(dropped)))
    print("train %d chars (%d windows), val %d chars (%d windows)"
          % (len(train.ids), len(train.starts), len(val.ids), len(val.starts)))

    if args.from_fbs:
        model, file_tokens = load_fbs(args.out)
        assert file_tokens == tokens, "vocabulary of %s differs from the text's" % args.out
        print("loaded %s; train loss %.4f, val loss %.4f"
              % (os.path.relpath(args.out, ROOT),
                 evaluate(model, train, 2 * args.eval_batches, args.batch, seed=98),
                 evaluate(model, val, 2 * args.eval_batches, args.batch, seed=99)))
        check_and_sample(model, args, val, tokens, stoi)
        return

    h = HPARAMS
    model = CharGPT(len(tokens), h["d_model"], h["num_heads"], h["d_ff"], h["num_layers"],
                    h["max_positions"], h["layer_norm_epsilon"])
    nparams = sum(p.numel() for p in model.parameters())
    print("model: %d parameters" % nparams)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.99))

    t0 = time.time()
    model.train()
    ema = None
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup)
        x, y = train.batch(rng, args.batch)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            vl = evaluate(model, val, args.eval_batches, args.batch, seed=99)
            print("step %5d  train loss (ema) %.4f  val loss %.4f  %.0f s"
                  % (step + 1, ema, vl, time.time() - t0), flush=True)
    train_time = time.time() - t0
    tl = evaluate(model, train, 2 * args.eval_batches, args.batch, seed=98)
    vl = evaluate(model, val, 2 * args.eval_batches, args.batch, seed=99)
    print("final: train loss %.4f, val loss %.4f (nats/char; %.3f / %.3f bits/char), "
          "%d steps x %d x %d tokens in %.0f s"
          % (tl, vl, tl / math.log(2), vl / math.log(2), args.steps, args.batch, seq,
             train_time))

    size = export(model, tokens, args.out)
    print("wrote %s (%d bytes)" % (os.path.relpath(args.out, ROOT), size))
    check_and_sample(model, args, val, tokens, stoi)


def check_and_sample(model, args, val, tokens, stoi):
    check_reference(model, args.out, val, tokens)
    if args.tfc:
        check_tfc(model, args.out, val, args.tfc)

    gen = torch.Generator().manual_seed(args.seed)
    prompt = encode("And the LORD said", stoi).tolist()
    print("--- greedy from <START>:")
    print(decode(generate(model, [START], 200, 0.0, gen), tokens))
    print("--- greedy from 'And the LORD said':")
    print(decode(generate(model, [START] + prompt, 200, 0.0, gen), tokens))
    print("--- sampled (temperature 0.8) from <START>:")
    print(decode(generate(model, [START], 400, 0.8, gen), tokens))


if __name__ == "__main__":
    main()
