"""ct2_generate.py -- the CTranslate2 peer of tools/bench/generate_bench.py (own venv).

    python ct2_generate.py convert HF_DIR CT2_DIR
    python ct2_generate.py run CT2_DIR PROMPT.npy NEW_TOKENS THREADS REPEATS [COMPUTE_TYPE]

convert: ctranslate2's TransformersConverter from the local save_pretrained directory, fp32.
(ctranslate2 4.8 calls from_pretrained(..., dtype=...); with transformers 4.40 that keyword
is torch_dtype, so load_model renames it.)

run: Generator(device="cpu", compute_type=COMPUTE_TYPE (default float32; bfloat16, int8, ...:
CTranslate2 converts the float32 model at load), intra_threads=THREADS, inter_threads=1);
greedy generate_batch(beam_size=1, sampling_topk=1, include_prompt_in_result=False,
max_length=N, min_length=N: exactly N new tokens, no end-token stop, like the other peers).
Per repeat it times a prefill-only call (max_length=min_length=1: the prompt pass and the
first token) and the full call (N tokens), alternating; decode time = full - prefill (the
N - 1 decode steps), decode tokens/s = batch * (N - 1) / decode time; the process CPU time of
both calls too (prefill_cpu_s, full_cpu_s: tools/bench/decode_cpu.py). Prints one JSON line
with the per-repeat numbers and the first row's tokens.
"""
import json
import sys
import time

import numpy as np


def convert(hf_dir, out_dir):
    import ctranslate2.converters as C

    class Converter(C.TransformersConverter):
        def load_model(self, model_class, path, **kwargs):
            if "dtype" in kwargs:
                kwargs["torch_dtype"] = kwargs.pop("dtype")
            return model_class.from_pretrained(path, **kwargs)

    Converter(hf_dir).convert(out_dir, quantization="float32", force=True)


def run(ct2_dir, prompt_path, n, threads, repeats, compute_type="float32"):
    import ctranslate2
    gen = ctranslate2.Generator(ct2_dir, device="cpu", compute_type=compute_type,
                                intra_threads=threads, inter_threads=1)
    prompt = np.load(prompt_path)
    toks = [["t%d" % int(i) for i in row] for row in prompt]

    def call(length):
        t0, c0 = time.perf_counter(), time.process_time()
        r = gen.generate_batch(toks, max_length=length, min_length=length, beam_size=1,
                               sampling_topk=1, include_prompt_in_result=False)
        return time.perf_counter() - t0, time.process_time() - c0, r

    call(n)  # warm-up
    out = []
    for _ in range(repeats):
        tp, cp, _ = call(1)
        tf, cf, r = call(n)
        out.append(dict(prefill_s=tp, full_s=tf, prefill_cpu_s=cp, full_cpu_s=cf,
                        decode_tok_s=len(toks) * (n - 1) / (tf - tp)))
    ids = r[0].sequences_ids[0]
    print(json.dumps(dict(repeats=out, tokens_row0=[int(i) for i in ids],
                          n_generated=len(ids), version=ctranslate2.__version__)))


if __name__ == "__main__":
    if sys.argv[1] == "convert":
        convert(sys.argv[2], sys.argv[3])
    else:
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]),
            sys.argv[7] if len(sys.argv) > 7 else "float32")
