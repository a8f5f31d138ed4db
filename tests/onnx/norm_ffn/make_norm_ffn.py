#!/usr/bin/env python3
"""Writes norm_ffn.onnx, rms_reciprocal.onnx and their ONNX Runtime references
(refs/<model>/case<k>.<tensor>.npy, manifest.json) for tests/unit/norm_ffn_onnx_test.cpp.

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
feed-forwards are what this fixture tests.

rms_reciprocal.onnx is written with onnx.helper: the RMS norm with rsqrt as
Reciprocal(Sqrt(.)) (not what torch 1.13 writes, which is Div(1, Sqrt(.))),
then an ungated SiLU, x * Sigmoid(x), which stays a tfc.sigmoid in the plan. Run with /work/main/.venv/bin/python
(torch 1.13, transformers 4.40.2, onnx, onnxruntime); CI reads the output only.
"""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
import torch
import transformers
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


def write_cases(name, path, input_name, make_input, torch_fn):
    """Runs ORT on three cases; checks it against torch_fn; returns the manifest's cases."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    os.makedirs(os.path.join(HERE, "refs", name), exist_ok=True)
    rng = np.random.default_rng(5)
    cases = []
    for k, (batch, seq) in enumerate([(1, 7), (2, 16), (3, 1)]):
        x = make_input(rng, batch, seq)
        (ref,) = sess.run(None, {input_name: x})
        diff = float(np.abs(torch_fn(x) - ref).max())
        assert diff < 1e-4, diff
        files = {}
        for tensor, value in ((input_name, x), ("output", ref)):
            files[tensor] = f"refs/{name}/case{k}.{tensor}.npy"
            np.save(os.path.join(HERE, files[tensor]), value)
        cases.append({"batch": batch, "seq": seq, "files": files,
                      "torch_vs_ort_max_abs_diff": diff})
    return cases


def norm_ffn():
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

    def run_torch(x):
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    cases = write_cases("norm_ffn", path, "input_ids",
                        lambda rng, b, s: rng.integers(0, VOCAB, size=(b, s), dtype=np.int64),
                        run_torch)
    return {"name": "norm_ffn", "model": "norm_ffn.onnx", "input": "input_ids",
            "output": "logits", "rms_norm": 4, "gated_linear": 3, "sigmoid": 0, "cases": cases}


def rms_reciprocal():
    rng = np.random.default_rng(3)
    w = (1.0 + 0.2 * rng.standard_normal(HIDDEN)).astype(np.float32)
    eps = 1e-6

    def const(name, value):
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(
            np.array(value, dtype=np.float32), name + "_value"))

    nodes = [
        const("two", 2.0), const("eps", eps),
        helper.make_node("Pow", ["x", "two"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["ms"], axes=[-1], keepdims=1),
        helper.make_node("Add", ["ms", "eps"], ["ve"]),
        helper.make_node("Sqrt", ["ve"], ["rms"]),
        helper.make_node("Reciprocal", ["rms"], ["inv"]),
        helper.make_node("Mul", ["x", "inv"], ["n"]),
        helper.make_node("Mul", ["n", "w"], ["y"]),
        helper.make_node("Sigmoid", ["y"], ["sy"]),
        helper.make_node("Mul", ["y", "sy"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "rms_reciprocal",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "seq", HIDDEN])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(HERE, "rms_reciprocal.onnx")
    onnx.save(model, path)

    def run_torch(x):
        t = torch.from_numpy(x)
        y = t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + eps) * torch.from_numpy(w)
        return torch.nn.functional.silu(y).numpy()

    cases = write_cases("rms_reciprocal", path, "x",
                        lambda rng, b, s: (3.0 * rng.standard_normal((b, s, HIDDEN))).astype(
                            np.float32), run_torch)
    return {"name": "rms_reciprocal", "model": "rms_reciprocal.onnx", "input": "x",
            "output": "output", "rms_norm": 1, "gated_linear": 0, "sigmoid": 1, "cases": cases}


def main():
    models = [norm_ffn(), rms_reciprocal()]
    for m in models:
        m["op_types"] = sorted({n.op_type for n in onnx.load(os.path.join(HERE, m["model"])).graph.node})
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"generator": "tests/onnx/norm_ffn/make_norm_ffn.py",
                   "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                                "onnx": onnx.__version__, "onnxruntime": ort.__version__},
                   "reference": "onnxruntime CPUExecutionProvider, float32",
                   "models": models}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
