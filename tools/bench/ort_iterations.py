"""ort_iterations.py -- one ONNX Runtime process for whole_process.py: N runs of a BERT-style
export, nothing printed.

    python ort_iterations.py MODEL.onnx N THREADS input_ids.npy attention_mask.npy token_type_ids.npy

InferenceSession with ORT_ENABLE_ALL, intra_op_num_threads=THREADS, inter_op 1, sequential
execution, CPU provider (the settings of onnx_vs_ort.py); N calls of run(["last_hidden_state"]).
"""
import sys

import numpy as np
import onnxruntime as ort


def main():
    model, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    feed = {"input_ids": np.load(sys.argv[4]), "attention_mask": np.load(sys.argv[5]),
            "token_type_ids": np.load(sys.argv[6])}
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    for _ in range(n):
        sess.run(["last_hidden_state"], feed)


if __name__ == "__main__":
    main()
