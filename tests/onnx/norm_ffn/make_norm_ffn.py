#!/usr/bin/env python3
"""Writes norm_ffn.onnx and its ONNX Runtime references (refs/*.npy) for
tests/unit/norm_ffn_onnx_test.cpp.

A stack of the RMS norms and gated feed-forwards of the decoder families, as
transformers 4.40.2 writes them (the modules themselves, not copies), exported
by torch.onnx.export (opset 17, dynamic batch and seq):
  h = embed(input_ids)
  h = h + LlamaMLP(LlamaRMSNorm(h))                  SwiGLU: silu = x * Sigmoid(x)
  h = h + T5DenseGatedActDense(T5LayerNorm(h))       GeGLU, gelu_new (tanh formula)
  h = h + T5DenseGatedActDense(GemmaRMSNorm(h))      GeGLU, gelu (erf formula); (1 + w)
  out = LlamaRMSNorm(h) @ lm_head
Every parameter gets independent noise, so no norm weight is 1 (or 0 for Gemma).
No attention: rotary embeddings need ops other helpers add; the norms and
feed-forwards are what this fixture tests. Run with /work/main/.venv/bin/python
(torch 1.13, transformers 4.40.2, onnx, onnxruntime); CI reads the output only.
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn
from transformers import LlamaConfig, T5Config
from transformers.models.gemma.modeling_gemma import GemmaRMSNorm
from transformers.models.llama.modeling_llama import LlamaMLP, LlamaRMSNorm
from transformers.models.t5.modeling_t5 import T5DenseGatedActDense, T5LayerNorm

HERE = os.path.dirname(os.path.abspath(__file__))
HIDDEN, FFN, VOCAB = 64, 64, 64


class NormFfnStack(nn.Module):
    def __init__(self):
        super().__init__()
        llama = LlamaConfig(hidden_size=HIDDEN, intermediate_size=FFN, hidden_act="silu")
        t5_tanh = T5Config(d_model=HIDDEN, d_ff=FFN, dense_act_fn="gelu_new", dropout_rate=0.0)
        t5_erf = T5Config(d_model=HIDDEN, d_ff=FFN, dense_act_fn="gelu", dropout_rate=0.0)
        self.embed = nn.Embedding(VOCAB, HIDDEN)
        self.norm1, self.mlp1 = LlamaRMSNorm(HIDDEN, eps=1e-6), LlamaMLP(llama)
        self.norm2, self.mlp2 = T5LayerNorm(HIDDEN, eps=1e-6), T5DenseGatedActDense(t5_tanh)
        self.norm3, self.mlp3 = GemmaRMSNorm(HIDDEN, eps=1e-6), T5DenseGatedActDense(t5_erf)
        self.final_norm = LlamaRMSNorm(HIDDEN, eps=1e-5)
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)

    def forward(self, input_ids):
        h = self.embed(input_ids)
        h = h + self.mlp1(self.norm1(h))
        h = h + self.mlp2(self.norm2(h))
        h = h + self.mlp3(self.norm3(h))
        return self.lm_head(self.final_norm(h))


def main():
    torch.manual_seed(11)
    model = NormFfnStack().eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    ids = torch.randint(0, VOCAB, (1, 7))
    path = os.path.join(HERE, "norm_ffn.onnx")
    torch.onnx.export(model, (ids,), path, input_names=["input_ids"], output_names=["logits"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "seq"},
                                    "logits": {0: "batch", 1: "seq"}},
                      opset_version=17)
    onnx.checker.check_model(onnx.load(path))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    os.makedirs(os.path.join(HERE, "refs"), exist_ok=True)
    rng = np.random.default_rng(5)
    cases = []
    for k, (batch, seq) in enumerate([(1, 7), (2, 16), (3, 1)]):
        x = rng.integers(0, VOCAB, size=(batch, seq), dtype=np.int64)
        (ref,) = sess.run(None, {"input_ids": x})
        with torch.no_grad():
            torch_out = model(torch.from_numpy(x)).numpy()
        diff = float(np.abs(torch_out - ref).max())
        assert diff < 1e-4, diff
        np.save(os.path.join(HERE, "refs", f"case{k}.input_ids.npy"), x)
        np.save(os.path.join(HERE, "refs", f"case{k}.logits.npy"), ref.astype(np.float32))
        cases.append({"batch": batch, "seq": seq, "torch_vs_ort_max_abs_diff": diff})
    graph = onnx.load(path).graph
    ops = sorted({n.op_type for n in graph.node})
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"generator": "tests/onnx/norm_ffn/make_norm_ffn.py",
                   "versions": {"torch": torch.__version__, "onnx": onnx.__version__,
                                "onnxruntime": ort.__version__},
                   "model": "norm_ffn.onnx", "rms_norm": 4, "gated_linear": 3,
                   "op_types": ops, "cases": cases}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
