"""Bad input raises tfc.Error (a RuntimeError) carrying the runtime's message and code."""

import numpy as np
import pytest

import tfc
from conftest import SOURCE, THREADS, npy

REFS = SOURCE / "tests" / "e2e" / "refs" / "encoder"


@pytest.fixture(scope="module")
def encoder(plans):
    return tfc.Session(plans("examples/models/encoder.fbs", max_batch=3, max_seq=40),
                       threads=THREADS)


@pytest.fixture
def inputs():
    return {name: npy(REFS / f"case2.{name}.npy")
            for name in ("input_ids", "attention_mask", "token_type_ids")}


def test_error_is_a_runtime_error():
    assert issubclass(tfc.Error, RuntimeError) and issubclass(tfc.CompileError, tfc.Error)


def test_missing_plan(tmp_path):
    path = tmp_path / "nothere.plan"
    with pytest.raises(tfc.Error) as e:
        tfc.Plan(path)
    assert str(path) in str(e.value)
    assert e.value.code in ("TFC_NOT_FOUND", "TFC_IO_ERROR")


def test_corrupt_plan(plans, tmp_path):
    good = plans("examples/models/encoder.fbs", max_batch=3, max_seq=40).read_bytes()
    bad = tmp_path / "bad.plan"
    bad.write_bytes(good[: len(good) // 3])
    with pytest.raises(tfc.Error) as e:
        tfc.Plan(bad)
    assert e.value.code == "TFC_INVALID_PLAN" and str(bad) in str(e.value)
    bad.write_bytes(b"not a plan at all" * 10)
    with pytest.raises(tfc.Error) as e:
        tfc.Plan(bad)
    assert e.value.code in ("TFC_INVALID_PLAN", "TFC_VERSION_MISMATCH")


def test_unknown_input_name(encoder, inputs):
    inputs["input_idz"] = inputs.pop("input_ids")
    with pytest.raises(tfc.Error, match="input_idz") as e:
        encoder.run(inputs)
    assert e.value.code in ("TFC_NOT_FOUND", "TFC_INVALID_ARGUMENT")


def test_missing_input(encoder, inputs):
    del inputs["attention_mask"]
    with pytest.raises(tfc.Error, match="attention_mask"):
        encoder.run(inputs)


def test_wrong_dtype(encoder, inputs):
    inputs["input_ids"] = inputs["input_ids"].astype(np.int32)  # the plan takes int64
    with pytest.raises(tfc.Error, match="input_ids") as e:
        encoder.run(inputs)
    assert e.value.code == "TFC_INVALID_ARGUMENT"
    assert "i32" in str(e.value) and "i64" in str(e.value)
    inputs["input_ids"] = inputs["input_ids"].astype(np.float64)  # no tfc dtype at all
    with pytest.raises(tfc.Error, match="float64") as e:
        encoder.run(inputs)
    assert e.value.code == "TFC_INVALID_ARGUMENT"


def test_wrong_shape(encoder, inputs):
    inputs["attention_mask"] = inputs["attention_mask"][:, :-1]  # seq differs from input_ids
    with pytest.raises(tfc.Error, match="attention_mask"):
        encoder.run(inputs)
    with pytest.raises(tfc.Error, match="input_ids"):
        encoder.run({**inputs, "input_ids": inputs["input_ids"].reshape(-1)})  # rank 1


def test_beyond_the_bounds(encoder):
    ids = np.ones((1, 41), dtype=np.int64)  # compiled with max_seq=40
    with pytest.raises(tfc.Error) as e:
        encoder.run({"input_ids": ids, "attention_mask": ids, "token_type_ids": ids * 0})
    assert e.value.code == "TFC_OUT_OF_RANGE" and "40" in str(e.value)


def test_id_outside_the_table(encoder, inputs):
    inputs["input_ids"] = inputs["input_ids"].copy()
    inputs["input_ids"][0, 0] = 10 ** 6
    with pytest.raises(tfc.Error, match="input_ids") as e:
        encoder.run(inputs)
    assert e.value.code == "TFC_OUT_OF_RANGE"


def test_unknown_function(encoder, inputs):
    with pytest.raises(tfc.Error, match="decode_step") as e:
        encoder.run(inputs, function="decode_step")
    assert e.value.code == "TFC_NOT_FOUND"


def test_bad_session_options(plans):
    plan = tfc.Plan(plans("examples/models/encoder.fbs", max_batch=3, max_seq=40))
    with pytest.raises(tfc.Error, match="thread") as e:
        tfc.Session(plan, threads=100000)
    assert e.value.code == "TFC_INVALID_ARGUMENT"
    with pytest.raises(tfc.Error) as e:
        tfc.Session(plan, device="tpu")
    assert "tpu" in str(e.value)


def test_inputs_must_be_a_dict(encoder, inputs):
    with pytest.raises(TypeError):
        encoder.run(list(inputs.values()))


def test_no_tokenizer(plans):
    plan = tfc.Plan(plans("examples/models/encoder.fbs", max_batch=3, max_seq=40))
    with pytest.raises(tfc.Error, match="tokenizer") as e:
        plan.tokenize("hello")
    assert e.value.code == "TFC_UNSUPPORTED"
