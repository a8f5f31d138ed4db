#!/usr/bin/env python3
"""Builds the ONNX test corpus in tests/onnx/: models/, refs/ and manifest.json.

Run from the repository root with the dev venv (see tools/requirements-dev.txt):

    .venv/bin/python tests/onnx/make_corpus.py            # export models + write references
    .venv/bin/python tests/onnx/make_corpus.py --only bert_opset14,gpt2_opset17

Needs torch (Debian's python3-torch 1.13), transformers, onnx and onnxruntime. CI does
not run this script: it only reads the committed models and reference .npy files.

Everything is deterministic: every model is built from random-init weights under a fixed
seed (no Hugging Face downloads), every input comes from a fixed-seed numpy generator, and
the references are what onnxruntime (CPU, ORT_ENABLE_ALL) returns for the exported model.
Each model is also run in PyTorch on the same inputs; the largest difference from
onnxruntime is recorded in the manifest (`torch_vs_ort_max_abs_diff`) as a check on the
export itself.

About `sdpa_opset17`: torch.nn.functional.scaled_dot_product_attention and its ONNX
symbolic only exist in torch >= 2.0, which Debian bookworm lacks. That one model is
therefore exported by a second interpreter, `.venv-export/bin/python` (override with
$TFC_TORCH2_PYTHON), a venv with torch 2.x from PyPI (tests/onnx/requirements-export.txt;
the PyPI Linux wheel is CUDA-linked, about 5.5 GB installed, but runs on CPU). The main
process builds the model and its weights under torch 1.13, saves the state dict, and runs
this script again under torch 2 with --export-torch2 to call torch.onnx.export
(dynamo=False: the TorchScript exporter and its aten::scaled_dot_product_attention
symbolic). The PyTorch cross-check for that model then runs under torch 1.13 with a math
fallback (`sdpa_math`) in place of F.scaled_dot_product_attention.
"""
import argparse
import collections
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
MODELS_DIR = HERE / "models"
REFS_DIR = HERE / "refs"
MANIFEST = HERE / "manifest.json"

HIDDEN = 64
HEADS = 4
LAYERS = 2
FFN = 128
VOCAB = 512
MAX_POS = 128
NUM_CLASSES = 5


# ----------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------

class BertWrapper(nn.Module):
    """transformers.BertModel, returning only last_hidden_state."""

    def __init__(self):
        super().__init__()
        from transformers import BertConfig, BertModel
        cfg = BertConfig(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                         num_attention_heads=HEADS, intermediate_size=FFN,
                         max_position_embeddings=MAX_POS, type_vocab_size=2,
                         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                         attn_implementation="eager")
        self.bert = BertModel(cfg, add_pooling_layer=False)

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                        token_type_ids=token_type_ids, return_dict=True)
        return out.last_hidden_state


class GPT2Wrapper(nn.Module):
    """transformers.GPT2LMHeadModel (use_cache=False), returning only logits."""

    def __init__(self, with_mask):
        super().__init__()
        from transformers import GPT2Config, GPT2LMHeadModel
        cfg = GPT2Config(vocab_size=VOCAB, n_positions=MAX_POS, n_embd=HIDDEN, n_layer=LAYERS,
                         n_head=HEADS, n_inner=FFN, resid_pdrop=0.0, embd_pdrop=0.0,
                         attn_pdrop=0.0, use_cache=False, attn_implementation="eager")
        self.gpt2 = GPT2LMHeadModel(cfg)
        self.with_mask = with_mask

    def forward(self, input_ids, attention_mask=None):
        out = self.gpt2(input_ids=input_ids,
                        attention_mask=attention_mask if self.with_mask else None,
                        use_cache=False, return_dict=True)
        return out.logits


