"""torch_bert_latency.py -- p50 latency of a random-init Hugging Face BertModel in PyTorch.

    python torch_bert_latency.py LAYERS HIDDEN HEADS FFN BATCH SEQ THREADS ITERATIONS

Run by onnx_vs_ort.py with the PyTorch 2 interpreter of .venv-export (Debian's torch 1.13 uses a
generic reference BLAS here, about 2 GFLOP/s, which would not be a fair peer). Prints `p50_ms=X`.
"""
import statistics
import sys
import time

import torch
from transformers import BertConfig, BertModel

layers, hidden, heads, ffn, batch, seq, threads, iterations = map(int, sys.argv[1:9])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = BertModel(BertConfig(vocab_size=30522, max_position_embeddings=512, num_hidden_layers=layers,
                             hidden_size=hidden, num_attention_heads=heads,
                             intermediate_size=ffn)).eval()
ids = torch.randint(1000, 30000, (batch, seq))
mask = torch.ones(batch, seq, dtype=torch.int64)
times = []
with torch.no_grad():
    for i in range(iterations + 3):
        t0 = time.perf_counter()
        model(ids, attention_mask=mask)
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1e3)
print("p50_ms=%.4f torch=%s" % (statistics.median(times), torch.__version__))
