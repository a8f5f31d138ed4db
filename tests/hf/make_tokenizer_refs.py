#!/usr/bin/env python3
"""Writes tests/hf/refs/tokenizer_refs.json: what Hugging Face `tokenizers` (0.19.1) gives with
the tokenizer.json of each checkpoint of tests/hf/checkpoints for texts that hold special and
added tokens ([MASK], <|endoftext|>, partial ones, other cases) and a NUL character: the ids
(with the special tokens the post-processor adds) and the decoded ids, with special tokens
skipped and kept. hf_import_test compares the tokenizer of the compiled plans (C API) with it.

Needs only `tokenizers`: /path/to/venv/bin/python tests/hf/make_tokenizer_refs.py
"""
import json
import os

import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
TEXTS = {
    "bert": ["Hello [MASK] world", "the quick [MASK] fox [SEP] jumps[MASK][MASK]",
             "hello [mask] [Mask] [MASK", "a [UNK] b [PAD] c [CLS]", "un[MASK]able", "\u0000abc"],
    "gpt2": ["Hello<|endoftext|>World", "<|endoftext|>the quick<|endoftext|><|endoftext|>",
             "<|endof the word", " <|endoftext|> x <|ENDOFTEXT|>", "\u0000abc"],
}
TEXTS["distilbert"] = TEXTS["bert"]


def main():
    out = {"tokenizers_version": tokenizers.__version__, "models": {}}
    for name, texts in TEXTS.items():
        tok = Tokenizer.from_file(os.path.join(HERE, "checkpoints", name, "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        cases = []
        for text in texts:
            ids = tok.encode(text).ids
            cases.append({"text": text, "ids": ids,
                          "decode": tok.decode(ids, skip_special_tokens=True),
                          "decode_keep": tok.decode(ids, skip_special_tokens=False)})
        out["models"][name] = cases
    path = os.path.join(HERE, "refs", "tokenizer_refs.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
