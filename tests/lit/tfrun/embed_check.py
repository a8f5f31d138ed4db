"""embed_check.py TFRUN PLAN SENTENCES.json EMBEDDINGS.npy OUT_DIR -- tfrun --embed vs references.

Runs `TFRUN PLAN --embed --text S1 --text S2 ...` over every sentence of SENTENCES.json (the
sentence-transformers fixtures of tests/hf/minilm), reads OUT_DIR/embeddings.npy and exits 1
unless every sentence's cosine similarity with the reference embedding is >= 0.9999.
"""
import json
import subprocess
import sys

import numpy as np

tfrun, plan, sentences, reference, out_dir = sys.argv[1:6]
texts = [s["text"] for s in json.load(open(sentences, encoding="utf-8"))]
cmd = [tfrun, plan, "--embed", "--threads", "2", "--output-dir", out_dir]
for t in texts:
    cmd += ["--text", t]
r = subprocess.run(cmd, capture_output=True, text=True)
if r.returncode != 0:
    sys.exit("tfrun failed: " + r.stderr)
got = np.load(out_dir + "/embeddings.npy").astype(np.float64)
want = np.load(reference).astype(np.float64)
if got.shape != want.shape:
    sys.exit("shape %s, expected %s" % (got.shape, want.shape))
cos = (got * want).sum(1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
print("%d sentences: lowest cosine %.8f (sentence %d)" % (len(texts), cos.min(), int(cos.argmin())))
sys.exit(0 if cos.min() >= 0.9999 else 1)
