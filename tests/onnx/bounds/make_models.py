#!/usr/bin/env python3
"""Builds the small ONNX models of tests/onnx/bounds/ (symbol bounds, ranks) and their
numpy references.

Run from the repository root: .venv/bin/python tests/onnx/bounds/make_models.py
Needs only onnx and numpy (Debian's python3-onnx 1.12 is enough); CI reads the committed
files. The models are hand-built with onnx.helper, so each one has exactly the feature a
test needs:

  pos_table96.onnx    a learned position table of 96 rows (a float initializer, so a run-time
                      weight) sliced by the sequence length `src_len`; the batch dim is named
                      `batch_size` (as sentence-transformers exports name it)
  position_ids96.onnx a BERT-style int64 `position_ids` buffer of 96 entries sliced by `seq`
                      at import time, then gathered from a 128-row position table
  rank9.onnx          an input of rank 9 (the runtime supports at most 8)

References (refs/, numpy, computed here independently of the model file): the outputs of
pos_table96 and position_ids96 for a batch of 2 x 96 token ids.
"""
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
WIDTH = 8
VOCAB = 50


def save(model, name):
    onnx.checker.check_model(model)
    onnx.save(model, str(HERE / name))


def i64(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def f32(name, array):
    return numpy_helper.from_array(array.astype(np.float32), name)


def seq_len_nodes(ids, out):
    """out = Shape(ids)[1:2] (the sequence length as a 1-D tensor)."""
    return [helper.make_node("Shape", [ids], ["shape"], name="shape"),
            helper.make_node("Slice", ["shape", "one", "two"], [out], name="len")]


def main():
    rng = np.random.default_rng(7)
    tok = rng.standard_normal((VOCAB, WIDTH)).astype(np.float32)
    pos96 = rng.standard_normal((96, WIDTH)).astype(np.float32)
    pos128 = rng.standard_normal((128, WIDTH)).astype(np.float32)
    proj = rng.standard_normal((WIDTH, WIDTH)).astype(np.float32)

    # pos_table96: out = (tok[ids] + pos[:S]) @ proj
    nodes = [helper.make_node("Gather", ["tok", "input_ids"], ["e"], name="tokens")]
    nodes += seq_len_nodes("input_ids", "n")
    nodes += [helper.make_node("Slice", ["pos", "zero", "n", "zero"], ["p"], name="positions"),
              helper.make_node("Add", ["e", "p"], ["h"], name="add"),
              helper.make_node("MatMul", ["h", "proj"], ["out"], name="proj")]
    graph = helper.make_graph(
        nodes, "pos_table96",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "src_len"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT,
                                       ["batch_size", "src_len", WIDTH])],
        [f32("tok", tok), f32("pos", pos96), f32("proj", proj),
         i64("zero", [0]), i64("one", [1]), i64("two", [2])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
         "pos_table96.onnx")

    # position_ids96: out = tok[ids] + pos128[position_ids[:, :S]]
    nodes = [helper.make_node("Gather", ["tok", "input_ids"], ["e"], name="tokens")]
    nodes += seq_len_nodes("input_ids", "n")
    nodes += [helper.make_node("Slice", ["position_ids", "zero", "n", "one"], ["pid"],
                               name="take_ids"),
              helper.make_node("Gather", ["pos", "pid"], ["p"], name="positions"),
              helper.make_node("Add", ["e", "p"], ["out"], name="add")]
    graph = helper.make_graph(
        nodes, "position_ids96",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", "seq", WIDTH])],
        [f32("tok", tok), f32("pos", pos128), i64("position_ids", [list(range(96))]),
         i64("zero", [0]), i64("one", [1]), i64("two", [2])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
         "position_ids96.onnx")

    # rank9: out = Relu(x), x of rank 9.
    dims = ["batch"] + [1] * 7 + [4]
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["out"], name="relu")], "rank9",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, dims)])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "rank9.onnx")

    # References at the full 96 positions.
    refs = HERE / "refs"
    refs.mkdir(exist_ok=True)
    ids = rng.integers(0, VOCAB, size=(2, 96), dtype=np.int64)
    np.save(refs / "input_ids.npy", ids)
    np.save(refs / "pos_table96.out.npy", (tok[ids] + pos96[None, :96]) @ proj)
    np.save(refs / "position_ids96.out.npy", tok[ids] + pos128[None, :96])


if __name__ == "__main__":
    main()
