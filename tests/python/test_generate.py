"""Session.generate: a token iterator equal, token for token, to tfrun --generate on the same
plan and to the PyTorch greedy references of tests/generation."""

import threading

import numpy as np
import pytest

import tfc
from conftest import SOURCE, THREADS, load_json, npy, tfrun

GEN = SOURCE / "tests" / "generation"
CASES = {c["name"]: c for c in load_json(GEN / "manifest.json")["cases"]}


def tfrun_tokens(plan, tmp_path, *args):
    out = tmp_path / "tfrun-generate"
    tfrun(plan.path, "--generate", "--threads", THREADS, "--output-dir", out, *args)
    return npy(out / "tokens.npy")


@pytest.mark.parametrize("name", list(CASES))
def test_greedy_matches_reference_and_tfrun(name, plans, tmp_path):
    """The four cases of tests/generation (model.fbs and ONNX, decoders and encoder-decoders):
    a batch of two prompts, the model's other inputs given, 64 new tokens, no eos."""
    case = CASES[name]
    plan = tfc.Plan(plans(case["source"], max_batch=4))
    session = tfc.Session(plan, threads=THREADS)
    files = {k: GEN / v for k, v in case["inputs"].items()}
    prompts = npy(files[case["token_input"]])
    fixed = {k: npy(f) for k, f in files.items() if k != case["token_input"]}
    expected = npy(GEN / case["expected_tokens"])  # float64 PyTorch greedy loop
    n = case["new_tokens"]
    gen = session.generate(prompts, inputs=fixed, max_new_tokens=n, eos_id=-1)
    per_row = gen.tokens()  # the streamed (row, token) pairs, grouped by row
    for r in range(len(prompts)):
        assert per_row[r] == expected[r, prompts.shape[1]:].tolist(), (name, r)
        assert np.array_equal(gen.sequences[r], expected[r])
    assert gen.stats["generated_tokens"] == n * len(prompts)
    flags = [x for k, f in files.items() for x in ("--input", f"{k}={f}")]
    assert np.array_equal(
        tfrun_tokens(plan, tmp_path, *flags, "--max-new-tokens", n, "--eos-id", -1), expected)


def test_text_prompt_streams_like_tfrun(plans, tmp_path):
    """chargpt: a text prompt through the character vocabulary, the plan's <END> as eos."""
    plan = tfc.Plan(plans("examples/models/chargpt.fbs"))
    session = tfc.Session(plan, threads=THREADS)
    prompt = "In the beginning"
    streamed = list(session.generate(prompt, max_new_tokens=60))
    assert streamed and all(isinstance(t, int) for t in streamed)
    ref = tfrun_tokens(plan, tmp_path, "--text", prompt, "--max-new-tokens", 60)
    start = plan.info["start_id"]
    assert ref[0, 0] == start
    assert ref[0, 1:1 + len(prompt)].tolist() == [
        next(i for i in range(plan.vocabulary_size) if plan.token(i) == c) for c in prompt]
    got = np.concatenate([plan.encode_chars(prompt), streamed])
    assert np.array_equal(got, ref[0, :len(got)])
    # tfrun pads past an <END> with the eos id: nothing else may follow.
    assert (ref[0, len(got):] == plan.info["end_id"]).all()


@pytest.mark.parametrize("strategy,options,flags", [
    ("sample", dict(temperature=0.8, top_k=20, seed=7),
     ["--temperature", 0.8, "--top-k", 20, "--seed", 7]),
    ("sample", dict(top_p=0.9, seed=3), ["--top-p", 0.9, "--seed", 3]),
    ("beam", dict(beam_width=3, length_penalty=0.7),
     ["--beam-width", 3, "--length-penalty", 0.7]),
])
def test_strategies_match_tfrun(plans, tmp_path, strategy, options, flags):
    plan = tfc.Plan(plans("examples/models/chargpt.fbs", max_batch=6))
    session = tfc.Session(plan, threads=THREADS)
    prompts = ["And God said", "The LORD"]
    gen = session.generate(prompts, max_new_tokens=40, strategy=strategy, **options)
    per_row = gen.tokens()
    ref = tfrun_tokens(plan, tmp_path, "--text", prompts[0], "--text", prompts[1],
                       "--max-new-tokens", 40, "--strategy", strategy, *flags)
    for r, prompt in enumerate(prompts):
        got = np.concatenate([plan.encode_chars(prompt), per_row[r]])
        assert np.array_equal(got, ref[r, :len(got)]), (strategy, r)
        assert np.array_equal(gen.sequences[r], got)


def test_close_stops_the_generation(plans):
    plan = tfc.Plan(plans("examples/models/chargpt.fbs"))
    session = tfc.Session(plan, threads=THREADS)
    room = plan.generation["max_length"] - 2
    full = session.generate([plan.info["start_id"]], max_new_tokens=room, eos_id=-1).tokens()
    with session.generate([plan.info["start_id"]], max_new_tokens=room, eos_id=-1) as gen:
        first = [next(gen) for _ in range(3)]
    assert first == full[:3]
    assert gen.finished
    kept = gen.sequences[0][1:].tolist()
    assert kept == full[:len(kept)]  # a prefix: stopped at a token, never garbled
    # The session is free again.
    assert session.generate([plan.info["start_id"]], max_new_tokens=5, eos_id=-1).tokens() \
        == full[:5]


def test_session_shared_by_threads(plans):
    """Calls on one session from several Python threads wait for each other."""
    plan = tfc.Plan(plans("examples/models/chargpt.fbs"))
    session = tfc.Session(plan, threads=1)
    start = plan.info["start_id"]
    expected = session.generate([start], max_new_tokens=30, eos_id=-1).tokens()
    results, errors = [], []

    def worker():
        try:
            for _ in range(3):
                results.append(session.generate([start], max_new_tokens=30, eos_id=-1).tokens())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [expected] * 9


def test_generation_errors(plans):
    plan = tfc.Plan(plans("examples/models/chargpt.fbs"))
    session = tfc.Session(plan, threads=THREADS)
    too_long = [plan.info["start_id"]] * (plan.generation["max_length"] + 1)
    gen = session.generate(too_long, max_new_tokens=4)
    with pytest.raises(tfc.Error) as e:
        list(gen)
    assert "prompt" in str(e.value).lower() or "length" in str(e.value).lower()
    with pytest.raises(tfc.Error, match="strategy"):
        session.generate("x", strategy="nucleus")
    encoder = tfc.Session(plans("examples/models/encoder.fbs"), threads=THREADS)
    with pytest.raises(tfc.Error, match="does not generate"):
        encoder.generate([1, 2, 3])
