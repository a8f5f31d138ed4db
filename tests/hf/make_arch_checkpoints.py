#!/usr/bin/env python3
"""Makes the architecture checkpoints of tests/hf/checkpoints/<name>/ and tests/hf/arch_refs/.

    .venv/bin/python tests/hf/make_arch_checkpoints.py          # torch, transformers 4.40

Tiny random-init `transformers` models (hidden 64, 4 heads, 2 layers, FFN 128; fixed seeds,
independent noise on every parameter so that no norm weight is exactly 1 or 0 and no bias 0)
written with save_pretrained (safetensors) for issue 11's checkpoint acceptance:

  * decoders llama, mistral, qwen2, phi, gemma, plus llama_bf16 (weights stored as BF16) and
    llama_sharded (max_shard_size 100KB: model-0000k-of-0000n.safetensors + index.json):
    2 fixed prompts and the 32 greedy tokens of model.generate(do_sample=False,
    max_new_tokens=32, no EOS), token-exact targets. The smallest top-1/top-2 logit gap on
    each greedy path is recorded (`min_logit_margin`): a tie-break can not decide a token.
    llama_bf16's reference is the float32 model holding the BF16-rounded weights (what an
    importer that widens BF16 to f32 computes).
  * encoders roberta, xlm-roberta, albert, electra: last_hidden_state for a batch of 2 with
    the second row right-padded.

Tokenizers: where the architecture's own tokenizer is one the importer reads (docs/
HF_IMPORT.md: WordPiece, byte-level BPE) the checkpoint has a tiny one of that kind: qwen2,
phi and roberta a byte-level BPE (Qwen2TokenizerFast, CodeGenTokenizerFast and
RobertaTokenizerFast are byte-level BPEs), electra a WordPiece. llama, mistral, gemma,
albert and xlm-roberta use SentencePiece tokenizers (Metaspace BPE / Unigram), which the
importer does not read: those checkpoints have no tokenizer files (ids only), as
the importer allows. The references are token ids, so no test depends on a tokenizer.

CI needs neither torch nor transformers: it reads the committed files.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_checkpoints  # noqa: E402  (TEXT, write_vocab for the tiny tokenizers)

CKPT = os.path.join(HERE, "checkpoints")
REFS = os.path.join(HERE, "arch_refs")

HIDDEN, HEADS, LAYERS, FFN, VOCAB, MAX_POS = 64, 4, 2, 128, 256, 128
NEW_TOKENS = 32

DECODERS = ["llama", "mistral", "qwen2", "phi", "gemma", "llama_bf16", "llama_sharded"]
ENCODERS = ["roberta", "xlm-roberta", "albert", "electra"]


def perturb(model, seed):
    """As tests/onnx/make_corpus.py: independent noise on every trainable parameter."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=g) * 0.05)


def save(prefix, arrays):
    out = {}
    for key, arr in arrays.items():
        fname = f"{prefix}.{key}.npy"
        np.save(os.path.join(REFS, fname), arr)
        out[key] = fname
    return out


def bpe_tokenizer(d, cls_name):
    """A byte-level BPE (vocab.json, merges.txt, tokenizer.json) trained on make_checkpoints'
    TEXT, saved through transformers' tokenizer class `cls_name`."""
    from tokenizers import ByteLevelBPETokenizer
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([make_checkpoints.TEXT] * 4, vocab_size=300, min_frequency=1,
                            special_tokens=["<|endoftext|>"])
    bpe.save_model(d)
    tok = getattr(transformers, cls_name)(os.path.join(d, "vocab.json"),
                                          os.path.join(d, "merges.txt"),
                                          unk_token="<|endoftext|>", bos_token="<|endoftext|>",
                                          eos_token="<|endoftext|>")
    tok.save_pretrained(d)
    return tok


LLAMA_LIKE = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=FFN,
                  num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                  max_position_embeddings=MAX_POS, initializer_range=0.2, bos_token_id=1,
                  eos_token_id=2)


