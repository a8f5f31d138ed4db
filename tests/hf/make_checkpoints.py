#!/usr/bin/env python3
"""Makes the tiny Hugging Face checkpoints of tests/hf/ and their reference outputs.

Run with a Python that has torch, transformers (4.40) and safetensors, e.g.
    /path/to/.venv-export/bin/python tests/hf/make_checkpoints.py
It writes tests/hf/checkpoints/{bert,distilbert,gpt2}/ (save_pretrained, safetensors, with
tokenizer files) and tests/hf/refs/*.npy + tests/hf/refs/manifest.json:
  * bert, distilbert: last_hidden_state on two inputs (a padded batch of 2);
  * gpt2: model.generate greedy, 32 new tokens, no EOS (eos_token_id None: no stop, no
    suppression), from two prompts (one each).
Random-init weights with fixed seeds; CI only reads the committed outputs (no torch needed).
"""
import json
import os
import shutil

import numpy as np
import torch
import transformers
from tokenizers import ByteLevelBPETokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
CKPT = os.path.join(HERE, "checkpoints")
REFS = os.path.join(HERE, "refs")

TEXT = """In the beginning was the word, and the word was with the model.
The quick brown fox jumps over the lazy dog. A tiny transformer reads tokens,
attends to its past, and writes the next token. Hello world! Graph compilers fuse
layer norms, attention and matrix products into a plan that runs on the CPU.
Numbers like 1234 and 56.78 are split into pieces; punctuation: commas, dots; quotes "x".
"""

WORDS = ("the a an of to in is was and or model token word graph plan run fast slow "
         "hello world tiny test encoder decoder attention layer norm quick brown fox "
         "jump ##s ##ed ##ing ##er ##ly un ##able re ##do play ##ful caf ##e").split()


def save(name, arrays):
    out = {}
    for key, arr in arrays.items():
        fname = f"{name}.{key}.npy"
        np.save(os.path.join(REFS, fname), arr)
        out[key] = fname
    return out


def write_vocab(path):
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(ord("a"), ord("z") + 1)] + list("0123456789.,!?'\"-")
    vocab = list(dict.fromkeys(special + WORDS + chars + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]))
    with open(path, "w") as f:
        f.write("\n".join(vocab) + "\n")
    return len(vocab)


def encoder_case(name, model_cls, config, tok_dir):
    torch.manual_seed(0)
    model = model_cls(config).eval()
    d = os.path.join(CKPT, name)
    model.save_pretrained(d, safe_serialization=True)
    tok = transformers.BertTokenizerFast(os.path.join(tok_dir, "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(d)
    texts = ["Hello world, the quick brown fox jumps!", "A tiny model plays."]
    enc = tok(texts, padding=True, return_tensors="pt")
    feeds = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    if name == "bert":
        feeds["token_type_ids"] = enc["token_type_ids"]
    with torch.no_grad():
        out = model(**feeds).last_hidden_state.numpy().astype(np.float32)
    inputs = {k: v.numpy().astype(np.int64) for k, v in feeds.items()}
    files = save(name, {**inputs, "last_hidden_state": out})
    return {"name": name, "dir": f"checkpoints/{name}", "kind": "encoder", "texts": texts,
            "inputs": {k: files[k] for k in inputs}, "outputs": {"last_hidden_state": files["last_hidden_state"]}}


def main():
    # Only this script's checkpoints (and the scratch vocabulary of an interrupted run).
    for name in ("bert", "distilbert", "gpt2", "_vocab"):
        shutil.rmtree(os.path.join(CKPT, name), ignore_errors=True)
    shutil.rmtree(REFS, ignore_errors=True)
    os.makedirs(CKPT, exist_ok=True)
    os.makedirs(REFS)
    manifest = {"transformers": transformers.__version__, "torch": torch.__version__, "models": []}

    tmp = os.path.join(CKPT, "_vocab")
    os.makedirs(tmp)
    vocab_size = write_vocab(os.path.join(tmp, "vocab.txt"))

    bert_cfg = transformers.BertConfig(vocab_size=vocab_size, hidden_size=64, num_hidden_layers=2,
                                       num_attention_heads=4, intermediate_size=128,
                                       max_position_embeddings=64, type_vocab_size=2)
    manifest["models"].append(encoder_case("bert", transformers.BertModel, bert_cfg, tmp))
    db_cfg = transformers.DistilBertConfig(vocab_size=vocab_size, dim=64, n_layers=2, n_heads=4,
                                           hidden_dim=128, max_position_embeddings=64)
    manifest["models"].append(encoder_case("distilbert", transformers.DistilBertModel, db_cfg, tmp))
    shutil.rmtree(tmp)

    # GPT-2 with a small byte-level BPE trained on TEXT.
    d = os.path.join(CKPT, "gpt2")
    os.makedirs(d)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([TEXT] * 4, vocab_size=300, min_frequency=1,
                            special_tokens=["<|endoftext|>"])
    bpe.save_model(d)  # vocab.json + merges.txt
    tok = transformers.GPT2TokenizerFast(os.path.join(d, "vocab.json"), os.path.join(d, "merges.txt"))
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=len(tok), n_positions=128, n_embd=64, n_layer=2, n_head=4, initializer_range=0.3,
                            bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    model = transformers.GPT2LMHeadModel(cfg).eval()
    model.save_pretrained(d, safe_serialization=True)
    tok.save_pretrained(d)
    # No EOS anywhere (generate falls back to the model's own generation_config for it).
    model.generation_config.eos_token_id = None
    model.generation_config.bos_token_id = None
    prompts = ["The quick brown fox", "Hello world! A tiny transformer reads"]
    cases = []
    for i, p in enumerate(prompts):
        ids = tok(p, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            # Plain greedy with no EOS at all (min_new_tokens would instead mask EOS's logit).
            gen = transformers.GenerationConfig(max_new_tokens=32, do_sample=False, num_beams=1,
                                                eos_token_id=None, bos_token_id=None,
                                                pad_token_id=tok.eos_token_id)
            out = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=gen)
        assert out.shape[1] == ids.shape[1] + 32, out.shape
        files = save(f"gpt2.case{i}", {"prompt": ids.numpy().astype(np.int64),
                                       "tokens": out.numpy().astype(np.int64)})
        cases.append({"text": p, "prompt": files["prompt"], "tokens": files["tokens"]})
    manifest["models"].append({"name": "gpt2", "dir": "checkpoints/gpt2", "kind": "generate",
                               "max_new_tokens": 32, "cases": cases})
    with open(os.path.join(REFS, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
