"""Fixtures of the Python package's tests: the tools of the build under test, and plans compiled
once per session through tfc.compile (which runs that build's tfc)."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

SOURCE = Path(os.environ.get("TFC_SOURCE_DIR", Path(__file__).resolve().parents[2]))
TFRUN = os.environ.get("TFC_TFRUN", str(SOURCE / "build" / "bin" / "tfrun"))
MINILM = SOURCE / "build" / "models" / "all-MiniLM-L6-v2"
THREADS = 2


def tfrun(*args, cwd=None):
    """Runs this build's tfrun; its stdout (the test fails with its output when it fails)."""
    proc = subprocess.run([TFRUN, *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, cwd=cwd)
    out = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0, f"tfrun {' '.join(map(str, args))} failed:\n{out}"
    return out


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def plans(tmp_path_factory):
    """Compiles a model of the repository once: plans("examples/models/encoder.fbs",
    max_batch=3) -> the plan's path."""
    import tfc
    cache = {}
    root = tmp_path_factory.mktemp("plans")

    def make(model, **options):
        key = (model, tuple(sorted(options.items())))
        if key not in cache:
            path = root / f"{Path(model).stem}.{len(cache)}.plan"
            tfc.compile(SOURCE / model, path, **options)
            cache[key] = path
        return cache[key]
    return make


@pytest.fixture(scope="session")
def minilm_plan(plans):
    assert (MINILM / "model.safetensors").exists(), (
        f"{MINILM} is missing: tools/setup.sh installs it (tools/get_minilm.sh)")
    return plans("build/models/all-MiniLM-L6-v2", max_batch=10, max_seq=256)


def npy(path):
    return np.load(path, allow_pickle=False)
