#!/usr/bin/env python3
"""Writes tests/tokenizer/corpus.jsonl: >= 2000 seeded, varied lines (one JSON string a line)
for the tokenizer tests: mixed case, accents (composed and decomposed), CJK, emoji (ZWJ
sequences too), punctuation runs, numbers, long words, odd white space (tabs, runs, U+00A0,
U+3000, zero-width), control chars, apostrophes, Cyrillic, Greek, Arabic, Devanagari, Hangul;
then lines of random code points of every script; then lines around added and special tokens
([MASK], <|endoftext|>, the extra added tokens of make_refs.py: at starts and ends, adjacent,
inside words, repeated, partial like "<|endof" and "[MASK", in other cases, next to word
characters of every kind and to white space).

Standard library only. Usage:
  python3 tests/tokenizer/make_corpus.py [-o corpus.jsonl] [-n 2200] [--fuzz 300] [--added 300]
"""
import argparse
import json
import os
import random
import unicodedata

WORDS = ("the quick brown fox jumps over lazy dog tokenizer runtime graph compiled inference "
         "transformer attention layer norm embedding vocabulary merge piece byte level model "
         "king james said unto them and it came to pass that devil dictionary cynic "
         "running runner ran unbelievable internationalization hello world data science "
         "New York Paris London Zürich Ångström café naïve résumé coöperate façade").split()
CONTRACTIONS = ["it's", "don't", "we're", "they've", "I'm", "you'll", "he'd", "can't",
                "O'Neil", "rock'n'roll", "'quoted'", "''", "'S", "'LL", "y'all", "isn't"]
CYRILLIC = "Привет мир съешь же ещё этих мягких французских булок Ёлка"
GREEK = "Γειά σου Κόσμε ΟΔΥΣΣΕΥΣ ὅτι ἐν ἀρχῇ ἦν ὁ λόγος Σίσυφος"
ARABIC = "مرحبا بالعالم اللغة العربية ٣٤٥ كتاب"
DEVANAGARI = "नमस्ते दुनिया हिन्दी भाषा क्षत्रिय १२३"
HANGUL = "안녕하세요 세계 한국어 토크나이저"
CJK = "中文分词测试你好世界東京都日本語のテキスト漢字𠀀𪚥"
THAI = "สวัสดีชาวโลก"
EMOJI = ["😀", "👍🏽", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "❤️", "🇫🇷", "🤖", "🥰", "✨",
         "🧑🏿\u200d💻", "1️⃣", "☕"]
PUNCT = ["...", "!!!", "?!", "--", "—", "–", "«", "»", "“", "”", "‘", "’", "(", ")", "[", "]",
         "{", "}", "<", ">", "/", "\\", "@", "#", "$", "%", "^", "&", "*", "_", "=", "+", "|",
         "~", "`", ";", ":", ",", "¿", "¡", "§", "¶", "•", "…", "‰", "€", "£", "¥", "©", "®",
         "°", "±", "×", "÷", "→", "∑", "√", "∞", "、", "。", "「", "」", "·", "‐"]
SPACES = [" ", "  ", "\t", "\u00a0", "\u3000", "\u200b", "\u2009", "\u202f", "   ", "\u2028",
          "\n", "\r\n", " \t ", "\u1680", "\u205f", "\ufeff", "\u200d", "\u00ad"]
CONTROLS = ["\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\x0b", "\x0c", "\x1f", "\ufffd",
            "\ue000", "\u061c", "\u200e"]
SPECIALS = ["[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]", "[cls]", "<|endoftext|>"]
ACCENTED = ["é", "è", "ê", "ë", "ñ", "ç", "ü", "ø", "å", "ÿ", "İ", "ı", "ß", "ẞ", "Ǆ", "ǅ",
            "ﬁ", "Ω", "Å", "K", "ḯ", "ṩ", "ǻ", "ŉ", "ǰ", "ΐ"]


def rand_number(r):
    k = r.randrange(6)
    if k == 0:
        return str(r.randrange(10 ** r.randrange(1, 12)))
    if k == 1:
        return "%.*f" % (r.randrange(1, 5), r.uniform(-1e4, 1e4))
    if k == 2:
        return "%d,%03d,%03d" % (r.randrange(1000), r.randrange(1000), r.randrange(1000))
    if k == 3:
        return "%de%d" % (r.randrange(100), r.randrange(-9, 9))
    if k == 4:
        return r.choice(["½", "²", "Ⅻ", "٣", "१२", "①", "〇", "𝟙𝟚"])
    return "v%d.%d.%d" % (r.randrange(10), r.randrange(30), r.randrange(100))


