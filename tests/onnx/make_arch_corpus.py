#!/usr/bin/env python3
"""Builds the architecture corpus of tests/onnx/arch/: models/, refs/ and manifest.json.

Run from the repository root with the dev venv (torch 1.13, transformers 4.40.2, onnx,
onnxruntime):

    .venv/bin/python tests/onnx/make_arch_corpus.py               # every model
    .venv/bin/python tests/onnx/make_arch_corpus.py --only llama,t5

Tiny random-init `transformers` models of the 24 architectures of issue 11 (hidden 64,
4 heads, 2 layers per stack, FFN 128, vocab 256; eager attention), each exported by
torch.onnx.export (TorchScript tracer) at opset 17 with dynamic batch and sequence axes,
plus a sentence-transformers style BERT export (mean pooling in the graph, no
token_type_ids input) and static-shape (batch 1, seq 16) exports of bert and gpt2.

As in make_corpus.py (whose helpers this script imports): weights come from fixed seeds
with independent noise added to every trainable parameter (no LayerNorm/RMSNorm gamma is
exactly 1, no bias exactly 0); inputs come from fixed-seed numpy generators; references are
what onnxruntime (CPU, ORT_ENABLE_ALL) returns, and each model is also run in PyTorch on
the same inputs, the largest difference being recorded as `torch_vs_ort_max_abs_diff`.
Fixed (non-trainable) tables such as Marian's and Whisper's sinusoidal positions are left
exactly as transformers makes them, so that a "sinusoidal" position stays sinusoidal.

The manifest has the layout of tests/onnx/manifest.json (so the C++ corpus harness reads
both) plus, per model, the expected architecture (attention blocks, norms by kind,
position kind, activation/gating, kv heads, window), the tolerance rule and the config.
A model that this torch/transformers pair cannot export is listed under "not_exported"
with the exporter's message instead.
"""
import argparse
import collections
import json
import sys
import traceback
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_corpus  # noqa: E402  (session, torch_export, bt: one exporter/ORT set-up)

ARCH = HERE / "arch"
MODELS_DIR = ARCH / "models"
REFS_DIR = ARCH / "refs"
MANIFEST = ARCH / "manifest.json"

HIDDEN = 64
HEADS = 4
HEAD_DIM = HIDDEN // HEADS
LAYERS = 2
FFN = 128
VOCAB = 256
MAX_POS = 64
OPSET = 17

bt = make_corpus.bt
TOLERANCE = dict(rule="max|out - ref| <= 1e-4 * max(1, max|ref|)", rel=1e-4)

# Text cases: (batch 1, seq 7) full, (batch 2, seq 16) with the second row right-padded
# to 9 tokens. Encoder-decoder models add a target length; audio/image models only vary
# the batch.
TEXT_CASES = [dict(batch=1, seq=7, lengths=[7]), dict(batch=2, seq=16, lengths=[16, 9])]
S2S_CASES = [dict(batch=1, src_seq=7, tgt_seq=5, lengths=[7]),
             dict(batch=2, src_seq=16, tgt_seq=6, lengths=[16, 9])]
BATCH_CASES = [dict(batch=1), dict(batch=2)]
STATIC_CASES = [dict(batch=1, seq=16, lengths=[16]), dict(batch=1, seq=16, lengths=[11])]


def drop0(**kw):
    """Dropout probabilities (every name transformers uses) set to 0."""
    return {k: 0.0 for k in kw}


# ----------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------

def mask_for(batch, seq, lengths):
    m = np.zeros((batch, seq), dtype=np.int64)
    for b, n in enumerate(lengths):
        m[b, :n] = 1
    return m


def token_ids(rng, batch, seq, lengths, pad):
    """Real tokens from [4, VOCAB) (clear of every special id used below); padding is the
    model's pad id."""
    ids = rng.integers(4, VOCAB, size=(batch, seq), dtype=np.int64)
    return np.where(mask_for(batch, seq, lengths) == 1, ids, np.int64(pad))


