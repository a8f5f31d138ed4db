"""make_bench_model.py -- write a benchmark-sized encoder model.fbs with random weights.

    python3 tools/bench/make_bench_model.py minilm OUT.fbs    # 6 layers, 384, 12 heads, FFN 1536
    python3 tools/bench/make_bench_model.py bert-base OUT.fbs # 12 layers, 768, 12 heads, FFN 3072
    python3 tools/bench/make_bench_model.py gpt2 OUT.fbs      # GPT-2 small: a causal decoder

The encoders are BERT-style (post-LN, GELU-erf, learned positions, token types, embedding norm),
vocab 30522, 512 positions. gpt2 is GPT-2 small's geometry as a model.fbs decoder (12 layers,
768, 12 heads, FFN 3072, pre-LN, GELU-tanh, learned positions, tied embeddings, final norm,
vocab 50257, 1024 positions). Weights are random (fixed seed): these models exist to be timed,
not to be right. The files are large (90 MB, 440 MB, 500 MB) and are not committed;
tools/bench/cpu_encoder.sh and tools/bench/backend_seam_bench.sh make them.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))

from tfc_model import ModelWriter  # noqa: E402
from make_models import Gen, vocabulary  # noqa: E402

GEOMETRIES = {
    "minilm": dict(num_layers=6, d_model=384, num_heads=12, d_ff=1536),
    "bert-base": dict(num_layers=12, d_model=768, num_heads=12, d_ff=3072),
}

GPT2 = dict(family="Decoder", num_layers=12, d_model=768, num_heads=12, d_ff=3072,
            vocab_size=50257, max_positions=1024, norm_placement="Pre", activation="GeluTanh",
            position_encoding="Learned", tied_embeddings=True, final_norm=True,
            layer_norm_epsilon=1e-5)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in list(GEOMETRIES) + ["gpt2"]:
        sys.exit("usage: make_bench_model.py {%s|gpt2} OUT.fbs" % "|".join(GEOMETRIES))
    if sys.argv[1] == "gpt2":
        w = ModelWriter(name="gpt2", **GPT2)
        g = Gen(w, seed=1234)
        g.embeddings(GPT2)
        g.stack("decoder", GPT2["num_layers"], GPT2)  # tied: no lm_head.weight
        w.set_special_tokens(start=50256, end=50256, unk=50256, pad=50256)
        w.save(sys.argv[2])
        return
    h = dict(family="Encoder", vocab_size=30522, max_positions=512, norm_placement="Post",
             activation="GeluErf", position_encoding="Learned", type_vocab_size=2,
             embedding_norm=True, layer_norm_epsilon=1e-12, **GEOMETRIES[sys.argv[1]])
    w = ModelWriter(name=sys.argv[1], **h)
    g = Gen(w, seed=1234)
    g.embeddings(h)
    g.stack("encoder", h["num_layers"], h)
    w.set_special_tokens(start=101, end=102, unk=100, pad=0)
    w.save(sys.argv[2])


if __name__ == "__main__":
    main()