def decoder_config(name, vocab):
    T = transformers
    if name in ("llama", "llama_bf16", "llama_sharded"):
        return T.LlamaConfig(**dict(LLAMA_LIKE, vocab_size=vocab, num_key_value_heads=2)), \
            T.LlamaForCausalLM
    if name == "mistral":
        return T.MistralConfig(**dict(LLAMA_LIKE, vocab_size=vocab, num_key_value_heads=2,
                                      sliding_window=8)), T.MistralForCausalLM
    if name == "qwen2":
        return T.Qwen2Config(**dict(LLAMA_LIKE, vocab_size=vocab, num_key_value_heads=2,
                                    tie_word_embeddings=True)), T.Qwen2ForCausalLM
    if name == "phi":
        return T.PhiConfig(vocab_size=vocab, hidden_size=HIDDEN, intermediate_size=FFN,
                           num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                           max_position_embeddings=MAX_POS, partial_rotary_factor=0.5,
                           hidden_act="gelu_new", initializer_range=0.2, resid_pdrop=0.0,
                           embd_pdrop=0.0, bos_token_id=vocab - 1,
                           eos_token_id=vocab - 1), T.PhiForCausalLM
    if name == "gemma":
        return T.GemmaConfig(**dict(LLAMA_LIKE, vocab_size=vocab, num_key_value_heads=1,
                                    head_dim=HIDDEN // HEADS, hidden_act="gelu_pytorch_tanh",
                                    hidden_activation="gelu_pytorch_tanh", pad_token_id=0)), \
            T.GemmaForCausalLM
    raise KeyError(name)


def greedy(model, ids):
    gen = transformers.GenerationConfig(max_new_tokens=NEW_TOKENS, do_sample=False, num_beams=1,
                                        eos_token_id=None, bos_token_id=None, pad_token_id=0)
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=gen,
                             output_scores=True, return_dict_in_generate=True)
    seq = out.sequences
    assert seq.shape[1] == ids.shape[1] + NEW_TOKENS, seq.shape
    # generate's KV-cache path agrees with a plain greedy loop that recomputes the whole
    # sequence every step. (Not generate(use_cache=False): in transformers 4.40 that differs
    # from both for llama and gemma, its cache_position handling without a cache.)
    x = ids
    with torch.no_grad():
        for _ in range(NEW_TOKENS):
            logits = model(x, use_cache=False).logits[:, -1]
            x = torch.cat([x, logits.argmax(-1, keepdim=True)], 1)
    assert torch.equal(x, seq), "generate and a full-recompute greedy loop differ"
    margin = min(float(torch.topk(s[0], 2).values[0] - torch.topk(s[0], 2).values[1])
                 for s in out.scores)
    return seq, margin


def decoder_case(name, seed):
    d = os.path.join(CKPT, name)
    os.makedirs(d)
    tok = None
    vocab = VOCAB
    if name in ("qwen2", "phi"):
        tok = bpe_tokenizer(d, "Qwen2TokenizerFast" if name == "qwen2" else "CodeGenTokenizerFast")
        vocab = 320  # >= the tokenizer's 300 ids (embedding rows may outnumber tokens)
    cfg, cls = decoder_config(name, vocab)
    cfg._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = cls(cfg).eval()
    perturb(model, seed + 1)
    kw = {}
    if name == "llama_bf16":
        model = model.to(torch.bfloat16)
    if name == "llama_sharded":
        kw["max_shard_size"] = "100KB"
    model.save_pretrained(d, safe_serialization=True, **kw)
    if name == "llama_bf16":
        model = model.float()  # the BF16-rounded weights, computed in f32
    model.generation_config.eos_token_id = None
    model.generation_config.bos_token_id = None
    rng = np.random.default_rng(seed)
    texts = ["The quick brown fox", "Hello world! A tiny transformer reads"]
    cases, margins = [], []
    for i in range(2):
        if tok is not None:
            ids = tok(texts[i], return_tensors="pt")["input_ids"]
        else:
            ids = torch.from_numpy(rng.integers(3, vocab, size=(1, 5 + 3 * i), dtype=np.int64))
        seq, margin = greedy(model, ids)
        margins.append(margin)
        files = save(f"{name}.case{i}", {"prompt": ids.numpy().astype(np.int64),
                                         "tokens": seq.numpy().astype(np.int64)})
        c = {"prompt": files["prompt"], "tokens": files["tokens"],
             "min_logit_margin": float("%.4g" % margin)}
        if tok is not None:
            c["text"] = texts[i]
        cases.append(c)
    files = sorted(os.listdir(d))
    print(f"{name}: {sum(os.path.getsize(os.path.join(d, f)) for f in files) / 1024:.0f} KiB, "
          f"min logit margin {min(margins):.3g}, files {files}", flush=True)
    return {"name": name, "dir": f"checkpoints/{name}", "kind": "generate",
            "model_type": cfg.model_type, "max_new_tokens": NEW_TOKENS,
            "generation_mode": "kv-cache", "tokenizer": tok is not None,
            "weights_dtype": "bfloat16" if name == "llama_bf16" else "float32",
            "sharded": name == "llama_sharded", "kv_heads": cfg.num_key_value_heads,
            "architecture": dict(attention=LAYERS, self_attention=LAYERS, cross_attention=0,
                                 layer_norm=LAYERS + 1 if name == "phi" else 0,
                                 rms_norm=0 if name == "phi" else 2 * LAYERS + 1),
            "cases": cases}


