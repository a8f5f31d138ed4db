#!/usr/bin/env python3
"""Writes runtime/src/text/UnicodeTables.inc from Python's unicodedata.

The tokenizers (runtime/src/text/) need, per code point: the general category, White_Space,
the full lower-case mapping (as Rust's char::to_lowercase: one code point to up to three), the
canonical decomposition (recursive, Hangul excluded: it is algorithmic; as of Unicode 12.1,
like tokenizers' NFD) and the canonical
combining class (for NFD's reordering). Everything is stored as sorted ranges or sorted pairs,
looked up by binary search (runtime/src/text/Unicode.cpp).

It also writes the three properties Hugging Face `tokenizers` takes from the Rust crate
unicode_categories 0.1.1 (BertNormalizer's control chars Cc/Cf/Co and accents Mn,
BertPreTokenizer's punctuation P*), whose tables are Unicode 8.0: the categories of the code
points assigned by 8.0 (DerivedAge.txt, Debian's unicode-data package) with the few that changed
category since (LEGACY_8_0 below), so that WordPiece matches tokenizers on newer code points too.

Usage: python3 tools/python/gen_unicode_tables.py [-o runtime/src/text/UnicodeTables.inc]
           [--derived-age /usr/share/unicode/DerivedAge.txt]
The output depends only on the Python's Unicode version (recorded in the file's header).
"""
import argparse
import os
import sys
import unicodedata

MAX = 0x110000
CATEGORIES = ["Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc",
              "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp",
              "Cc", "Cf", "Cs", "Co"]
# The White_Space property (PropList.txt); unicodedata does not expose it. Checked below
# against the categories it is made of.
WHITE_SPACE = [(0x9, 0xD), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x1680, 0x1680),
               (0x2000, 0x200A), (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F),
               (0x3000, 0x3000)]

# Unicode 8.0 categories of code points whose category changed by 14.0 (UCD history; checked
# against unicode_categories 0.1.1's tables): U+1734 Mn (Mc since 14.0), U+111C9 Po (Mn since
# 9.0), U+1885..U+1886 Lo (Mn since 9.0), U+A9BD Mc (Mn since 12.0), U+166D Po (So since 12.0).
LEGACY_8_0 = {0x1734: "Mn", 0x111C9: "Po", 0x1885: "Lo", 0x1886: "Lo", 0xA9BD: "Mc",
              0x166D: "Po"}
BERT_CLASSES = {"Pc": 1, "Pd": 1, "Ps": 1, "Pe": 1, "Pi": 1, "Pf": 1, "Po": 1, "Mn": 2,
                "Cc": 3, "Cf": 3, "Co": 3}

SBASE, LBASE, VBASE, TBASE = 0xAC00, 0x1100, 0x1161, 0x11A7
SCOUNT = 11172


def ranges(values):
    """[(first, last, value)] for the runs of equal non-None values."""
    out = []
    for cp, v in enumerate(values):
        if v is None:
            continue
        if out and out[-1][1] == cp - 1 and out[-1][2] == v:
            out[-1][1] = cp
        else:
            out.append([cp, cp, v])
    return out


