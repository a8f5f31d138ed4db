#!/usr/bin/env python3
"""Makes the tiny checkpoints of the model.fbs 2.0 architectures and their references.

Run with a Python that has torch, transformers (4.40) and tokenizers, e.g.
    /work/main/.venv/bin/python tests/hf/make_arch_fixtures.py
It writes tests/hf/arch/<name>/ (save_pretrained, safetensors) and tests/hf/arch/refs/
(*.npy + manifest.json), read by tests/unit/hf_arch_test.cpp (HfArch.*: logits, generation,
last_hidden_state, what the import describes) and tests/unit/arch_corpus_test.cpp
(ArchCheckpoint.*: issue 11's checkpoint acceptance -- import, compile, the fusion report's
counts against the manifest's `architecture`, 32 greedy tokens through a derived KV cache,
last_hidden_state -- held to tests/hf/arch/expectations.json, which this script leaves alone:
tests/onnx/update_expectations.py rewrites it). CI only reads the committed files (no torch
needed). Random-init weights, fixed seeds, then independent noise on every parameter (so that
no norm weight is exactly 1 and no bias 0: an importer that drops or misplaces one is seen);
hidden 64, 4 heads, 2 layers, vocab 256:

  * decoders llama (BF16, 2 KV heads), mistral (BF16 in 3 shards: model.safetensors.index.json,
    2 KV heads, sliding_window 8), qwen2 (F16, 2 KV heads, q/k/v biases), phi (BF16,
    partial_rotary_factor 0.5, parallel blocks), gemma (BF16, 1 KV head, head_dim 16, tied):
    logits of a [2, 12] batch, and transformers' greedy generate (32 new tokens, no EOS) from
    two prompts; generate's KV-cache path is checked against a greedy loop that recomputes
    the whole sequence, and the smallest top-1/top-2 logit gap on each greedy path is
    recorded (`min_logit_margin`: no token is decided by a tie). llama has a Unigram
    tokenizer.json (which the runtime does not implement: the import must leave it out and
    say so); the others have no tokenizer files.
  * encoders roberta (F32, byte-level BPE tokenizer with <s> </s>), xlm-roberta (F16),
    albert (F32, embedding_size 32, layers sharing one group), electra (BF16, embedding_size
    32, ELECTRA WordPiece tokenizer): last_hidden_state of a [2, 11] batch whose second row is
    right-padded (albert and electra with token types 0 then 1); roberta and electra also the
    ids their tokenizer gives for a text.

References come from the model loaded back from the written checkpoint in float32 (the BF16 /
F16 values widened, as tfc import widens them; buffers such as rotary inv_freq recomputed in
float32, as transformers does on loading) with attn_implementation="eager".
"""
import json
import os
import shutil

import numpy as np
import torch
import transformers
from tokenizers import ByteLevelBPETokenizer, Tokenizer, models, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "arch")
REFS = os.path.join(OUT, "refs")
VOCAB = 256
ROBERTA_VOCAB = 300  # its byte-level BPE: 256 bytes, 5 special tokens, merges

TEXT = """In the beginning was the word, and the word was with the model.
The quick brown fox jumps over the lazy dog. A tiny transformer reads tokens,
attends to its past, and writes the next token. Hello world! Graph compilers fuse
layer norms, attention and matrix products into a plan that runs on the CPU.
"""

NAMES = ["llama", "mistral", "qwen2", "phi", "gemma", "roberta", "xlm-roberta", "albert",
         "electra"]

WORDS = ("the a an of to in is was and or model token word graph plan run fast slow "
         "hello world tiny test encoder decoder attention layer norm quick brown fox").split()


def save(name, arrays):
    out = {}
    for key, arr in arrays.items():
        fname = f"{name}.{key}.npy"
        np.save(os.path.join(REFS, fname), arr)
        out[key] = fname
    return out


def perturb(model, seed):
    """Independent noise on every parameter: norm weights off 1, biases off 0."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(model.named_parameters()):
            p.add_(torch.randn(p.shape, generator=g) * 0.05)


def counts(layer_norm, rms_norm):
    """The fusion report's counts the architecture must reach (2 layers of self-attention)."""
    return {"attention": 2, "self_attention": 2, "cross_attention": 0,
            "layer_norm": layer_norm, "rms_norm": rms_norm}


