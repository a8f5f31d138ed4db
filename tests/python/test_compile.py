"""tfc.compile runs the tfc executable with the options given; its report comes back."""

import os

import pytest

import tfc
from conftest import SOURCE, THREADS


def test_options_reach_the_plan(tmp_path):
    out = tmp_path / "enc.plan"
    result = tfc.compile(SOURCE / "examples/models/encoder.fbs", out, max_batch=2, max_seq=24,
                         fuse=False)
    assert result.path == out and out.exists()
    assert "--no-fuse" in result.command
    ids = tfc.Plan(out).inputs()[0]
    assert ids.bounds == {"batch": (1, 2), "seq": (1, 24)}
    symbols = {s["name"]: s["bound"] for s in result.report["symbols"]}
    assert symbols["batch"] == 2 and symbols["seq"] == 24
    # --no-fuse: no fusion fired.
    assert not any(result.report["fusions"].values())
    fused = tfc.compile(SOURCE / "examples/models/encoder.fbs", tmp_path / "fused.plan",
                        bounds={"batch": 2, "seq": 24}, report=tmp_path / "report.json")
    assert (tmp_path / "report.json").exists()
    assert fused.report["fusions"]["attention"] > 0


def test_int8_with_accuracy_report(tmp_path):
    result = tfc.compile(SOURCE / "examples/models/encoder.fbs", tmp_path / "int8.plan",
                         precision="int8", max_batch=2, max_seq=64)
    plan = tfc.Plan(result.path)
    assert plan.weight_precision == "int8"
    accuracy = result.report["accuracy"]
    assert accuracy["passed"] and accuracy["outputs"][0]["cosine"] >= 0.99
    assert "accuracy of int8" in result.log
    tfc.Session(plan, threads=THREADS)  # runs here


def test_compile_errors(tmp_path):
    out = tmp_path / "x.plan"
    with pytest.raises(tfc.CompileError) as e:
        tfc.compile(tmp_path / "missing.fbs", out)
    assert "missing.fbs" in str(e.value) and e.value.returncode != 0
    assert not out.exists()
    with pytest.raises(tfc.CompileError, match="max-seq|bound|positions"):
        tfc.compile(SOURCE / "examples/models/encoder.fbs", out, max_seq=10 ** 7)
    assert not out.exists()


def test_find_compiler(monkeypatch, tmp_path):
    assert os.access(tfc.find_compiler(), os.X_OK)
    monkeypatch.setenv("TFC_COMPILER", str(tmp_path / "nope"))
    with pytest.raises(tfc.Error, match="TFC_COMPILER") as e:
        tfc.find_compiler()
    assert e.value.code == "TFC_NOT_FOUND"