def decompose(cp):
    d = unicodedata.decomposition(chr(cp))
    if not d or d.startswith("<"):
        return [cp]
    out = []
    for part in d.split():
        out.extend(decompose(int(part, 16)))
    return out


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("-o", default=os.path.join(here, "../../runtime/src/text/UnicodeTables.inc"))
    ap.add_argument("--derived-age", default="/usr/share/unicode/DerivedAge.txt",
                    help="DerivedAge.txt (apt-get install unicode-data)")
    args = ap.parse_args()

    age = {}
    with open(args.derived_age) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if not line:
                continue
            r, v = [x.strip() for x in line.split(";")]
            a, _, b = r.partition("..")
            for cp in range(int(a, 16), int(b or a, 16) + 1):
                age[cp] = tuple(map(int, v.split(".")))
    bert = []
    for cp in range(MAX):
        cat = LEGACY_8_0.get(cp, unicodedata.category(chr(cp)))
        if cat == "Co" or age.get(cp, (99,)) <= (8, 0):
            bert.append(BERT_CLASSES.get(cat))
        else:
            bert.append(None)
    bert_ranges = ranges(bert)

    cats = [CATEGORIES.index(unicodedata.category(chr(cp))) for cp in range(MAX)]
    cat_ranges = ranges([c if c != 0 else None for c in cats])

    ws = set()
    for a, b in WHITE_SPACE:
        ws.update(range(a, b + 1))
    derived = {cp for cp in range(MAX) if unicodedata.category(chr(cp)) in ("Zs", "Zl", "Zp")}
    derived.update(range(0x9, 0xE))
    derived.add(0x85)
    assert ws == derived, "White_Space list out of date for this Unicode version"

    # Lower case, one char at a time (no Final_Sigma context: a lone char).
    lower_single = []  # (cp, delta) for 1:1 mappings
    lower_multi = []   # (cp, [cps]) for 1:n mappings
    for cp in range(MAX):
        if 0xD800 <= cp < 0xE000:
            continue
        low = chr(cp).lower()
        if low == chr(cp):
            continue
        if len(low) == 1:
            lower_single.append((cp, ord(low) - cp))
        else:
            assert len(low) <= 3
            lower_multi.append((cp, [ord(c) for c in low]))
    # Runs with the same delta and stride 1 or 2 (Latin Extended alternates upper/lower).
    lower_runs = []  # [first, last, stride, delta]
    for cp, delta in lower_single:
        if lower_runs:
            r = lower_runs[-1]
            stride = cp - r[1]
            if r[3] == delta and (r[0] == r[1] and stride in (1, 2) or stride == r[2]):
                r[1], r[2] = cp, stride
                continue
        lower_runs.append([cp, cp, 1, delta])

    decomp = []
    for cp in range(MAX):
        if SBASE <= cp < SBASE + SCOUNT:
            continue
        d = decompose(cp)
        # tokenizers' NFD (crate unicode-normalization-alignments) predates Unicode 13.0: leave
        # out the decompositions of later code points (only U+11938 DIVES AKURU VOWEL SIGN O).
        if d != [cp] and age.get(cp, (99,)) <= (12, 1):
            decomp.append((cp, d))
    assert max(len(d) for _, d in decomp) <= 4
    ccc = ranges([unicodedata.combining(chr(cp)) or None for cp in range(MAX)])

    # Check the decompositions against unicodedata's NFD.
    assert len(decomp) == 2060, len(decomp)
    for cp, d in decomp:
        s = unicodedata.normalize("NFD", chr(cp))
        assert sorted(map(ord, s)) == sorted(d), hex(cp)

    lines = []
    w = lines.append
    w("// Generated by tools/python/gen_unicode_tables.py from Python %s's unicodedata:"
      % sys.version.split()[0])
    w("// Unicode %s (kBertClassRanges: Unicode 8.0, from %s). Do not edit."
      % (unicodedata.unidata_version, os.path.basename(args.derived_age)))
    w("// clang-format off")
    w("#define TFC_UNICODE_VERSION \"%s\"" % unicodedata.unidata_version)
    w("")
    w("// General category of each assigned code point: {first, last, category} (Category enum")
    w("// order: %s); code points not listed are Cn." % " ".join(CATEGORIES))
    w("static const CategoryRange kCategoryRanges[] = {")
    for a, b, c in cat_ranges:
        w("{0x%X,0x%X,%d}," % (a, b, c))
    w("};")
    w("")
    w("// White_Space: {first, last}.")
    w("static const CodeRange kWhiteSpaceRanges[] = {")
    for a, b in WHITE_SPACE:
        w("{0x%X,0x%X}," % (a, b))
    w("};")
    w("")
    w("// Simple lower case: {first, last, stride, delta}: cp in [first, last] with")
    w("// (cp - first) % stride == 0 maps to cp + delta.")
    w("static const LowerRun kLowerRuns[] = {")
    for a, b, s, d in lower_runs:
        w("{0x%X,0x%X,%d,%d}," % (a, b, s, d))
    w("};")
    w("// Lower case to several code points: {cp, {to...}} (0-terminated).")
    w("static const LowerMulti kLowerMulti[] = {")
    for cp, low in lower_multi:
        w("{0x%X,{%s}}," % (cp, ",".join("0x%X" % c for c in low + [0] * (3 - len(low)))))
    w("};")
    w("")
    w("// Full canonical decomposition (recursive; Hangul syllables excluded; code points of")
    w("// Unicode 12.1, as tokenizers' NFD): {cp, {to...}}.")
    w("static const Decomposition kDecompositions[] = {")
    for cp, d in decomp:
        w("{0x%X,{%s}}," % (cp, ",".join("0x%X" % c for c in d + [0] * (4 - len(d)))))
    w("};")
    w("")
    w("// Canonical combining class (non-zero): {first, last, class}.")
    w("static const CategoryRange kCombiningClassRanges[] = {")
    for a, b, c in ccc:
        w("{0x%X,0x%X,%d}," % (a, b, c))
    w("};")
    w("")
    w("// tokenizers' BERT properties (unicode_categories 0.1.1: Unicode 8.0 plus the private use")
    w("// planes): {first, last, class}, class 1 = P*, 2 = Mn, 3 = Cc/Cf/Co.")
    w("static const CategoryRange kBertClassRanges[] = {")
    for a, b, c in bert_ranges:
        w("{0x%X,0x%X,%d}," % (a, b, c))
    w("};")
    with open(args.o, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s: %d category ranges, %d lower runs, %d multi, %d decompositions, %d ccc, %d bert"
          % (args.o, len(cat_ranges), len(lower_runs), len(lower_multi), len(decomp), len(ccc),
             len(bert_ranges)))


if __name__ == "__main__":
    main()