def text_inputs(spec, rng, case):
    b, s, lens = case["batch"], case["seq"], case["lengths"]
    feeds = {"input_ids": token_ids(rng, b, s, lens, spec["pad"]),
             "attention_mask": mask_for(b, s, lens)}
    if "token_type_ids" in spec["inputs"]:
        tt = np.zeros((b, s), dtype=np.int64)
        tt[:, s // 2:] = 1
        feeds["token_type_ids"] = tt * feeds["attention_mask"]
    return feeds


def s2s_inputs(spec, rng, case):
    b, lens = case["batch"], case["lengths"]
    return {"input_ids": token_ids(rng, b, case["src_seq"], lens, spec["pad"]),
            "attention_mask": mask_for(b, case["src_seq"], lens),
            "decoder_input_ids": np.concatenate(
                [np.full((b, 1), spec["decoder_start"], dtype=np.int64),
                 rng.integers(4, VOCAB, size=(b, case["tgt_seq"] - 1), dtype=np.int64)], 1)}


def audio_inputs(spec, rng, case):
    return {"input_features": rng.standard_normal(
        (case["batch"], spec["config"]["num_mel_bins"], 2 * spec["config"]["max_source_positions"])
    ).astype(np.float32)}


def image_inputs(spec, rng, case):
    c = spec["config"]
    return {"pixel_values": rng.standard_normal(
        (case["batch"], c["num_channels"], c["image_size"], c["image_size"])).astype(np.float32)}


# ----------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------

class HFWrap(nn.Module):
    """Calls a transformers model with the graph inputs as keyword arguments (plus fixed
    ones, e.g. use_cache=False) and returns the named outputs."""

    def __init__(self, model, inputs, outputs, fixed):
        super().__init__()
        self.model = model
        self.inputs, self.outputs, self.fixed = inputs, outputs, fixed

    def forward(self, *args):
        out = self.model(**dict(zip(self.inputs, args)), **self.fixed, return_dict=True)
        got = tuple(getattr(out, n) for n in self.outputs)
        return got[0] if len(got) == 1 else got


class MeanPooled(nn.Module):
    """sentence-transformers' Pooling(mean) on a BertModel: the masked mean of
    last_hidden_state. token_type_ids is not passed (BertModel uses its zeros buffer)."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask):
        h = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                      return_dict=True).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        return (h * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


def hf(cls_name, config_name, config, model_kw=None):
    """A builder: transformers.<config_name>(**config, eager attention) -> <cls_name>."""
    def build():
        import transformers
        cfg = getattr(transformers, config_name)(**config, attn_implementation="eager")
        cls = getattr(transformers, cls_name)
        return cls(cfg, **(model_kw or {}))
    return build


def whisper_encoder(config):
    def build():
        import transformers
        from transformers.models.whisper.modeling_whisper import WhisperEncoder
        return WhisperEncoder(transformers.WhisperConfig(**config, attn_implementation="eager"))
    return build


def perturb(model):
    """make_corpus.perturb, but only for trainable parameters: fixed tables (sinusoidal
    positions of Marian and Whisper, requires_grad=False) keep their exact values. Tied
    parameters appear once in named_parameters() and stay tied."""
    g = torch.Generator().manual_seed(4321)
    skipped = []
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if not p.requires_grad:
                skipped.append(name)
                continue
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return skipped


# ----------------------------------------------------------------------------------------
# Specs
# ----------------------------------------------------------------------------------------

def arch(attention, self_attention, cross_attention, layer_norm, rms_norm, norm, placement,
         position, activation, gating="none", kv_heads=HEADS, window=None, causal=False,
         padding_mask=True, **extra):
    """The architecture's expected counts and kinds (what the fusion report should find)."""
    assert attention == self_attention + cross_attention
    d = dict(layers=LAYERS, attention=attention, self_attention=self_attention,
             cross_attention=cross_attention, layer_norm=layer_norm, rms_norm=rms_norm,
             norm=norm, norm_placement=placement, position=position, activation=activation,
             gating=gating, heads=HEADS, kv_heads=kv_heads, window=window, causal=causal,
             padding_mask=padding_mask)
    d.update(extra)
    return d


def enc(name, cls, cfg_cls, config, a, inputs=("input_ids", "attention_mask"), pad=0,
        notes="", model_kw=None, outputs=("last_hidden_state",), fixed=None):
    dims = {n: bt("batch", "seq") for n in inputs}
    dims.update({n: bt("batch", "seq") for n in outputs if n == "last_hidden_state"})
    dims.update({n: bt("batch") for n in outputs if n != "last_hidden_state"})
    return dict(name=name, hf_class=cls, family="encoder-only", task="hidden-states",
                build=hf(cls, cfg_cls, config, model_kw), config=config, inputs=list(inputs),
                outputs=list(outputs), dims=dims, make_inputs=text_inputs, cases=TEXT_CASES,
                pad=pad, arch=a, notes=notes, fixed=fixed or {})


def dec(name, cls, cfg_cls, config, a, pad=0, notes=""):
    return dict(name=name, hf_class=cls, family="decoder-only", task="lm-logits",
                build=hf(cls, cfg_cls, config), config=config,
                inputs=["input_ids", "attention_mask"], outputs=["logits"],
                dims={"input_ids": bt("batch", "seq"), "attention_mask": bt("batch", "seq"),
                      "logits": bt("batch", "seq")},
                make_inputs=text_inputs, cases=TEXT_CASES, pad=pad, arch=a, notes=notes,
                fixed=dict(use_cache=False))


def s2s(name, cls, cfg_cls, config, a, pad, decoder_start, notes=""):
    return dict(name=name, hf_class=cls, family="encoder-decoder", task="lm-logits",
                build=hf(cls, cfg_cls, config), config=config,
                inputs=["input_ids", "attention_mask", "decoder_input_ids"], outputs=["logits"],
                dims={"input_ids": bt("batch", "src_seq"),
                      "attention_mask": bt("batch", "src_seq"),
                      "decoder_input_ids": bt("batch", "tgt_seq"),
                      "logits": bt("batch", "tgt_seq")},
                make_inputs=s2s_inputs, cases=S2S_CASES, pad=pad, decoder_start=decoder_start,
                arch=a, notes=notes, fixed=dict(use_cache=False))


BERT_CFG = dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                num_attention_heads=HEADS, intermediate_size=FFN,
                max_position_embeddings=MAX_POS, type_vocab_size=2, pad_token_id=0,
                **drop0(hidden_dropout_prob=0, attention_probs_dropout_prob=0))