def rand_word(r):
    k = r.randrange(14)
    if k < 5:
        w = r.choice(WORDS)
        c = r.randrange(4)
        return w.upper() if c == 0 else w.capitalize() if c == 1 else w
    if k == 5:
        return r.choice(CONTRACTIONS)
    if k == 6:
        w = r.choice(WORDS)
        i = r.randrange(len(w) + 1)
        return w[:i] + r.choice(ACCENTED) + w[i:]
    if k == 7:  # decomposed accents
        return unicodedata.normalize("NFD", r.choice(["Crème brûlée", "Ærøskøbing", "Dvořák",
                                                        "Łódź", "Ελληνικά", "Ñandú", "ḯ"]))
    if k == 8:
        return rand_number(r)
    if k == 9:
        script = r.choice([CYRILLIC, GREEK, ARABIC, DEVANAGARI, HANGUL, THAI])
        return r.choice(script.split())
    if k == 10:
        i = r.randrange(len(CJK))
        return CJK[i:i + r.randrange(1, 6)]
    if k == 11:
        return "".join(r.choice(EMOJI) for _ in range(r.randrange(1, 4)))
    if k == 12:
        return "".join(r.choice(PUNCT) for _ in range(r.randrange(1, 5)))
    return r.choice(["http://example.com/a?b=c&d=e", "user@example.org", "C++17", "x86_64",
                     "snake_case_name", "CamelCaseName", "#hashtag", "@mention", "$HOME",
                     "tfc::text::Tokenizer", "a.b.c", "e.g.", "U.S.A.", "3:45pm", "50%"])