class TorchEncoder(nn.Module):
    """Embedding + learned positions + nn.TransformerEncoder (batch_first=True, GELU,
    post-LN) with src_key_padding_mask (bool, True = padding)."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, HIDDEN)
        self.pos = nn.Embedding(MAX_POS, HIDDEN)
        layer = nn.TransformerEncoderLayer(HIDDEN, HEADS, FFN, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=False)
        # enable_nested_tensor=False: keep the plain math path (no NestedTensor conversion).
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)

    def forward(self, input_ids, src_key_padding_mask):
        seq = input_ids.shape[1]
        pos = torch.arange(seq, device=input_ids.device).unsqueeze(0)
        x = self.tok(input_ids) + self.pos(pos)
        return self.encoder(x, src_key_padding_mask=src_key_padding_mask)


class TorchDecoder(nn.Module):
    """Embedding + nn.TransformerDecoder (batch_first=False, ReLU, post-LN), memory given as
    an input, causal tgt_mask made inside from the target length with
    nn.Transformer.generate_square_subsequent_mask (float -inf upper triangle: Trilu)."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, HIDDEN)
        layer = nn.TransformerDecoderLayer(HIDDEN, HEADS, FFN, dropout=0.0, activation="relu",
                                           batch_first=False)
        self.decoder = nn.TransformerDecoder(layer, LAYERS)

    def forward(self, tgt_ids, memory):
        # tgt_ids: [tgt_seq, batch]; memory: [src_seq, batch, HIDDEN]
        tgt_len = tgt_ids.shape[0]
        tgt_mask = torch.triu(torch.full((tgt_len, tgt_len), float("-inf")), diagonal=1)
        x = self.tok(tgt_ids) * math.sqrt(HIDDEN)
        return self.decoder(x, memory, tgt_mask=tgt_mask)


class TorchSeq2Seq(nn.Module):
    """nn.Transformer encoder-decoder (batch_first=True, GELU, pre-LN) with src/tgt ids,
    shared embeddings, learned positions, a causal bool tgt_mask built from arange
    comparisons, src_key_padding_mask used for the encoder and the cross-attention, and a
    linear head producing logits."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, HIDDEN)
        self.pos = nn.Embedding(MAX_POS, HIDDEN)
        self.transformer = nn.Transformer(HIDDEN, HEADS, LAYERS, LAYERS, FFN, dropout=0.0,
                                          activation="gelu", batch_first=True, norm_first=True)
        self.transformer.encoder.enable_nested_tensor = False
        self.head = nn.Linear(HIDDEN, VOCAB)

    def embed(self, ids):
        pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        return self.tok(ids) + self.pos(pos)

    def forward(self, src_ids, tgt_ids, src_key_padding_mask):
        tgt_len = tgt_ids.shape[1]
        r = torch.arange(tgt_len, device=tgt_ids.device)
        tgt_mask = r.unsqueeze(0) > r.unsqueeze(1)  # True = not allowed to attend
        h = self.transformer(self.embed(src_ids), self.embed(tgt_ids), tgt_mask=tgt_mask,
                             src_key_padding_mask=src_key_padding_mask,
                             memory_key_padding_mask=src_key_padding_mask)
        return self.head(h)


class HandAttention(nn.Module):
    """Hand-written multi-head self-attention with separate q/k/v Linear layers and 4-D
    heads. The padding mask is applied with torch.where (mode="where") or
    Tensor.masked_fill (mode="masked_fill")."""

    def __init__(self, mode):
        super().__init__()
        self.q = nn.Linear(HIDDEN, HIDDEN)
        self.k = nn.Linear(HIDDEN, HIDDEN)
        self.v = nn.Linear(HIDDEN, HIDDEN)
        self.o = nn.Linear(HIDDEN, HIDDEN)
        self.mode = mode

    def split(self, x):
        b, s, _ = x.shape
        return x.view(b, s, HEADS, HIDDEN // HEADS).transpose(1, 2)  # [b, h, s, d]

    def forward(self, x, keep):  # keep: bool [b, 1, 1, s], True = attend
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(HIDDEN // HEADS)
        if self.mode == "where":
            scores = torch.where(keep, scores, torch.tensor(-1e9, dtype=scores.dtype))
        else:
            scores = scores.masked_fill(~keep, -1e9)
        p = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(p, v).transpose(1, 2)
        ctx = ctx.reshape(ctx.shape[0], ctx.shape[1], HIDDEN)
        return self.o(ctx)


class HandBlock(nn.Module):
    def __init__(self, mode):
        super().__init__()
        self.ln1 = nn.LayerNorm(HIDDEN)
        self.attn = HandAttention(mode)
        self.ln2 = nn.LayerNorm(HIDDEN)
        self.fc1 = nn.Linear(HIDDEN, FFN)
        self.fc2 = nn.Linear(FFN, HIDDEN)

    def forward(self, x, keep):
        x = x + self.attn(self.ln1(x), keep)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class HandClassifier(nn.Module):
    """Hand-written pre-LN encoder classifier: embeddings, 2 blocks (layer 0 masks with
    torch.where, layer 1 with masked_fill), final LayerNorm, masked mean pooling, Linear,
    Softmax. Outputs logits and probs."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, HIDDEN)
        self.pos = nn.Embedding(MAX_POS, HIDDEN)
        self.blocks = nn.ModuleList([HandBlock("where"), HandBlock("masked_fill")])
        self.ln_f = nn.LayerNorm(HIDDEN)
        self.cls = nn.Linear(HIDDEN, NUM_CLASSES)

    def forward(self, input_ids, attention_mask):  # attention_mask int64, 1 = token
        pos = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.tok(input_ids) + self.pos(pos)
        keep = attention_mask.bool()[:, None, None, :]
        for blk in self.blocks:
            x = blk(x, keep)
        x = self.ln_f(x)
        m = attention_mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        logits = self.cls(pooled)
        return logits, torch.softmax(logits, dim=-1)