ROBERTA_CFG = dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                   num_attention_heads=HEADS, intermediate_size=FFN,
                   max_position_embeddings=MAX_POS + 2, type_vocab_size=1, pad_token_id=1,
                   bos_token_id=0, eos_token_id=2,
                   **drop0(hidden_dropout_prob=0, attention_probs_dropout_prob=0))
GPT2_CFG = dict(vocab_size=VOCAB, n_positions=MAX_POS, n_embd=HIDDEN, n_layer=LAYERS,
                n_head=HEADS, n_inner=FFN, use_cache=False,
                **drop0(resid_pdrop=0, embd_pdrop=0, attn_pdrop=0))
LLAMA_LIKE = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=FFN,
                  num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                  max_position_embeddings=MAX_POS, pad_token_id=0, bos_token_id=1,
                  eos_token_id=2, use_cache=False)
BART_LIKE = dict(vocab_size=VOCAB, d_model=HIDDEN, encoder_layers=LAYERS,
                 decoder_layers=LAYERS, encoder_attention_heads=HEADS,
                 decoder_attention_heads=HEADS, encoder_ffn_dim=FFN, decoder_ffn_dim=FFN,
                 max_position_embeddings=MAX_POS, pad_token_id=1, bos_token_id=0,
                 eos_token_id=2, decoder_start_token_id=2, use_cache=False,
                 **drop0(dropout=0, attention_dropout=0, activation_dropout=0))
ENC_POST = dict(norm="layer_norm", placement="post", activation="gelu(erf)")