def rand_line(r, n):
    kind = n % 10
    if kind == 9:  # long words (> 100 chars), some with accents or digits
        base = r.choice(["a", "ab", "xyz", "é", "supercalifragilistic", "0123456789", "ünï"])
        w = (base * (120 // len(base) + 1))[: r.randrange(95, 140)]
        return " ".join([rand_word(r), w, rand_word(r)])
    parts = []
    for _ in range(r.randrange(1, 14)):
        parts.append(rand_word(r))
        x = r.random()
        if x < 0.65:
            parts.append(" ")
        elif x < 0.8:
            parts.append(r.choice(SPACES))
        elif x < 0.88:
            parts.append(r.choice(PUNCT))
        elif x < 0.93:
            parts.append(r.choice(CONTROLS))
        elif x < 0.96:
            parts.append(r.choice(SPECIALS))
        else:
            parts.append("")
    line = "".join(parts)
    if kind == 1:
        line = "  " + line
    elif kind == 2:
        line = line + "   "
    elif kind == 3:
        line = line.upper()
    elif kind == 4:
        line = " " + line
    return line


def fuzz_lines(r, count):
    """Lines of random assigned code points (any script, marks, controls, private use, code
    points newer than tokenizers' Unicode tables) mixed with ASCII, spaces and apostrophes."""
    assigned = [cp for cp in range(0x110000)
                if unicodedata.category(chr(cp)) not in ("Cn", "Cs")]
    ascii_ = [chr(c) for c in range(0x20, 0x7F)]
    out = []
    for _ in range(count):
        parts = []
        for _ in range(r.randrange(1, 30)):
            k = r.random()
            if k < 0.35:
                parts.append(chr(r.choice(assigned)))
            elif k < 0.6:
                parts.append(" ")
            elif k < 0.75:
                parts.append(r.choice(["'s", "'ll", " '", "  ", "\t", "\u00a0", "\u3000", "\u0085"]))
            else:
                parts.append("".join(r.choice(ascii_) for _ in range(r.randrange(1, 6))))
        out.append("".join(parts))
    return out


# Added and special tokens (make_refs.py's WordPiece, BPE and *_added configurations) and near
# misses: other cases, partial tokens, tokens inside longer ones.
ADDED = ["[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]", "<|endoftext|>", "<mask>", "<sep2>",
         "[ENT]", "ing", "\u6771\u4eac", "C++", "<|end", "hello world", "Hello", "quick", "\u00e9",
         "\U0001F916"]
NEAR = ["[mask]", "[Mask]", "[MASK", "MASK]", "[ MASK ]", "[[MASK]]", "<|endof", "endoftext|>",
        "<|endoftext|", "<|ENDOFTEXT|>", "<MASK>", "<mask", "mask>", "[ent]", "[Ent]", "ING",
        "Ing", "\u6771\u4eac\u90fd", "C++17", "xC++", "<|end|>", "HELLO", "hello", "Quick",
        "quickly", "cafe\u0301", "caf\u00e9", "\u00c9", "[CLS][SEP]", "<sep>", "<sep2",
        "hello  world", "Hello World"]
# Characters next to a token: word characters of every kind Rust's \w knows (letters, marks,
# digits, Nl, Pc, join controls, circled letters) and ones it does not (No, punctuation, space).
NEIGHBOURS = ["a", "Z", "_", "1", "\u0663", "\u216b", "\u203f", "\u0301", "\u200d", "\u24d0",
              "\U0001F130", "\u00b2", ".", "-", "'", "(", ")", "\u00e9", "\u4e2d", "\U0001F600",
              " ", "  ", "\t", "\n", "\u00a0", "\u3000", "\u2009", "\u200b", "\x00", "\x7f"]


def added_line(r):
    parts = []
    for _ in range(r.randrange(1, 10)):
        k = r.random()
        if k < 0.4:
            piece = r.choice(ADDED) * r.choice([1, 1, 1, 2, 3])
        elif k < 0.6:
            piece = r.choice(NEAR)
        elif k < 0.8:
            piece = rand_word(r)
        else:
            piece = r.choice(NEIGHBOURS)
        parts.append(piece)
        x = r.random()
        parts.append("" if x < 0.35 else " " if x < 0.7 else r.choice(NEIGHBOURS + SPACES))
    line = "".join(parts)
    kind = r.randrange(6)
    if kind == 0:
        line = line.upper()
    elif kind == 1:
        line = r.choice(SPACES) + line + r.choice(SPACES)
    return line


def added_lines(count, seed):
    """Lines with added and special tokens: a fixed list, then random ones."""
    fixed = ["Hello<|endoftext|>World", "[MASK]", "Hello [MASK] world", "[MASK][MASK]",
             "[MASK] [MASK]", "<|endoftext|>", "<|endoftext|><|endoftext|>", " <|endoftext|> ",
             "a<|endoftext|>b<|endoftext|>", "<|endof", "[MASK", "MASK]", "[mask] [Mask] [MASK]",
             "un[MASK]able", "x<mask>y", "x   <mask>   y", "\u3000<mask>\t", "a<mask><mask>b",
             "<sep2>", "a \t<sep2>\u00a0 b", "a<sep2>b", "sing ing ing. ing_ ing1 (ing) \u00e9ing",
             "ing\u0301 \u0301ing \u200ding ing\u200c \u24d0ing \u00b2ing \u216bing \u0663ing "
             "\u203fing \U0001F130ing ing\U0001F600",
             "[ENT] [ent] [Ent]x", "\u6771\u4eac\u90fd \u6771\u4eac \u4eac\u6771",
             "C++ C++17 xC++ (C++) C++.", "<|end <|endoftext|> <|end|> <|endof",
             "hello world helloworld Hello World hello  world", "Hello Hello HELLO hello",
             "quick quickly Quick _quick quick_", "\u00e9 caf\u00e9 cafe\u0301 \u00c9",
             "\U0001F916\U0001F916 x\U0001F916y", "<|endoftext|>[SEP]<mask>[MASK]",
             "[CLS] [SEP] [UNK] [PAD] [MASK] <|endoftext|> <mask> <sep2> [ENT] ing C++ <|end",
             "<mask> <mask>  <mask>", "<sep2>  <sep2><sep2>   x", "<<|endoftext|>>", "[[MASK]]"]
    r = random.Random(seed)
    return fixed + [added_line(r) for _ in range(count - len(fixed))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               "corpus.jsonl"))
    ap.add_argument("-n", type=int, default=2200)
    ap.add_argument("--fuzz", type=int, default=300, help="lines of random code points")
    ap.add_argument("--added", type=int, default=300, help="lines with added/special tokens")
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()
    r = random.Random(args.seed)
    fixed = ["", " ", "Hello, world!", "Hello world", " Hello world", "hello  world",
             "I'm here; you're there, they've gone, we'll see, he'd know, it's 's 't 're.",
             "UNwant\u00e9d,running", "Caf\u00e9 cafe\u0301 CAF\u00c9", "\u4e2d\u6587 and English",
             "a\tb\nc\r\nd", "   leading and trailing   ", "\u00a0nbsp\u00a0 \u3000ideographic",
             "zero\u200bwidth\u200djoin\ufeffbom", "[CLS] already [SEP] in text [UNK] [PAD] [MASK]",
             "x" * 101, "x" * 100, "\u0130stanbul \u0131\u015f\u0131k", "\u03a3\u0399\u03a3\u03a5\u03a6\u039f\u03a3",
             "\U0001F468\u200d\U0001F469\u200d\U0001F467 family", "\x00\x01\x02ctrl\x7f", "!!!???...",
             "1234567890 3.14159 1,000,000", "don't DON'T Don't", "\ufffd replacement",
             # code points whose class differs between Unicode 14 and tokenizers' Unicode 8.0
             # tables (P*, Mn, Cf) or NFD (U+11938): see tools/python/gen_unicode_tables.py
             "new\U0001144Bdanda dogra\U00011832mark arabic\u08e2ayah ogham\u166dx",
             "hanunoo\u1734x sharada\U000111c9x mongolian\u1885\u1886x java\ua9bdx",
             "dives\U00011938akuru pound\u0890mark egypt\U00013430x newa\U0001145bx",
             "\u1734\U000111c9\u166d \U0001144B\U0001144C \u08e2."]
    lines = fixed + [rand_line(r, i) for i in range(args.n - len(fixed))]
    lines += fuzz_lines(r, args.fuzz)
    lines += added_lines(args.added, args.seed + 1)
    with open(args.o, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    print("wrote %s: %d lines" % (args.o, len(lines)))


if __name__ == "__main__":
    main()
