#!/usr/bin/env python3
"""Checks the committed ONNX corpus (tests/onnx/) for consistency.

    python3 tests/onnx/check_corpus.py          # numpy (+ onnx if present) only: CI-safe
    .venv/bin/python tests/onnx/check_corpus.py --ort   # also re-run onnxruntime

Checks: every model and reference file in manifest.json exists, each model is < 3 MB and
all references together < 4 MB, each .npy has the shape and dtype the manifest says, the
dynamic dims of each case agree with the input shapes, and (with onnx installed) each model
passes onnx.checker and its graph inputs/outputs match the manifest. With --ort, each case
is run again in onnxruntime (CPU, ORT_ENABLE_ALL) and compared with the stored outputs.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
MODEL_LIMIT = 3 * 1024 * 1024
REFS_LIMIT = 4 * 1024 * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ort", action="store_true", help="re-run every case in onnxruntime")
    a = ap.parse_args()
    manifest = json.loads((HERE / "manifest.json").read_text())
    errors = []
    try:
        import onnx
    except ImportError:
        onnx = None
    if a.ort:
        import onnxruntime as ort
    refs_total = 0
    for e in manifest["models"]:
        name = e["name"]
        path = HERE / e["model"]
        if not path.exists():
            errors.append(f"{name}: missing {path}")
            continue
        if path.stat().st_size >= MODEL_LIMIT:
            errors.append(f"{name}: {path.stat().st_size} bytes >= 3 MB")
        if onnx is not None:
            m = onnx.load(str(path))
            onnx.checker.check_model(m)
            ins = [i.name for i in m.graph.input
                   if i.name not in {t.name for t in m.graph.initializer}]
            outs = [o.name for o in m.graph.output]
            if ins != [i["name"] for i in e["inputs"]] or outs != [o["name"] for o in e["outputs"]]:
                errors.append(f"{name}: graph inputs/outputs {ins} {outs} differ from manifest")
            if m.opset_import[0].version != e["opset"]:
                errors.append(f"{name}: opset {m.opset_import[0].version} != {e['opset']}")
        dtypes = {v["name"]: v["dtype"] for v in e["inputs"] + e["outputs"]}
        sess = None
        if a.ort:
            so = ort.SessionOptions()
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        for k, case in enumerate(e["cases"]):
            arrays = {}
            for tensor, rel in case["files"].items():
                f = HERE / rel
                if not f.exists():
                    errors.append(f"{name} case{k}: missing {rel}")
                    continue
                refs_total += f.stat().st_size
                arr = np.load(f)
                arrays[tensor] = arr
                if list(arr.shape) != case["shapes"][tensor]:
                    errors.append(f"{name} case{k}: {tensor} shape {arr.shape}")
                if str(arr.dtype) != dtypes[tensor]:
                    errors.append(f"{name} case{k}: {tensor} dtype {arr.dtype}")
            for v in e["inputs"]:
                if v["name"] not in arrays:
                    continue
                for axis, d in enumerate(v["shape"]):
                    want = case["dims"].get(d, d) if isinstance(d, str) else d
                    if arrays[v["name"]].shape[axis] != want:
                        errors.append(f"{name} case{k}: {v['name']} axis {axis} != {d}={want}")
            if sess is not None:
                feeds = {v["name"]: arrays[v["name"]] for v in e["inputs"]}
                got = sess.run(None, feeds)
                tol = e["tolerance"]
                for v, g in zip(e["outputs"], got):
                    if not np.allclose(g, arrays[v["name"]], rtol=tol["rtol"], atol=tol["atol"]):
                        d = float(np.max(np.abs(g - arrays[v["name"]])))
                        errors.append(f"{name} case{k}: {v['name']} differs from ORT by {d}")
    if refs_total >= REFS_LIMIT:
        errors.append(f"references total {refs_total} bytes >= 4 MB")
    for err in errors:
        print("error:", err)
    print(f"{len(manifest['models'])} models, references {refs_total / 1024:.0f} KiB: "
          + ("FAILED" if errors else "ok"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