def specs():
    s = []
    # --- encoders -----------------------------------------------------------------------
    s.append(enc("bert", "BertModel", "BertConfig", BERT_CFG,
                 arch(2, 2, 0, 5, 0, position="learned", **ENC_POST),
                 inputs=("input_ids", "attention_mask", "token_type_ids"),
                 model_kw=dict(add_pooling_layer=False)))
    s.append(enc("roberta", "RobertaModel", "RobertaConfig", ROBERTA_CFG,
                 arch(2, 2, 0, 5, 0, position="learned", **ENC_POST), pad=1,
                 model_kw=dict(add_pooling_layer=False),
                 notes="position ids = cumsum(input_ids != pad) * (input_ids != pad) + pad "
                       "(padding_idx 1), computed in the graph; token_type_ids not an input "
                       "(type_vocab_size 1, the buffered zeros)."))
    s.append(enc("distilbert", "DistilBertModel", "DistilBertConfig",
                 dict(vocab_size=VOCAB, dim=HIDDEN, n_layers=LAYERS, n_heads=HEADS,
                      hidden_dim=FFN, max_position_embeddings=MAX_POS, pad_token_id=0,
                      **drop0(dropout=0, attention_dropout=0, qa_dropout=0,
                              seq_classif_dropout=0)),
                 arch(2, 2, 0, 5, 0, position="learned", **ENC_POST)))
    s.append(enc("albert", "AlbertModel", "AlbertConfig",
                 dict(vocab_size=VOCAB, embedding_size=32, hidden_size=HIDDEN,
                      num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                      intermediate_size=FFN, max_position_embeddings=MAX_POS,
                      type_vocab_size=2, pad_token_id=0,
                      **drop0(hidden_dropout_prob=0, attention_probs_dropout_prob=0,
                              classifier_dropout_prob=0)),
                 arch(2, 2, 0, 5, 0, norm="layer_norm", placement="post", position="learned",
                      activation="gelu_new(tanh)", shared_layers=True, embedding_size=32),
                 inputs=("input_ids", "attention_mask", "token_type_ids"),
                 model_kw=dict(add_pooling_layer=False),
                 notes="embedding_size 32 projected to 64; one layer's weights shared by "
                       "both layers (2 attention blocks in the graph)."))
    s.append(enc("electra", "ElectraModel", "ElectraConfig",
                 dict(vocab_size=VOCAB, embedding_size=32, hidden_size=HIDDEN,
                      num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                      intermediate_size=FFN, max_position_embeddings=MAX_POS,
                      type_vocab_size=2, pad_token_id=0,
                      **drop0(hidden_dropout_prob=0, attention_probs_dropout_prob=0)),
                 arch(2, 2, 0, 5, 0, position="learned", embedding_size=32, **ENC_POST),
                 inputs=("input_ids", "attention_mask", "token_type_ids"),
                 notes="embedding_size 32 projected to 64 (embeddings_project)."))
    s.append(enc("xlm-roberta", "XLMRobertaModel", "XLMRobertaConfig", ROBERTA_CFG,
                 arch(2, 2, 0, 5, 0, position="learned", **ENC_POST), pad=1,
                 model_kw=dict(add_pooling_layer=False), notes="as roberta."))
    s.append(enc("deberta-v2", "DebertaV2Model", "DebertaV2Config",
                 dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                      num_attention_heads=HEADS, intermediate_size=FFN,
                      max_position_embeddings=MAX_POS, relative_attention=True,
                      position_buckets=16, max_relative_positions=-1,
                      pos_att_type=["p2c", "c2p"], position_biased_input=False,
                      norm_rel_ebd="layer_norm", share_att_key=True, type_vocab_size=0,
                      pad_token_id=0,
                      **drop0(hidden_dropout_prob=0, attention_probs_dropout_prob=0)),
                 arch(2, 2, 0, 6, 0, position="relative", **ENC_POST),
                 notes="DeBERTa-v3 style: disentangled relative attention (c2p + p2c, log "
                       "buckets 16, shared keys), no absolute positions, LayerNorm on the "
                       "relative embeddings (the 6th norm); XSoftmax masks with the "
                       "padding mask."))
    # --- decoders -----------------------------------------------------------------------
    s.append(dec("gpt2", "GPT2LMHeadModel", "GPT2Config", GPT2_CFG,
                 arch(2, 2, 0, 5, 0, norm="layer_norm", placement="pre", position="learned",
                      activation="gelu_new(tanh)", causal=True, tied_embeddings=True)))
    s.append(dec("gpt_neo", "GPTNeoForCausalLM", "GPTNeoConfig",
                 dict(vocab_size=VOCAB, max_position_embeddings=MAX_POS, hidden_size=HIDDEN,
                      num_layers=LAYERS, attention_types=[[["global", "local"], 1]],
                      num_heads=HEADS, intermediate_size=FFN, window_size=4, use_cache=False,
                      **drop0(embed_dropout=0, attention_dropout=0, resid_dropout=0)),
                 arch(2, 2, 0, 5, 0, norm="layer_norm", placement="pre", position="learned",
                      activation="gelu_new(tanh)", causal=True, window=4,
                      layer_windows=[None, 4], attention_scale=1.0, tied_embeddings=True),
                 notes="layer 0 global, layer 1 local (window 4: key j visible from query i "
                       "iff i-4 < j <= i); no 1/sqrt(d) scaling of the scores."))
    s.append(dec("gptj", "GPTJForCausalLM", "GPTJConfig",
                 dict(vocab_size=VOCAB, n_positions=MAX_POS, n_embd=HIDDEN, n_layer=LAYERS,
                      n_head=HEADS, rotary_dim=8, n_inner=FFN, use_cache=False,
                      tie_word_embeddings=False,
                      **drop0(resid_pdrop=0, embd_pdrop=0, attn_pdrop=0)),
                 arch(2, 2, 0, 3, 0, norm="layer_norm", placement="pre-parallel",
                      position="rotary-partial", rotary_fraction=0.5,
                      rotary_style="interleaved", activation="gelu_new(tanh)", causal=True),
                 notes="parallel attention + MLP off one ln_1; rotary on the first 8 of 16 "
                       "head dims, interleaved pairs (rotate_every_two), sin/cos table "
                       "gathered by position."))
    s.append(dec("opt", "OPTForCausalLM", "OPTConfig",
                 dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                      ffn_dim=FFN, num_attention_heads=HEADS, max_position_embeddings=MAX_POS,
                      word_embed_proj_dim=HIDDEN, do_layer_norm_before=True, pad_token_id=1,
                      bos_token_id=2, eos_token_id=2, activation_function="relu",
                      use_cache=False, **drop0(dropout=0, attention_dropout=0,
                                               layerdrop=0)),
                 arch(2, 2, 0, 5, 0, norm="layer_norm", placement="pre", position="learned",
                      activation="relu", causal=True, tied_embeddings=True), pad=1,
                 notes="positions from cumsum(attention_mask) (offset 2)."))
    s.append(dec("bloom", "BloomForCausalLM", "BloomConfig",
                 dict(vocab_size=VOCAB, hidden_size=HIDDEN, n_layer=LAYERS, n_head=HEADS,
                      pad_token_id=3, bos_token_id=1, eos_token_id=2, use_cache=False,
                      **drop0(hidden_dropout=0, attention_dropout=0)),
                 arch(2, 2, 0, 6, 0, norm="layer_norm", placement="pre", position="alibi",
                      activation="gelu(bloom tanh)", causal=True, ffn=4 * HIDDEN,
                      tied_embeddings=True), pad=3,
                 notes="ALiBi slopes times cumsum(attention_mask) positions; LayerNorm on the "
                       "word embeddings (the 6th norm); BLOOM's FFN is 4*hidden = 256 "
                       "(not configurable)."))
    s.append(dec("llama", "LlamaForCausalLM", "LlamaConfig",
                 dict(LLAMA_LIKE, num_key_value_heads=2),
                 arch(2, 2, 0, 0, 5, norm="rms_norm", placement="pre", position="rotary-full",
                      rotary_fraction=1.0, rotary_style="half", activation="silu",
                      gating="swiglu", kv_heads=2, causal=True)))
    s.append(dec("mistral", "MistralForCausalLM", "MistralConfig",
                 dict(LLAMA_LIKE, num_key_value_heads=2, sliding_window=4),
                 arch(2, 2, 0, 0, 5, norm="rms_norm", placement="pre", position="rotary-full",
                      rotary_fraction=1.0, rotary_style="half", activation="silu",
                      gating="swiglu", kv_heads=2, window=4, causal=True,
                      layer_windows=[4, 4]),
                 notes="sliding_window 4 in both layers; with right padding some windows of "
                       "the padded row hold only padding."))
    s.append(dec("qwen2", "Qwen2ForCausalLM", "Qwen2Config",
                 dict(LLAMA_LIKE, num_key_value_heads=2, tie_word_embeddings=True,
                      use_sliding_window=False),
                 arch(2, 2, 0, 0, 5, norm="rms_norm", placement="pre", position="rotary-full",
                      rotary_fraction=1.0, rotary_style="half", activation="silu",
                      gating="swiglu", kv_heads=2, causal=True, qkv_bias=True,
                      tied_embeddings=True)))
    s.append(dec("phi", "PhiForCausalLM", "PhiConfig",
                 dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=FFN,
                      num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                      max_position_embeddings=MAX_POS, partial_rotary_factor=0.5,
                      hidden_act="gelu_new", use_cache=False, pad_token_id=0,
                      **drop0(resid_pdrop=0, embd_pdrop=0, attention_dropout=0)),
                 arch(2, 2, 0, 3, 0, norm="layer_norm", placement="pre-parallel",
                      position="rotary-partial", rotary_fraction=0.5, rotary_style="half",
                      activation="gelu_new(tanh)", causal=True),
                 notes="parallel attention + MLP off one input_layernorm; rotary on the first "
                       "8 of 16 head dims; lm_head has a bias."))
    s.append(dec("gemma", "GemmaForCausalLM", "GemmaConfig",
                 dict(LLAMA_LIKE, num_key_value_heads=1, head_dim=HEAD_DIM,
                      hidden_act="gelu_pytorch_tanh"),
                 arch(2, 2, 0, 0, 5, norm="rms_norm(1+w)", placement="pre",
                      position="rotary-full", rotary_fraction=1.0, rotary_style="half",
                      activation="gelu(tanh)", gating="geglu", kv_heads=1, causal=True,
                      embedding_scale="sqrt(hidden)", tied_embeddings=True),
                 notes="multi-query attention (1 KV head); RMSNorm scales by (1 + weight); "
                       "embeddings multiplied by sqrt(64)."))
    # --- encoder-decoders -----------------------------------------------------------------
    s.append(s2s("t5", "T5ForConditionalGeneration", "T5Config",
                 dict(vocab_size=VOCAB, d_model=HIDDEN, d_kv=HEAD_DIM, d_ff=FFN,
                      num_layers=LAYERS, num_decoder_layers=LAYERS, num_heads=HEADS,
                      relative_attention_num_buckets=8, relative_attention_max_distance=16,
                      feed_forward_proj="relu", pad_token_id=0, eos_token_id=1,
                      decoder_start_token_id=0, use_cache=False, dropout_rate=0.0),
                 arch(6, 4, 2, 0, 12, norm="rms_norm", placement="pre", position="relative",
                      activation="relu", causal=True, attention_scale=1.0,
                      tied_embeddings=True),
                 pad=0, decoder_start=0,
                 notes="bucketed relative position bias (8 buckets, max distance 16) made in "
                       "the first layer of each stack and added in every self-attention; "
                       "no 1/sqrt(d) scaling; T5 LayerNorm is RMSNorm without bias; "
                       "logits scaled by d_model^-0.5 (tied head)."))
    s.append(s2s("bart", "BartForConditionalGeneration", "BartConfig",
                 dict(BART_LIKE, activation_function="gelu"),
                 arch(6, 4, 2, 12, 0, norm="layer_norm", placement="post", position="learned",
                      activation="gelu(erf)", causal=True, tied_embeddings=True),
                 pad=1, decoder_start=2,
                 notes="learned positions (offset 2); LayerNorm on the embeddings of each "
                       "stack; heads folded into the batch ([batch*heads, seq, 16])."))
    s.append(s2s("marian", "MarianMTModel", "MarianConfig",
                 dict(BART_LIKE, decoder_vocab_size=VOCAB, activation_function="swish",
                      scale_embedding=True, eos_token_id=0, decoder_start_token_id=1,
                      forced_eos_token_id=0),
                 arch(6, 4, 2, 10, 0, norm="layer_norm", placement="post",
                      position="sinusoidal", activation="silu", causal=True,
                      embedding_scale="sqrt(hidden)", tied_embeddings=True),
                 pad=1, decoder_start=1,
                 notes="sinusoidal position table (exact, not perturbed); no embedding "
                       "LayerNorm; heads folded into the batch."))
    s.append(s2s("mbart", "MBartForConditionalGeneration", "MBartConfig",
                 dict(BART_LIKE, activation_function="gelu", scale_embedding=True),
                 arch(6, 4, 2, 14, 0, norm="layer_norm", placement="pre", position="learned",
                      activation="gelu(erf)", causal=True, embedding_scale="sqrt(hidden)",
                      tied_embeddings=True),
                 pad=1, decoder_start=2,
                 notes="pre-LN with embedding LayerNorm and a final LayerNorm per stack."))
    # --- other modalities -----------------------------------------------------------------
    wcfg = dict(vocab_size=VOCAB, num_mel_bins=8, encoder_layers=LAYERS,
                encoder_attention_heads=HEADS, decoder_layers=LAYERS,
                decoder_attention_heads=HEADS, d_model=HIDDEN, encoder_ffn_dim=FFN,
                decoder_ffn_dim=FFN, max_source_positions=16, max_target_positions=32,
                **drop0(dropout=0, attention_dropout=0, activation_dropout=0))
    s.append(dict(name="whisper_encoder", hf_class="WhisperEncoder", family="encoder-only",
                  task="hidden-states", build=whisper_encoder(wcfg), config=wcfg,
                  inputs=["input_features"], outputs=["last_hidden_state"],
                  dims={"input_features": bt("batch"), "last_hidden_state": bt("batch")},
                  make_inputs=audio_inputs, cases=BATCH_CASES, fixed={},
                  arch=arch(2, 2, 0, 5, 0, norm="layer_norm", placement="pre",
                            position="sinusoidal", activation="gelu(erf)", padding_mask=False,
                            front_end="conv1d k3 s1 + gelu, conv1d k3 s2 + gelu"),
                  notes="input_features [batch, 8 mel bins, 32 frames] -> 16 positions; "
                        "dynamic batch only (Whisper checks the frame count); sinusoidal "
                        "table exact."))
    vcfg = dict(hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                intermediate_size=FFN, image_size=32, patch_size=8, num_channels=3,
                **drop0(hidden_dropout_prob=0, attention_probs_dropout_prob=0))
    s.append(dict(name="vit", hf_class="ViTModel", family="encoder-only", task="hidden-states",
                  build=hf("ViTModel", "ViTConfig", vcfg, dict(add_pooling_layer=False)),
                  config=vcfg, inputs=["pixel_values"], outputs=["last_hidden_state"],
                  dims={"pixel_values": bt("batch"), "last_hidden_state": bt("batch")},
                  make_inputs=image_inputs, cases=BATCH_CASES, fixed={},
                  arch=arch(2, 2, 0, 5, 0, norm="layer_norm", placement="pre",
                            position="learned", activation="gelu(erf)", padding_mask=False,
                            front_end="conv2d 8x8 stride 8 patches + [CLS]"),
                  notes="pixel_values [batch, 3, 32, 32] -> 16 patches + CLS = 17 tokens; "
                        "dynamic batch only."))
    ccfg = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=FFN,
                num_hidden_layers=LAYERS, num_attention_heads=HEADS, max_position_embeddings=32,
                hidden_act="quick_gelu", pad_token_id=1, bos_token_id=0, eos_token_id=2,
                attention_dropout=0.0)
    s.append(enc("clip_text", "CLIPTextModel", "CLIPTextConfig", ccfg,
                 arch(2, 2, 0, 5, 0, norm="layer_norm", placement="pre", position="learned",
                      activation="quick_gelu(x*sigmoid(1.702x))", causal=True), pad=1,
                 outputs=("last_hidden_state", "pooler_output"),
                 notes="causal + padding mask; heads folded into the batch; pooler_output "
                       "is the final-LN state at argmax(input_ids) (eos_token_id 2: the "
                       "legacy ArgMax rule)."))
    # --- deployment variants --------------------------------------------------------------
    st = enc("st_bert_meanpool", "BertModel", "BertConfig", BERT_CFG,
             arch(2, 2, 0, 5, 0, position="learned", **ENC_POST),
             model_kw=dict(add_pooling_layer=False), outputs=("sentence_embedding",),
             notes="sentence-transformers layout: graph inputs input_ids and attention_mask "
                   "only (token_type_ids is BertModel's buffered zeros, expanded to the "
                   "input's shape in the graph); masked mean pooling in the graph.")
    st["build"] = lambda: MeanPooled(hf("BertModel", "BertConfig", BERT_CFG,
                                        dict(add_pooling_layer=False))())
    st["family"], st["task"], st["variant"] = "encoder-only", "sentence-embedding", True
    s.append(st)
    for base in ("bert", "gpt2"):
        b = dict(next(x for x in s if x["name"] == base))
        b.update(name=f"{base}_static", dims={}, cases=STATIC_CASES, static=True, variant=True,
                 notes="static shapes: batch 1, seq 16, no dynamic axes (literal dims in "
                       "every Reshape); case 1 is right-padded to 11 tokens.")
        s.append(b)
    return s


