"""The acceptance check: after `pip install .`, `python -c "import tfc; ..."` gives the
all-MiniLM-L6-v2 sentence embeddings of `tfrun --embed`, the same floats; and the embeddings
agree with sentence-transformers' (tests/hf/minilm, cosine >= 0.9999)."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import tfc
from conftest import SOURCE, THREADS, load_json, npy, tfrun

REFS = SOURCE / "tests" / "hf" / "minilm"
SENTENCES = [s["text"] for s in load_json(REFS / "sentences.json")]
TOKENS = load_json(REFS / "tokens.json")


def pick_texts():
    """Ten sentences of every category, a long one (truncated to 256) among them."""
    cats = load_json(REFS / "sentences.json")
    seen, texts = set(), []
    for s in cats:
        if s["category"] not in seen:
            seen.add(s["category"])
            texts.append(s["text"])
    return texts[:10]


def tfrun_embeddings(plan_path, texts, tmp_path):
    out = tmp_path / "tfrun-embed"
    args = [plan_path, "--embed", "--threads", THREADS, "--output-dir", out]
    for t in texts:
        args += ["--text", t]
    tfrun(*args)
    return npy(out / "embeddings.npy")


def test_python_c_embeddings_equal_tfrun(minilm_plan, tmp_path):
    texts = pick_texts()
    long = [t["untruncated_length"] > 256 for s, t in zip(SENTENCES, TOKENS) if s in texts]
    assert any(long)  # a text truncated to 256 tokens is among them
    expected = tfrun_embeddings(minilm_plan, texts, tmp_path)
    out = tmp_path / "python-embed.npy"
    code = ("import sys, numpy, tfc; "
            "s = tfc.Session(tfc.Plan(sys.argv[1]), threads=int(sys.argv[2])); "
            "numpy.save(sys.argv[3], s.embed(sys.argv[4:]))")
    subprocess.run([sys.executable, "-W", "ignore", "-c", code, str(minilm_plan), str(THREADS),
                    str(out), *texts], check=True)
    got = npy(out)
    assert got.dtype == np.float32 and got.shape == expected.shape == (len(texts), 384)
    assert np.array_equal(got, expected)  # the same floats, bit for bit


def test_embed_warns_on_truncation_and_matches_sentence_transformers(minilm_plan):
    session = tfc.Session(minilm_plan, threads=THREADS)
    ref = npy(REFS / "embeddings.npy")
    worst = 1.0
    for start in range(0, len(SENTENCES), 10):
        batch = SENTENCES[start:start + 10]
        truncated = [t["untruncated_length"] > len(t["ids"]) for t in TOKENS[start:start + 10]]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = session.embed(batch)
        assert len([w for w in caught if "truncated to 256" in str(w.message)]) == sum(truncated)
        norms = np.linalg.norm(got.astype(np.float64), axis=1)
        np.testing.assert_allclose(norms, 1.0, atol=1e-6)
        cos = (got.astype(np.float64) * ref[start:start + 10]).sum(1) / np.linalg.norm(
            ref[start:start + 10].astype(np.float64), axis=1) / norms
        worst = min(worst, cos.min())
    assert worst >= 0.9999, worst


def test_tokenizer_matches_hugging_face(minilm_plan):
    plan = tfc.Plan(minilm_plan)
    assert plan.has_tokenizer
    for text, ref in zip(SENTENCES, TOKENS):
        assert plan.tokenize(text).tolist() == ref["ids"]
        assert plan.count_tokens(text) == ref["untruncated_length"]
    ids = plan.tokenize("Hello, World! A sentence.")
    assert ids[0] == 101 and ids[-1] == 102  # [CLS] ... [SEP]
    assert plan.detokenize(ids) == "hello, world! a sentence."
    assert "[CLS]" in plan.detokenize(ids, skip_special=False)
    assert plan.tokenize("hello", add_special=False).tolist() == ids[1:2].tolist()


def test_embed_errors(plans, minilm_plan):
    session = tfc.Session(minilm_plan, threads=THREADS)
    with pytest.raises(tfc.Error, match="no texts"):
        session.embed([])
    with pytest.raises(tfc.Error, match="11|batch"):
        session.embed(["a"] * 11)  # the plan's batch bound is 10
    encoder = tfc.Session(plans("examples/models/encoder.fbs"), threads=THREADS)
    with pytest.raises(tfc.Error, match="tokenizer") as e:
        encoder.embed(["a"])
    assert e.value.code == "TFC_UNSUPPORTED"