def encoder_case(name, seed, tok_dir):
    T = transformers
    common = dict(hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                  intermediate_size=FFN, hidden_dropout_prob=0.0,
                  attention_probs_dropout_prob=0.0)
    d = os.path.join(CKPT, name)
    os.makedirs(d)
    tok, pad, token_types = None, 0, False
    if name in ("roberta", "xlm-roberta"):
        pad = 1
        cls = T.RobertaModel if name == "roberta" else T.XLMRobertaModel
        cfg_cls = T.RobertaConfig if name == "roberta" else T.XLMRobertaConfig
        vocab = VOCAB
        if name == "roberta":
            from tokenizers import ByteLevelBPETokenizer
            bpe = ByteLevelBPETokenizer()
            bpe.train_from_iterator([make_checkpoints.TEXT] * 4, vocab_size=300,
                                    min_frequency=1,
                                    special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
            bpe.save_model(d)
            tok = T.RobertaTokenizerFast(os.path.join(d, "vocab.json"),
                                         os.path.join(d, "merges.txt"))
            vocab = 320
        cfg = cfg_cls(vocab_size=vocab, max_position_embeddings=MAX_POS + 2, type_vocab_size=1,
                      pad_token_id=1, bos_token_id=0, eos_token_id=2, **common)
        model_kw = dict(add_pooling_layer=False)
    elif name == "albert":
        token_types = True
        cls = T.AlbertModel
        cfg = T.AlbertConfig(vocab_size=VOCAB, embedding_size=32, max_position_embeddings=MAX_POS,
                             type_vocab_size=2, pad_token_id=0, classifier_dropout_prob=0.0,
                             **common)
        model_kw = dict(add_pooling_layer=False)
    elif name == "electra":
        token_types = True
        cls = T.ElectraModel
        tok = T.ElectraTokenizerFast(os.path.join(tok_dir, "vocab.txt"), do_lower_case=True)
        cfg = T.ElectraConfig(vocab_size=VOCAB, embedding_size=32, max_position_embeddings=MAX_POS,
                              type_vocab_size=2, pad_token_id=0, **common)
        model_kw = {}
    else:
        raise KeyError(name)
    cfg._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = cls(cfg, **model_kw).eval()
    perturb(model, seed + 1)
    model.save_pretrained(d, safe_serialization=True)
    if tok is not None:
        tok.save_pretrained(d)
    rng = np.random.default_rng(seed)
    lengths = [11, 6]
    mask = np.zeros((2, 11), dtype=np.int64)
    for b, n in enumerate(lengths):
        mask[b, :n] = 1
    ids = np.where(mask == 1, rng.integers(3, cfg.vocab_size, size=(2, 11)), pad).astype(np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if token_types:
        tt = np.zeros((2, 11), dtype=np.int64)
        tt[:, 5:] = 1
        feeds["token_type_ids"] = tt * mask
    with torch.no_grad():
        out = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state
    files = save(name, {**feeds, "last_hidden_state": out.numpy().astype(np.float32)})
    print(f"{name}: {sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) / 1024:.0f}"
          f" KiB, files {sorted(os.listdir(d))}", flush=True)
    return {"name": name, "dir": f"checkpoints/{name}", "kind": "encoder",
            "model_type": cfg.model_type, "tokenizer": tok is not None, "lengths": lengths,
            "architecture": dict(attention=LAYERS, self_attention=LAYERS, cross_attention=0,
                                 layer_norm=2 * LAYERS + 1, rms_norm=0),
            "inputs": {k: files[k] for k in feeds},
            "outputs": {"last_hidden_state": files["last_hidden_state"]}}


def main():
    for n in DECODERS + ENCODERS:
        shutil.rmtree(os.path.join(CKPT, n), ignore_errors=True)
    shutil.rmtree(REFS, ignore_errors=True)
    os.makedirs(REFS)
    torch.set_num_threads(1)
    tmp = os.path.join(REFS, "_vocab")
    os.makedirs(tmp)
    make_checkpoints.write_vocab(os.path.join(tmp, "vocab.txt"))
    models = []
    for i, n in enumerate(DECODERS):
        models.append(decoder_case(n, 100 + 10 * i))
    for i, n in enumerate(ENCODERS):
        models.append(encoder_case(n, 200 + 10 * i, tmp))
    shutil.rmtree(tmp)
    manifest = {"generator": "tests/hf/make_arch_checkpoints.py",
                "transformers": transformers.__version__, "torch": torch.__version__,
                "tolerance": "encoders: max|out - ref| <= 1e-4 * max(1, max|ref|); "
                             "decoders: every token equal",
                "models": models}
    with open(os.path.join(REFS, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
