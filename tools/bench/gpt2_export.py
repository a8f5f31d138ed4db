"""gpt2_export.py -- the GPT-2-small-geometry model of tools/bench/generate_bench.py.

    .venv-export/bin/python tools/bench/gpt2_export.py OUT_DIR [--no-past]

Works with torch 2 (.venv-export) and with Debian's torch 1.13 + transformers 4.40.2 (.venv,
tools/requirements-dev.txt; tools/bench/hf_decode_bench.sh). Writes, once (existing files are
kept; --no-past skips gpt2-past.onnx):
  OUT_DIR/gpt2-small/            random-init GPT2LMHeadModel (12 layers, 768, 12 heads, vocab
                                 50257, n_positions 1024; torch.manual_seed(0)) by
                                 save_pretrained, plus a synthetic byte-level BPE tokenizer
                                 (vocab.json: the 256 byte tokens, "t256".."t50255" and
                                 "<|endoftext|>", no merges) so that converters and tfc's plan
                                 loader, which read a tokenizer, work offline
  OUT_DIR/gpt2-past.onnx         input_ids [batch, seq], past_<i>_key/value [batch, 12, past, 64]
                                 -> logits [batch, seq, vocab], present_<i>_key/value
                                 [batch, 12, past + seq, 64]; no attention_mask (the benchmark's
                                 batches are equal-length); positions past..past+seq-1
  OUT_DIR/gpt2.onnx              input_ids -> logits, no past key/values (tfc's plan source)
Both: opset 17, TorchScript exporter (dynamo=False), dynamic axes, eager attention; weights
in an external data file next to each model when the exporter needs one.
"""
import inspect
import json
import os
import sys

import torch
import torch.nn as nn

LAYERS, HEADS, D, VOCAB, POSITIONS = 12, 12, 768, 50257, 1024


def byte_tokens():
    """GPT-2's byte-to-unicode map: the 256 single-byte tokens of a byte-level BPE vocabulary."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for _, c in sorted(zip(bs, cs))]


def write_tokenizer(path):
    """A synthetic byte-level BPE tokenizer (ids 0-255 the bytes, "t256".."t50255", then
    <|endoftext|>; no merges): valid for loaders that build the tokenizer (tfc's plan loader,
    CTranslate2's converter), written on every run so that older copies are brought up to date."""
    vocab = {tok: i for i, tok in enumerate(byte_tokens())}
    vocab.update({"t%d" % i: i for i in range(256, VOCAB - 1)})
    vocab["<|endoftext|>"] = VOCAB - 1
    with open(os.path.join(path, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    with open(os.path.join(path, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GPT2Tokenizer", "model_max_length": POSITIONS,
                   "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                   "unk_token": "<|endoftext|>"}, f)


def build(out):
    from transformers import GPT2Config, GPT2LMHeadModel
    path = os.path.join(out, "gpt2-small")
    if os.path.exists(os.path.join(path, "config.json")):
        write_tokenizer(path)
        return GPT2LMHeadModel.from_pretrained(path, attn_implementation="eager").eval(), path
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=POSITIONS, n_embd=D, n_layer=LAYERS,
                     n_head=HEADS, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                     attn_implementation="eager")
    model = GPT2LMHeadModel(cfg).eval()
    model.save_pretrained(path)
    write_tokenizer(path)
    return model, path


class WithPast(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, *past):
        pkv = tuple((past[2 * i], past[2 * i + 1]) for i in range(LAYERS))
        out = self.model(input_ids=input_ids, past_key_values=pkv, use_cache=True,
                         return_dict=True)
        flat = [t for kv in out.past_key_values for t in kv]
        return (out.logits, *flat)


class NoPast(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        return self.model(input_ids=input_ids, use_cache=False, return_dict=True).logits


def export(module, args, path, inputs, outputs, dims):
    # torch 2 picks the exporter with `dynamo`; torch 1.13 has only the TorchScript one.
    extra = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with torch.no_grad():
        torch.onnx.export(module, args, path, opset_version=17, input_names=inputs,
                          output_names=outputs, dynamic_axes=dims, do_constant_folding=True,
                          **extra)


def main():
    args = [a for a in sys.argv[1:] if a != "--no-past"]
    if len(args) != 1:
        sys.exit("usage: gpt2_export.py OUT_DIR [--no-past]")
    out, with_past = args[0], "--no-past" not in sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    model, path = build(out)
    print("model:", path)
    # Example sizes equal to no constant of the graph (batch 3, seq 5, past 7).
    ids = torch.randint(0, VOCAB - 1, (3, 5))
    past_path = os.path.join(out, "gpt2-past.onnx")
    if with_past and not os.path.exists(past_path):
        past = [torch.randn(3, HEADS, 7, D // HEADS) for _ in range(2 * LAYERS)]
        names = [f"past_{i}_{kv}" for i in range(LAYERS) for kv in ("key", "value")]
        pres = [f"present_{i}_{kv}" for i in range(LAYERS) for kv in ("key", "value")]
        dims = {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
        dims.update({n: {0: "batch", 2: "past"} for n in names})
        dims.update({n: {0: "batch", 2: "total"} for n in pres})
        export(WithPast(model), (ids, *past), past_path, ["input_ids"] + names,
               ["logits"] + pres, dims)
        print("wrote", past_path)
    nopast_path = os.path.join(out, "gpt2.onnx")
    if not os.path.exists(nopast_path):
        export(NoPast(model), (ids,), nopast_path, ["input_ids"], ["logits"],
               {"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}})
        print("wrote", nopast_path)


if __name__ == "__main__":
    main()