def sdpa_math(q, k, v, bool_mask):
    """F.scaled_dot_product_attention(q, k, v, attn_mask=bool_mask) written out (default
    scale, no dropout), for torch < 2.0: only used for the PyTorch cross-check."""
    w = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    w = w.masked_fill(~bool_mask, float("-inf"))
    return torch.matmul(torch.softmax(w, dim=-1), v)


def sdpa(q, k, v, bool_mask):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bool_mask)
    return sdpa_math(q, k, v, bool_mask)


class SdpaDecoder(nn.Module):
    """Decoder-only LM (pre-LN, 2 layers) calling F.scaled_dot_product_attention with a bool
    attn_mask (causal tril(ones) And the padding mask), 4-D heads, a fused qkv Linear split
    by chunk. Exported by torch 2.x (see the module docstring)."""

    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, HIDDEN)
        self.pos = nn.Embedding(MAX_POS, HIDDEN)
        self.ln1 = nn.ModuleList([nn.LayerNorm(HIDDEN) for _ in range(LAYERS)])
        self.qkv = nn.ModuleList([nn.Linear(HIDDEN, 3 * HIDDEN) for _ in range(LAYERS)])
        self.o = nn.ModuleList([nn.Linear(HIDDEN, HIDDEN) for _ in range(LAYERS)])
        self.ln2 = nn.ModuleList([nn.LayerNorm(HIDDEN) for _ in range(LAYERS)])
        self.fc1 = nn.ModuleList([nn.Linear(HIDDEN, FFN) for _ in range(LAYERS)])
        self.fc2 = nn.ModuleList([nn.Linear(FFN, HIDDEN) for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(HIDDEN)
        self.head = nn.Linear(HIDDEN, VOCAB, bias=False)

    def forward(self, input_ids, attention_mask):
        b, s = input_ids.shape
        pos = torch.arange(s, device=input_ids.device).unsqueeze(0)
        x = self.tok(input_ids) + self.pos(pos)
        causal = torch.tril(torch.ones(s, s, dtype=torch.bool))
        mask = causal[None, None, :, :] & attention_mask.bool()[:, None, None, :]
        for i in range(LAYERS):
            h = self.ln1[i](x)
            q, k, v = self.qkv[i](h).chunk(3, dim=-1)
            q, k, v = [t.view(b, s, HEADS, HIDDEN // HEADS).transpose(1, 2) for t in (q, k, v)]
            ctx = sdpa(q, k, v, mask).transpose(1, 2).reshape(b, s, HIDDEN)
            x = x + self.o[i](ctx)
            x = x + self.fc2[i](F.gelu(self.fc1[i](self.ln2[i](x))))
        return self.head(self.ln_f(x))


# ----------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------

def ids(rng, *shape):
    return rng.integers(1, VOCAB, size=shape, dtype=np.int64)


def lengths_for(batch, seq):
    """Right-padding lengths with real padding where possible: first row full, others
    shorter (never 0)."""
    if batch == 1:
        return [seq]
    out = [seq]
    for i in range(1, batch):
        out.append(max(1, seq - (seq * i) // batch - 1) if seq > 1 else 1)
    return out


def int_mask(batch, seq):
    m = np.zeros((batch, seq), dtype=np.int64)
    for b, n in enumerate(lengths_for(batch, seq)):
        m[b, :n] = 1
    return m


def bert_inputs(rng, batch, seq):
    mask = int_mask(batch, seq)
    tt = np.zeros((batch, seq), dtype=np.int64)
    tt[:, seq // 2:] = 1
    return {"input_ids": ids(rng, batch, seq) * mask, "attention_mask": mask,
            "token_type_ids": tt * mask}


def gpt2_inputs_nomask(rng, batch, seq):
    return {"input_ids": ids(rng, batch, seq)}


def ids_and_mask(rng, batch, seq):
    mask = int_mask(batch, seq)
    return {"input_ids": ids(rng, batch, seq) * mask, "attention_mask": mask}


def encoder_inputs(rng, batch, seq):
    mask = int_mask(batch, seq)
    return {"input_ids": ids(rng, batch, seq) * mask, "src_key_padding_mask": mask == 0}


def decoder_inputs(rng, batch, src_seq, tgt_seq):
    return {"tgt_ids": ids(rng, tgt_seq, batch),
            "memory": rng.standard_normal((src_seq, batch, HIDDEN)).astype(np.float32)}


def seq2seq_inputs(rng, batch, src_seq, tgt_seq):
    mask = int_mask(batch, src_seq)
    return {"src_ids": ids(rng, batch, src_seq) * mask, "tgt_ids": ids(rng, batch, tgt_seq),
            "src_key_padding_mask": mask == 0}


CASES_1D = [dict(batch=1, seq=1), dict(batch=2, seq=7), dict(batch=3, seq=12)]
CASES_2D = [dict(batch=1, src_seq=1, tgt_seq=1), dict(batch=2, src_seq=7, tgt_seq=5),
            dict(batch=3, src_seq=9, tgt_seq=4)]


# ----------------------------------------------------------------------------------------
# Specs
# ----------------------------------------------------------------------------------------

def bt(*names):
    return {i: n for i, n in enumerate(names)}


HF_BERT = "transformers.BertModel via torch.onnx.export (TorchScript tracer)"
HF_GPT2 = "transformers.GPT2LMHeadModel via torch.onnx.export (TorchScript tracer)"
TORCH_NN = "torch.nn.{} via torch.onnx.export (TorchScript tracer)"
SDPA_T2 = ("F.scaled_dot_product_attention in a hand-written decoder via torch 2.x "
           "torch.onnx.export(dynamo=False) (TorchScript exporter), run from .venv-export")


def specs():
    s = []
    for opset in (14, 17):
        s.append(dict(
            name=f"bert_opset{opset}", opset=opset, family="encoder-only", task="hidden-states",
            exporter=HF_BERT, build=BertWrapper, make_inputs=bert_inputs, cases=CASES_1D,
            inputs=["input_ids", "attention_mask", "token_type_ids"],
            outputs=["last_hidden_state"],
            dims={"input_ids": bt("batch", "seq"), "attention_mask": bt("batch", "seq"),
                  "token_type_ids": bt("batch", "seq"), "last_hidden_state": bt("batch", "seq")},
            arch=dict(layers=2, attention=2, self_attention=2, cross_attention=0,
                      layer_norm=5, causal=False, padding_mask=True, norm="post-LN",
                      activation="gelu(erf)"),
            notes="attention_mask (int64, 1 = token) becomes an additive mask "
                  "(1 - mask) * finfo(float32).min broadcast as [batch,1,1,seq]."))
    s.append(dict(
        name="gpt2_opset14", opset=14, family="decoder-only", task="lm-logits",
        exporter=HF_GPT2, build=lambda: GPT2Wrapper(with_mask=False),
        make_inputs=gpt2_inputs_nomask, cases=CASES_1D,
        inputs=["input_ids"], outputs=["logits"],
        dims={"input_ids": bt("batch", "seq"), "logits": bt("batch", "seq")},
        arch=dict(layers=2, attention=2, self_attention=2, cross_attention=0, layer_norm=5,
                  causal=True, padding_mask=False, norm="pre-LN", activation="gelu_new(tanh)"),
        notes="causal mask: Slice of the constant tril 'bias' buffer [1,1,128,128] (bool) "
              "then Where(mask, scores, finfo.min); lm_head tied to wte."))
    s.append(dict(
        name="gpt2_opset17", opset=17, family="decoder-only", task="lm-logits",
        exporter=HF_GPT2, build=lambda: GPT2Wrapper(with_mask=True),
        make_inputs=ids_and_mask, cases=CASES_1D,
        inputs=["input_ids", "attention_mask"], outputs=["logits"],
        dims={"input_ids": bt("batch", "seq"), "attention_mask": bt("batch", "seq"),
              "logits": bt("batch", "seq")},
        arch=dict(layers=2, attention=2, self_attention=2, cross_attention=0, layer_norm=5,
                  causal=True, padding_mask=True, norm="pre-LN", activation="gelu_new(tanh)"),
        notes="as gpt2_opset14 plus a right-padding attention_mask (int64) added as "
              "(1 - mask) * finfo.min after the causal Where; positions are 0..seq-1."))
    s.append(dict(
        name="torch_encoder_opset17", opset=17, family="encoder-only", task="hidden-states",
        exporter=TORCH_NN.format("TransformerEncoder"), build=TorchEncoder,
        make_inputs=encoder_inputs, cases=CASES_1D,
        inputs=["input_ids", "src_key_padding_mask"], outputs=["hidden"],
        dims={"input_ids": bt("batch", "seq"), "src_key_padding_mask": bt("batch", "seq"),
              "hidden": bt("batch", "seq")},
        arch=dict(layers=2, attention=2, self_attention=2, cross_attention=0, layer_norm=4,
                  causal=False, padding_mask=True, norm="post-LN", activation="gelu(erf)",
                  batch_first=True, packed_in_proj=True),
        notes="src_key_padding_mask is bool (True = padding); nn.MultiheadAttention packed "
              "in_proj_weight [3*64,64]; heads as 3-D [batch*heads, seq, 16]."))
    s.append(dict(
        name="torch_decoder_opset14", opset=14, family="decoder-with-memory", task="hidden-states",
        exporter=TORCH_NN.format("TransformerDecoder"), build=TorchDecoder,
        make_inputs=decoder_inputs, cases=CASES_2D,
        inputs=["tgt_ids", "memory"], outputs=["hidden"],
        dims={"tgt_ids": bt("tgt_seq", "batch"), "memory": bt("src_seq", "batch"),
              "hidden": bt("tgt_seq", "batch")},
        arch=dict(layers=2, attention=4, self_attention=2, cross_attention=2, layer_norm=6,
                  causal=True, padding_mask=False, norm="post-LN", activation="relu",
                  batch_first=False, packed_in_proj=True),
        notes="sequence-first layout ([seq, batch, hidden]); causal float mask from "
              "torch.triu(full((T,T), -inf), 1) made inside the graph from tgt length."))
    s.append(dict(
        name="torch_transformer_opset17", opset=17, family="encoder-decoder", task="lm-logits",
        exporter=TORCH_NN.format("Transformer"), build=TorchSeq2Seq,
        make_inputs=seq2seq_inputs, cases=CASES_2D,
        inputs=["src_ids", "tgt_ids", "src_key_padding_mask"], outputs=["logits"],
        dims={"src_ids": bt("batch", "src_seq"), "tgt_ids": bt("batch", "tgt_seq"),
              "src_key_padding_mask": bt("batch", "src_seq"), "logits": bt("batch", "tgt_seq")},
        arch=dict(layers=4, encoder_layers=2, decoder_layers=2, attention=6, self_attention=4,
                  cross_attention=2, layer_norm=12, causal=True, padding_mask=True,
                  norm="pre-LN", activation="gelu(erf)", batch_first=True,
                  packed_in_proj=True),
        notes="encoder 2x2 + final LN, decoder 2x3 + final LN; bool causal mask from arange "
              "comparison; src padding mask used by encoder self-attention and "
              "decoder cross-attention."))
    s.append(dict(
        name="handwritten_where_opset14", opset=14, family="classifier", task="classification",
        exporter="hand-written torch module via torch.onnx.export (TorchScript tracer)",
        build=HandClassifier, make_inputs=ids_and_mask, cases=CASES_1D,
        inputs=["input_ids", "attention_mask"], outputs=["logits", "probs"],
        dims={"input_ids": bt("batch", "seq"), "attention_mask": bt("batch", "seq"),
              "logits": bt("batch"), "probs": bt("batch")},
        arch=dict(layers=2, attention=2, self_attention=2, cross_attention=0, layer_norm=5,
                  causal=False, padding_mask=True, norm="pre-LN", activation="gelu(erf)",
                  num_classes=NUM_CLASSES),
        notes="layer 0 masks scores with torch.where(keep, s, -1e9), layer 1 with "
              "masked_fill(~keep, -1e9); masked mean pooling; LayerNorm decomposed at "
              "opset 14."))
    s.append(dict(
        name="sdpa_opset17", opset=17, family="decoder-only", task="lm-logits",
        exporter=SDPA_T2, build=SdpaDecoder, torch2=True, make_inputs=ids_and_mask, cases=CASES_1D,
        inputs=["input_ids", "attention_mask"], outputs=["logits"],
        dims={"input_ids": bt("batch", "seq"), "attention_mask": bt("batch", "seq"),
              "logits": bt("batch", "seq")},
        arch=dict(layers=2, attention=2, self_attention=2, cross_attention=0, layer_norm=5,
                  causal=True, padding_mask=True, norm="pre-LN", activation="gelu(erf)"),
        notes="torch 2's SDPA symbolic: scale = 1/Sqrt(Cast(Shape(q)[-1])), Mul(q, "
              "Sqrt(scale)), Mul(Transpose(k), Sqrt(scale)), MatMul, Where(bool_mask, 0, "
              "-inf), Add, Softmax, Where(IsNaN(p), 0, p), MatMul; causal tril(ones) And "
              "padding mask."))
    return s


# ----------------------------------------------------------------------------------------
# Export / check / references
# ----------------------------------------------------------------------------------------

def torch_major():
    return int(torch.__version__.split(".")[0])


def torch2_python():
    return os.environ.get("TFC_TORCH2_PYTHON",
                          str(HERE.parents[1] / ".venv-export" / "bin" / "python"))


def torch_export(spec, model, args, path):
    kw = {}
    if torch_major() >= 2:
        kw["dynamo"] = False  # the TorchScript exporter, as in torch 1.x
    # Grad stays enabled (parameters require grad) so that nn.TransformerEncoderLayer /
    # nn.MultiheadAttention never take their fused fast paths while tracing.
    with torch.enable_grad():
        torch.onnx.export(model, args, str(path), opset_version=spec["opset"],
                          input_names=spec["inputs"], output_names=spec["outputs"],
                          dynamic_axes=spec["dims"], do_constant_folding=True, **kw)


def export(spec, model, path):
    rng = np.random.default_rng(1000)
    example = spec["make_inputs"](rng, *spec["cases"][1].values())
    args = tuple(torch.from_numpy(example[n]) for n in spec["inputs"])
    if spec.get("torch2") and torch_major() < 2:
        py = torch2_python()
        if not os.path.exists(py):
            sys.exit(f"{spec['name']} needs torch>=2 for its export: make {py} "
                     "(see tests/onnx/README.md) or set TFC_TORCH2_PYTHON, or leave it out "
                     "with --only")
        with tempfile.TemporaryDirectory() as tmp:
            weights = os.path.join(tmp, "weights.pt")
            feeds = os.path.join(tmp, "example.npz")
            torch.save(model.state_dict(), weights)
            np.savez(feeds, **example)
            subprocess.run([py, str(Path(__file__).resolve()), "--export-torch2", spec["name"],
                            "--weights", weights, "--example", feeds, "--out", str(path)],
                           check=True)
    else:
        torch_export(spec, model, args, path)
    exporter_torch = torch.__version__
    m = onnx.load(str(path))
    if m.producer_version:
        exporter_torch = m.producer_version
    # Drop the doc strings (stack traces) to keep files small and stable.
    for n in m.graph.node:
        n.doc_string = ""
    m.producer_name = "tfc tests/onnx/make_corpus.py (pytorch %s)" % exporter_torch
    onnx.save(m, str(path))
    return m, exporter_torch


def export_torch2_main(name, weights, example, out):
    """Runs under torch>=2 (.venv-export): export one model with given weights."""
    spec = next(s for s in specs() if s["name"] == name)
    torch.manual_seed(1234)
    model = spec["build"]().eval()
    model.load_state_dict(torch.load(weights))
    ex = np.load(example)
    args = tuple(torch.from_numpy(ex[n]) for n in spec["inputs"])
    torch_export(spec, model, args, out)


def session(path):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def dtype_name(a):
    return str(a.dtype)


def perturb(model):
    """Random-init models have LayerNorm weights of 1, zero biases, and (for nn.Transformer*
    and its _get_clones) identical weights in every layer; an importer bug that drops a
    bias, ignores gamma/beta or mixes up layers would go unseen. So every parameter gets
    independent noise (tied parameters, e.g. GPT-2's wte/lm_head, stay tied)."""
    g = torch.Generator().manual_seed(4321)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            p.add_(torch.randn(p.shape, generator=g) * 0.05)


def run_spec(spec):
    name = spec["name"]
    torch.manual_seed(1234)
    model = spec["build"]().eval()
    perturb(model)
    path = MODELS_DIR / f"{name}.onnx"
    m, exporter_torch = export(spec, model, path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    domains = sorted({n.domain or "ai.onnx" for n in m.graph.node})
    assert domains == ["ai.onnx"], (name, domains)
    sess = session(path)
    got_in = [i.name for i in sess.get_inputs()]
    got_out = [o.name for o in sess.get_outputs()]
    assert got_in == spec["inputs"], (name, got_in)
    assert got_out == spec["outputs"], (name, got_out)

    out_dir = REFS_DIR / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in out_dir.glob("*.npy"):
        f.unlink()
    cases = []
    max_diff = 0.0
    in_dtypes, out_dtypes = {}, {}
    for k, case in enumerate(spec["cases"]):
        rng = np.random.default_rng(k + 1)
        feeds = spec["make_inputs"](rng, *case.values())
        feeds = {n: feeds[n] for n in spec["inputs"]}
        outs = sess.run(None, feeds)
        with torch.no_grad():
            t = model(*[torch.from_numpy(feeds[n]) for n in spec["inputs"]])
        t = t if isinstance(t, tuple) else (t,)
        for a, b in zip(outs, t):
            assert np.all(np.isfinite(a)), (name, k)
            max_diff = max(max_diff, float(np.max(np.abs(a - b.numpy()))))
        files = {}
        for n, a in feeds.items():
            np.save(out_dir / f"case{k}.{n}.npy", a)
            files[n] = f"refs/{name}/case{k}.{n}.npy"
            in_dtypes[n] = dtype_name(a)
        for n, a in zip(spec["outputs"], outs):
            np.save(out_dir / f"case{k}.{n}.npy", a)
            files[n] = f"refs/{name}/case{k}.{n}.npy"
            out_dtypes[n] = dtype_name(a)
        cases.append(dict(dims=case, files=files,
                          shapes={n: list(a.shape) for n, a in
                                  list(feeds.items()) + list(zip(spec["outputs"], outs))}))
    assert max_diff < 1e-3, (name, max_diff)

    def value_info(vi):
        t = vi.type.tensor_type
        return [d.dim_param if d.dim_param else d.dim_value for d in t.shape.dim]

    entry = dict(
        name=name, model=f"models/{name}.onnx", opset=spec["opset"], family=spec["family"],
        task=spec["task"], exporter=spec["exporter"], exporter_torch=exporter_torch,
        inputs=[dict(name=vi.name, dtype=in_dtypes[vi.name], shape=value_info(vi))
                for vi in m.graph.input if vi.name in in_dtypes],
        outputs=[dict(name=vi.name, dtype=out_dtypes[vi.name], shape=value_info(vi))
                 for vi in m.graph.output],
        config=dict(hidden=HIDDEN, heads=HEADS, ffn=FFN, vocab=VOCAB),
        architecture=spec["arch"], op_types=ops, num_nodes=len(m.graph.node),
        op_counts=dict(sorted(collections.Counter(n.op_type for n in m.graph.node).items())),
        size_bytes=path.stat().st_size,
        torch_vs_ort_max_abs_diff=float("%.3g" % max_diff),
        tolerance=dict(rtol=1e-4, atol=1e-4),
        notes=spec["notes"], cases=cases)
    print(f"{name}: opset {spec['opset']}, {len(m.graph.node)} nodes, "
          f"{path.stat().st_size / 1024:.0f} KiB, torch-vs-ort {max_diff:.2e}\n"
          f"  ops: {' '.join(ops)}")
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--export-torch2", metavar="NAME", help=argparse.SUPPRESS)
    ap.add_argument("--weights", help=argparse.SUPPRESS)
    ap.add_argument("--example", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.export_torch2:
        return export_torch2_main(a.export_torch2, a.weights, a.example, a.out)
    import onnxruntime as ort
    only = set(filter(None, a.only.split(",")))
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    REFS_DIR.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    old = {}
    if MANIFEST.exists():
        old = {e["name"]: e for e in json.loads(MANIFEST.read_text())["models"]}
    entries = []
    for spec in specs():
        if only and spec["name"] not in only:
            if spec["name"] in old:
                entries.append(old[spec["name"]])
            continue
        entries.append(run_spec(spec))
    import transformers
    manifest = dict(
        generator="tests/onnx/make_corpus.py",
        versions=dict(torch=torch.__version__, transformers=transformers.__version__,
                      onnx=onnx.__version__, onnxruntime=ort.__version__,
                      numpy=np.__version__),
        reference="onnxruntime CPUExecutionProvider, ORT_ENABLE_ALL, float32",
        dim_names=["batch", "seq", "src_seq", "tgt_seq"],
        op_types_by_opset={str(o): sorted({t for e in entries if e["opset"] == o
                                           for t in e["op_types"]}) for o in (14, 17)},
        models=entries)
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