def greedy(model, prompt):
    """transformers' greedy generate (32 new tokens, no EOS), checked against a loop that
    recomputes the whole sequence every step, and the smallest top-1/top-2 logit gap on
    the path. (Not generate(use_cache=False): in transformers 4.40 that differs from both for
    llama and gemma, its cache_position handling without a cache.)"""
    # transformers 4.40 still stops at the model's own generation_config.eos_token_id.
    model.generation_config.eos_token_id = None
    model.generation_config.bos_token_id = None
    gen = transformers.GenerationConfig(max_new_tokens=32, do_sample=False, num_beams=1,
                                        eos_token_id=None, bos_token_id=None, pad_token_id=0)
    with torch.no_grad():
        out = model.generate(prompt, attention_mask=torch.ones_like(prompt),
                             generation_config=gen, output_scores=True,
                             return_dict_in_generate=True)
        x = prompt
        for _ in range(32):
            logits = model(x, use_cache=False).logits[:, -1]
            x = torch.cat([x, logits.argmax(-1, keepdim=True)], 1)
    seq = out.sequences
    assert seq.shape[1] == prompt.shape[1] + 32, seq.shape
    assert torch.equal(x, seq), "generate and a full-recompute greedy loop differ"
    top2 = [torch.topk(s[0], 2).values for s in out.scores]
    return seq, min(float(t[0] - t[1]) for t in top2)


def reload(cls, d):
    return cls.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager").eval()


def decoder(name, cls, cfg, dtype, arch, shard=None, tokenizer=None):
    torch.manual_seed(0)
    model = cls(cfg).eval()
    perturb(model, 1)
    d = os.path.join(OUT, name)
    kwargs = {"safe_serialization": True}
    if shard:
        kwargs["max_shard_size"] = shard
    model.to(dtype).save_pretrained(d, **kwargs)
    if tokenizer:
        tokenizer(d)
    model = reload(cls, d)
    rng = np.random.default_rng(1)
    ids = torch.tensor(rng.integers(3, VOCAB, size=(2, 12)), dtype=torch.int64)
    with torch.no_grad():
        logits = model(ids).logits.numpy().astype(np.float32)
    files = save(name, {"input_ids": ids.numpy(), "logits": logits})
    cases = []
    for i, n in enumerate((5, 9)):
        prompt = torch.tensor(rng.integers(3, VOCAB, size=(1, n)), dtype=torch.int64)
        out, margin = greedy(model, prompt)
        cf = save(f"{name}.case{i}", {"prompt": prompt.numpy(), "tokens": out.numpy()})
        cases.append({"prompt": cf["prompt"], "tokens": cf["tokens"],
                      "min_logit_margin": float("%.4g" % margin)})
    print(f"{name}: min logit margin {min(c['min_logit_margin'] for c in cases):.3g}",
          flush=True)
    return {"name": name, "dir": name, "kind": "decoder", "model_type": cfg.model_type,
            "dtype": str(dtype).split(".")[-1], "sharded": bool(shard),
            "kv_heads": cfg.num_key_value_heads, "architecture": arch,
            "inputs": {"input_ids": files["input_ids"]}, "outputs": {"logits": files["logits"]},
            "max_new_tokens": 32, "cases": cases}


def encoder(name, cls, cfg, dtype, pad_id, bos, eos, types, tokenizer=None):
    vocab = cfg.vocab_size
    torch.manual_seed(0)
    model = cls(cfg).eval()
    perturb(model, 1)
    d = os.path.join(OUT, name)
    model.to(dtype).save_pretrained(d, safe_serialization=True)
    extra = tokenizer(d) if tokenizer else {}
    model = reload(cls, d)
    rng = np.random.default_rng(2)
    ids = rng.integers(5, vocab, size=(2, 11))
    ids[:, 0] = bos
    ids[0, -1] = eos
    ids[1, 6] = eos
    ids[1, 7:] = pad_id
    mask = (np.arange(11)[None, :] < np.array([[11], [7]])).astype(np.int64)
    feeds = {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask)}
    if types:  # two segments: token type 1 from position 4 on (padding keeps 0)
        feeds["token_type_ids"] = torch.tensor((np.arange(11)[None, :] >= 4) * mask)
    with torch.no_grad():
        out = model(**feeds).last_hidden_state.numpy().astype(np.float32)
    inputs = {k: v.numpy().astype(np.int64) for k, v in feeds.items()}
    files = save(name, {**inputs, "last_hidden_state": out})
    entry = {"name": name, "dir": name, "kind": "encoder", "model_type": cfg.model_type,
             "dtype": str(dtype).split(".")[-1], "architecture": counts(5, 0),
             "inputs": {k: files[k] for k in inputs},
             "outputs": {"last_hidden_state": files["last_hidden_state"]}}
    entry.update(extra)
    return entry