# ----------------------------------------------------------------------------------------
# Export / references
# ----------------------------------------------------------------------------------------

def export(spec, model, path):
    rng = np.random.default_rng(1000)
    example = spec["make_inputs"](spec, rng, spec["cases"][-1])
    args = tuple(torch.from_numpy(example[n]) for n in spec["inputs"])
    make_corpus.torch_export(dict(spec, opset=OPSET), model, args, path)
    m = onnx.load(str(path))
    for n in m.graph.node:
        n.doc_string = ""
    m.producer_name = "tfc tests/onnx/make_arch_corpus.py (pytorch %s)" % torch.__version__
    onnx.save(m, str(path))
    return m


def value_info(vi):
    return [d.dim_param if d.dim_param else d.dim_value for d in vi.type.tensor_type.shape.dim]


def run_spec(spec):
    name = spec["name"]
    torch.manual_seed(1234)
    inner = spec["build"]()
    model = inner if isinstance(inner, MeanPooled) else \
        HFWrap(inner, spec["inputs"], spec["outputs"], spec["fixed"])
    model.eval()
    skipped = perturb(model)
    path = MODELS_DIR / f"{name}.onnx"
    m = export(spec, model, path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    assert sorted({n.domain or "ai.onnx" for n in m.graph.node}) == ["ai.onnx"], name
    sess = make_corpus.session(path)
    got_in = [i.name for i in sess.get_inputs()]
    got_out = [o.name for o in sess.get_outputs()]
    assert got_in == spec["inputs"], (name, got_in)
    assert got_out == spec["outputs"], (name, got_out)

    out_dir = REFS_DIR / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in out_dir.glob("*.npy"):
        f.unlink()
    cases, max_diff, max_ref = [], 0.0, 0.0
    dtypes = {}
    for k, case in enumerate(spec["cases"]):
        rng = np.random.default_rng(k + 1)
        feeds = spec["make_inputs"](spec, rng, case)
        feeds = {n: feeds[n] for n in spec["inputs"]}
        outs = sess.run(None, feeds)
        with torch.no_grad():
            t = model(*[torch.from_numpy(feeds[n]) for n in spec["inputs"]])
        t = t if isinstance(t, tuple) else (t,)
        files = {}
        for n, a in feeds.items():
            np.save(out_dir / f"case{k}.{n}.npy", a)
            files[n] = f"refs/{name}/case{k}.{n}.npy"
            dtypes[n] = str(a.dtype)
        for n, a, b in zip(spec["outputs"], outs, t):
            assert np.all(np.isfinite(a)), (name, k, n)
            max_diff = max(max_diff, float(np.max(np.abs(a - b.numpy()))))
            max_ref = max(max_ref, float(np.max(np.abs(a))))
            np.save(out_dir / f"case{k}.{n}.npy", a)
            files[n] = f"refs/{name}/case{k}.{n}.npy"
            dtypes[n] = str(a.dtype)
        dims = {d: v for d, v in case.items() if d != "lengths"}
        cases.append(dict(dims=dims, lengths=case.get("lengths"), files=files,
                          shapes={n: list(a.shape) for n, a in
                                  list(feeds.items()) + list(zip(spec["outputs"], outs))}))
    # The export must be faithful to PyTorch well inside the tolerance the tests use.
    assert max_diff <= 1e-4 * max(1.0, max_ref), (name, max_diff, max_ref)
    entry = dict(
        name=name, model=f"models/{name}.onnx", opset=OPSET, family=spec["family"],
        task=spec["task"], hf_class=spec.get("hf_class"),
        exporter="transformers.%s (eager attention) via torch.onnx.export (TorchScript "
                 "tracer)" % spec.get("hf_class"),
        exporter_torch=torch.__version__, static=bool(spec.get("static")),
        variant=bool(spec.get("variant")),
        inputs=[dict(name=vi.name, dtype=dtypes[vi.name], shape=value_info(vi))
                for vi in m.graph.input if vi.name in dtypes],
        outputs=[dict(name=vi.name, dtype=dtypes[vi.name], shape=value_info(vi))
                 for vi in m.graph.output],
        config={k: v for k, v in spec["config"].items()},
        architecture=spec["arch"], op_types=ops, num_nodes=len(m.graph.node),
        op_counts=dict(sorted(collections.Counter(n.op_type for n in m.graph.node).items())),
        size_bytes=path.stat().st_size, not_perturbed=skipped,
        torch_vs_ort_max_abs_diff=float("%.3g" % max_diff), tolerance=TOLERANCE,
        notes=spec["notes"], cases=cases)
    print(f"{name}: {len(m.graph.node)} nodes, {path.stat().st_size / 1024:.0f} KiB, "
          f"torch-vs-ort {max_diff:.2e}\n  ops: {' '.join(ops)}", flush=True)
    return entry


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="comma-separated model names")
    a = ap.parse_args()
    import onnxruntime as ort
    import transformers
    only = set(filter(None, a.only.split(",")))
    MODELS_DIR.mkdir(parents=True, exist_ok=True)
    REFS_DIR.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    old, old_failed = {}, {}
    if MANIFEST.exists():
        j = json.loads(MANIFEST.read_text())
        old = {e["name"]: e for e in j["models"]}
        old_failed = {e["name"]: e for e in j.get("not_exported", [])}
    entries, failed = [], []
    for spec in specs():
        n = spec["name"]
        if only and n not in only:
            if n in old:
                entries.append(old[n])
            elif n in old_failed:
                failed.append(old_failed[n])
            continue
        try:
            entries.append(run_spec(spec))
        except Exception as e:  # an export this torch/transformers pair cannot do
            msg = "".join(traceback.format_exception_only(type(e), e)).strip()
            print(f"{n}: NOT EXPORTED: {msg}", flush=True)
            traceback.print_exc()
            (MODELS_DIR / f"{n}.onnx").unlink(missing_ok=True)
            failed.append(dict(name=n, hf_class=spec.get("hf_class"), error=msg[:2000]))
    manifest = dict(
        generator="tests/onnx/make_arch_corpus.py",
        versions=dict(torch=torch.__version__, transformers=transformers.__version__,
                      onnx=onnx.__version__, onnxruntime=ort.__version__,
                      numpy=np.__version__),
        reference="onnxruntime CPUExecutionProvider, ORT_ENABLE_ALL, float32",
        config=dict(hidden=HIDDEN, heads=HEADS, layers=LAYERS, ffn=FFN, vocab=VOCAB,
                    opset=OPSET),
        dim_names=["batch", "seq", "src_seq", "tgt_seq"], tolerance=TOLERANCE,
        op_types=sorted({t for e in entries for t in e["op_types"]}),
        models=entries, not_exported=failed)
    MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
