"""Session.run: the same floats as tfrun on the same plan and inputs, the PyTorch references of
tests/e2e/refs within their tolerance, inputs read in place and outputs not copied."""

import numpy as np
import pytest

import tfc
from conftest import SOURCE, THREADS, load_json, npy, tfrun

REFS = SOURCE / "tests" / "e2e" / "refs"
MANIFEST = load_json(REFS / "manifest.json")
MODELS = {m["name"]: m for m in MANIFEST["models"]}


def case_inputs(model, case):
    return {name: npy(REFS / spec["file"]) for name, spec in case["inputs"].items()}


@pytest.mark.parametrize("name", ["encoder", "classifier", "decoder", "encdec"])
def test_run_matches_tfrun_and_reference(name, plans, tmp_path):
    model = MODELS[name]
    plan = tfc.Plan(plans(model["model"], max_batch=3))
    session = tfc.Session(plan, threads=THREADS)
    tol = MANIFEST["tolerance"]
    for case in model["cases"]:
        inputs = case_inputs(model, case)
        outputs = session.run(inputs)
        assert list(outputs) == [p.name for p in plan.outputs()]
        # tfrun on the same plan and .npy inputs: bit for bit the same floats.
        out_dir = tmp_path / f"{name}.{case['name']}"
        args = [plan.path, "--threads", THREADS, "--output-dir", out_dir]
        for input_name, spec in case["inputs"].items():
            args += ["--input", f"{input_name}={REFS / spec['file']}"]
        tfrun(*args)
        for out_name, spec in case["outputs"].items():
            got = outputs[out_name]
            assert got.dtype == np.dtype(spec["dtype"]) and list(got.shape) == spec["shape"]
            assert np.array_equal(got, npy(out_dir / f"{out_name}.npy")), (name, case["name"])
            # The independent reference (PyTorch, examples/make_models.py).
            ref = npy(REFS / spec["file"])
            np.testing.assert_allclose(got, ref, atol=tol["atol"], rtol=tol["rtol"],
                                       err_msg=f"{name} {case['name']} {out_name}")


def test_inputs_in_place_and_outputs_not_copied(plans):
    model = MODELS["encoder"]
    session = tfc.Session(plans(model["model"], max_batch=3), threads=THREADS)
    inputs = case_inputs(model, model["cases"][2])
    outputs = session.run(inputs)
    addresses = session.last_input_addresses()
    assert addresses == [a.__array_interface__["data"][0] for a in inputs.values()]
    hidden = outputs["last_hidden_state"]
    assert not hidden.flags.owndata and hidden.base is not None  # the runtime's buffer
    assert hidden.flags.c_contiguous and hidden.dtype == np.float32
    # The buffer outlives the session and later runs (each run has its own outputs).
    first = hidden.copy()
    session.run(case_inputs(model, model["cases"][3]))
    del session
    assert np.array_equal(hidden, first)


def test_copies_only_what_it_must(plans):
    """A non-contiguous array is copied (same result), a list becomes the input's dtype."""
    model = MODELS["encoder"]
    session = tfc.Session(plans(model["model"], max_batch=3), threads=THREADS)
    inputs = case_inputs(model, model["cases"][2])
    expected = session.run(inputs)["last_hidden_state"]
    strided = {k: np.asfortranarray(v) for k, v in inputs.items()}
    assert not strided["input_ids"].flags.c_contiguous
    assert np.array_equal(session.run(strided)["last_hidden_state"], expected)
    lists = {k: v.tolist() for k, v in inputs.items()}
    assert np.array_equal(session.run(lists)["last_hidden_state"], expected)


def test_describe(plans):
    plan = tfc.Plan(plans("examples/models/encoder.fbs", max_batch=3, max_seq=40))
    assert plan.family == "encoder" and plan.target == "cpu" and plan.precision == "fp32"
    assert plan.functions == ["forward"]
    ports = {p.name: p for p in plan.inputs()}
    assert list(ports) == ["input_ids", "attention_mask", "token_type_ids"]
    ids = ports["input_ids"]
    assert ids.dtype == np.int64 and ids.kind == "ids" and ids.id_bound > 0
    assert ids.shape == ("batch", "seq") and ids.bounds == {"batch": (1, 3), "seq": (1, 40)}
    assert ports["attention_mask"].kind == "mask"
    (hidden,) = plan.outputs()
    assert hidden.name == "last_hidden_state" and hidden.dtype == np.float32
    assert hidden.shape[:2] == ("batch", "seq") and isinstance(hidden.shape[2], int)
    assert not plan.has_tokenizer and plan.generation is None
    described = plan.describe()
    assert described["functions"]["forward"]["arena_bytes"] > 0
    # The same signature as tfrun --describe prints.
    text = tfrun(plan.path, "--describe")
    for name in ports:
        assert name in text
    assert "batch" in text and "40" in text


def test_run_releases_the_gil(minilm_plan):
    """While a long run computes in one thread, Python code keeps running in another: the main
    thread's loop (which needs the GIL) never stalls for the length of the run."""
    import threading
    import time
    session = tfc.Session(minilm_plan, threads=1)
    ids = np.full((10, 256), 1037, dtype=np.int64)
    inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids),
              "token_type_ids": np.zeros_like(ids)}
    span = {}

    def work():
        span["start"] = time.perf_counter()
        session.run(inputs)
        span["end"] = time.perf_counter()
    worker = threading.Thread(target=work)
    ticks = []
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
        sum(range(2000))  # pure Python: needs the GIL
    worker.join()
    duration = span["end"] - span["start"]
    inside = [t for t in ticks if span["start"] <= t <= span["end"]]
    gaps = np.diff([span["start"], *inside, span["end"]])
    assert duration > 0.2, duration  # long enough for a stall to show
    assert len(inside) >= 10 and gaps.max() < duration / 2, (duration, len(inside), gaps.max())