def unigram_tokenizer(d):
    """A Unigram tokenizer.json (SentencePiece-like): not one the runtime implements."""
    pieces = [("<unk>", 0.0), ("<s>", 0.0), ("</s>", 0.0)] + [(w, -1.0 - i / 10)
                                                             for i, w in enumerate(WORDS)]
    tok = Tokenizer(models.Unigram(pieces, unk_id=0))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>",
                                         bos_token="<s>", eos_token="</s>").save_pretrained(d)


def text_ids(name, tok):
    """The ids `tok` gives for a text, which the imported tokenizer must reproduce."""
    text = "Hello world! The quick brown fox reads tokens."
    ids = np.array([tok(text)["input_ids"]], dtype=np.int64)
    f = save(f"{name}.text", {"ids": ids})
    return {"text": text, "text_ids": f["ids"]}


def roberta_tokenizer(d):
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([TEXT] * 4, vocab_size=ROBERTA_VOCAB, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    tmp = os.path.join(d, "_bpe")
    os.makedirs(tmp)
    bpe.save_model(tmp)
    tok = transformers.RobertaTokenizerFast(os.path.join(tmp, "vocab.json"),
                                            os.path.join(tmp, "merges.txt"))
    shutil.rmtree(tmp)
    tok.save_pretrained(d)
    return text_ids("roberta", tok)


def electra_tokenizer(d):
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789.,!?")
    vocab = list(dict.fromkeys(special + WORDS + chars))
    path = os.path.join(d, "vocab.txt")
    with open(path, "w") as f:
        f.write("\n".join(vocab) + "\n")
    tok = transformers.ElectraTokenizerFast(path, do_lower_case=True)
    tok.save_pretrained(d)
    return text_ids("electra", tok)


def main():
    # Not OUT itself: expectations.json beside the models is tests/onnx/update_expectations.py's.
    for name in NAMES + ["refs"]:
        shutil.rmtree(os.path.join(OUT, name), ignore_errors=True)
    os.makedirs(REFS)
    torch.set_num_threads(1)
    manifest = {"generator": "tests/hf/make_arch_fixtures.py",
                "transformers": transformers.__version__, "torch": torch.__version__,
                "tolerance": "logits, last_hidden_state: max|out - ref| <= 1e-4 * max(1, "
                             "max|ref|); generation: every token equal",
                "models": []}
    common = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                  num_attention_heads=4, max_position_embeddings=128, initializer_range=0.1)
    bf16, f16, f32 = torch.bfloat16, torch.float16, torch.float32
    T = transformers
    m = manifest["models"]
    m.append(decoder("llama", T.LlamaForCausalLM,
                     T.LlamaConfig(num_key_value_heads=2, rope_theta=10000.0, **common), bf16,
                     counts(0, 5),
                     tokenizer=unigram_tokenizer))
    m.append(decoder("mistral", T.MistralForCausalLM,
                     T.MistralConfig(num_key_value_heads=2, sliding_window=8, rope_theta=1e6,
                                     **common), bf16, counts(0, 5), shard="100KB"))
    m.append(decoder("qwen2", T.Qwen2ForCausalLM,
                     T.Qwen2Config(num_key_value_heads=2, tie_word_embeddings=False, **common),
                     f16, counts(0, 5)))
    m.append(decoder("phi", T.PhiForCausalLM,
                     T.PhiConfig(partial_rotary_factor=0.5, **common), bf16, counts(3, 0)))
    m.append(decoder("gemma", T.GemmaForCausalLM,
                     T.GemmaConfig(num_key_value_heads=1, head_dim=16,
                                   hidden_activation="gelu_pytorch_tanh",
                                   **dict(common, initializer_range=0.5)), bf16, counts(0, 5)))

    enc = dict(common, max_position_embeddings=66)
    m.append(encoder("roberta", T.RobertaModel,
                     T.RobertaConfig(type_vocab_size=1, pad_token_id=1, bos_token_id=0,
                                     eos_token_id=2, **dict(enc, vocab_size=ROBERTA_VOCAB)),
                     f32, 1, 0, 2, False,
                     tokenizer=roberta_tokenizer))
    m.append(encoder("xlm-roberta", T.XLMRobertaModel,
                     T.XLMRobertaConfig(type_vocab_size=1, pad_token_id=1, bos_token_id=0,
                                        eos_token_id=2, **enc), f16, 1, 0, 2, False))
    m.append(encoder("albert", T.AlbertModel,
                     T.AlbertConfig(embedding_size=32, num_hidden_groups=1, pad_token_id=0,
                                    bos_token_id=2, eos_token_id=3, **enc), f32, 0, 2, 3, True))
    m.append(encoder("electra", T.ElectraModel,
                     T.ElectraConfig(embedding_size=32, **enc), bf16, 0, 2, 3, True,
                     tokenizer=electra_tokenizer))
    with open(os.path.join(REFS, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
