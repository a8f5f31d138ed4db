"""gpt2_export.py -- the GPT-2-small-geometry model of tools/bench/generate_bench.py.

    .venv-export/bin/python tools/bench/gpt2_export.py OUT_DIR

Writes, once (existing files are kept):
  OUT_DIR/gpt2-small/            random-init GPT2LMHeadModel (12 layers, 768, 12 heads, vocab
                                 50257, n_positions 1024; torch.manual_seed(0)) by
                                 save_pretrained, plus a synthetic GPT-2 tokenizer (vocab.json
                                 with tokens "t0".."t50255" and "<|endoftext|>", no merges) so
                                 that converters that read a tokenizer work offline
  OUT_DIR/gpt2-past.onnx         input_ids [batch, seq], past_<i>_key/value [batch, 12, past, 64]
                                 -> logits [batch, seq, vocab], present_<i>_key/value
                                 [batch, 12, past + seq, 64]; no attention_mask (the benchmark's
                                 batches are equal-length); positions past..past+seq-1
  OUT_DIR/gpt2.onnx              input_ids -> logits, no past key/values (tfc's plan source)
Both: opset 17, TorchScript exporter (dynamo=False), dynamic axes, eager attention; weights
in an external data file next to each model when the exporter needs one.
"""
import json
import os
import sys

import torch
import torch.nn as nn

LAYERS, HEADS, D, VOCAB, POSITIONS = 12, 12, 768, 50257, 1024


def build(out):
    from transformers import GPT2Config, GPT2LMHeadModel
    path = os.path.join(out, "gpt2-small")
    if os.path.exists(os.path.join(path, "config.json")):
        return GPT2LMHeadModel.from_pretrained(path, attn_implementation="eager").eval(), path
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=POSITIONS, n_embd=D, n_layer=LAYERS,
                     n_head=HEADS, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                     attn_implementation="eager")
    model = GPT2LMHeadModel(cfg).eval()
    model.save_pretrained(path)
    vocab = {"t%d" % i: i for i in range(VOCAB - 1)}
    vocab["<|endoftext|>"] = VOCAB - 1
    with open(os.path.join(path, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    with open(os.path.join(path, "merges.txt"), "w") as f:
        f.write("#version: 0.2\n")
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GPT2Tokenizer", "model_max_length": POSITIONS,
                   "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                   "unk_token": "<|endoftext|>"}, f)
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
    with torch.no_grad():
        torch.onnx.export(module, args, path, opset_version=17, input_names=inputs,
                          output_names=outputs, dynamic_axes=dims, do_constant_folding=True,
                          dynamo=False)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    model, path = build(out)
    print("model:", path)
    # Example sizes equal to no constant of the graph (batch 3, seq 5, past 7).
    ids = torch.randint(0, VOCAB - 1, (3, 5))
    past_path = os.path.join(out, "gpt2-past.onnx")
    if not os.path.exists(past_path):
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
