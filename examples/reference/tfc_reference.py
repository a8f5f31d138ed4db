"""tfc_reference.py -- an independent PyTorch reference of the four model
families of docs/MODEL_FORMAT.md.

    from tfc_reference import run, input_names, output_name
    outputs = run(hparams, weights, {"input_ids": ids, "attention_mask": mask})

`hparams` is the dict returned by tools/python/tfc_model.read_model (enum
fields as schema names, e.g. "Post", "GeluErf"; integers are accepted too),
`weights` maps the names of the weight-naming convention to numpy arrays with
the stored ([in, out]) layout.  Everything is computed in float64; the output
is returned as float32.

This file follows the manual only; it deliberately does not mirror any tfc
graph or IR.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

_ENUMS = {
    "family": ["Encoder", "Decoder", "EncoderDecoder", "Classifier"],
    "norm_placement": ["Post", "Pre"],
    "activation": ["Relu", "GeluErf", "GeluTanh"],
    "position_encoding": ["Sinusoidal", "Learned"],
    "pooling": ["None", "Mean", "FirstToken"],
}

DTYPE = torch.float64


def _hp(hparams):
    """Normalise enum fields to names."""
    h = dict(hparams)
    for k, names in _ENUMS.items():
        v = h.get(k)
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
            h[k] = names[int(v)]
    return h


def input_names(hparams):
    h = _hp(hparams)
    fam = h["family"]
    if fam in ("Encoder", "Classifier"):
        names = ["input_ids", "attention_mask"]
        if h.get("type_vocab_size", 0) > 0:
            names.append("token_type_ids")
        return names
    if fam == "Decoder":
        return ["input_ids"]
    if fam == "EncoderDecoder":
        return ["src_ids", "src_mask", "tgt_ids"]
    raise ValueError("unknown family %r" % fam)


def output_name(hparams):
    return {"Encoder": "last_hidden_state", "Decoder": "logits",
            "EncoderDecoder": "logits", "Classifier": "probs"}[_hp(hparams)["family"]]


class _Model:
    def __init__(self, hparams, weights):
        self.h = _hp(hparams)
        self.w = {k: torch.from_numpy(np.asarray(v, dtype=np.float64).copy())
                  for k, v in weights.items()}
        self.used = set()
        self.d = self.h["d_model"]
        self.nh = self.h["num_heads"]
        assert self.d % self.nh == 0
        self.eps = float(self.h["layer_norm_epsilon"])

    def W(self, name):
        self.used.add(name)
        return self.w[name]

    def has(self, name):
        return name in self.w

    # -- primitives ---------------------------------------------------------

    def linear(self, x, prefix):
        y = x @ self.W(prefix + ".weight")
        return y + self.W(prefix + ".bias")

    def ln(self, x, prefix):
        return F.layer_norm(x, (self.d,), self.W(prefix + ".weight"),
                            self.W(prefix + ".bias"), self.eps)

    def act(self, x):
        a = self.h["activation"]
        if a == "Relu":
            return F.relu(x)
        if a == "GeluErf":
            return F.gelu(x, approximate="none")
        if a == "GeluTanh":
            return F.gelu(x, approximate="tanh")
        raise ValueError("unknown activation %r" % a)

    def ffn(self, x, prefix):
        return self.linear(self.act(self.linear(x, prefix + ".up")), prefix + ".down")

    def mha(self, xq, xkv, prefix, visible):
        """visible: bool tensor broadcastable to [batch, heads, q, k];
        True where the query may attend to the key."""
        b, tq, _ = xq.shape
        tk = xkv.shape[1]
        nh, dh = self.nh, self.d // self.nh
        q = self.linear(xq, prefix + ".q").reshape(b, tq, nh, dh).permute(0, 2, 1, 3)
        k = self.linear(xkv, prefix + ".k").reshape(b, tk, nh, dh).permute(0, 2, 1, 3)
        v = self.linear(xkv, prefix + ".v").reshape(b, tk, nh, dh).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)  # [b, nh, tq, tk]
        scores = scores.masked_fill(~visible, float("-inf"))
        p = torch.softmax(scores, dim=-1)
        if torch.isnan(p).any():
            raise ValueError("a query sees no key (fully masked row)")
        o = torch.matmul(p, v)  # [b, nh, tq, dh]
        o = o.permute(0, 2, 1, 3).reshape(b, tq, self.d)
        return self.linear(o, prefix + ".o")

    # -- embeddings ---------------------------------------------------------

    def positions(self, seq):
        if seq > self.h["max_positions"]:
            raise ValueError("sequence of %d exceeds max_positions %d"
                             % (seq, self.h["max_positions"]))
        if self.h["position_encoding"] == "Learned":
            return self.W("embeddings.position")[:seq]
        d = self.d
        assert d % 2 == 0
        p = torch.arange(seq, dtype=DTYPE)[:, None]
        i2 = torch.arange(0, d, 2, dtype=DTYPE)[None, :]
        angle = p / torch.pow(torch.tensor(10000.0, dtype=DTYPE), i2 / d)
        pe = torch.zeros(seq, d, dtype=DTYPE)
        pe[:, 0::2] = torch.sin(angle)
        pe[:, 1::2] = torch.cos(angle)
        return pe

    def embed(self, ids, type_ids=None):
        seq = ids.shape[1]
        e = self.W("embeddings.token")[ids] * float(self.h["embedding_scale"])
        e = e + self.positions(seq)[None]
        if self.h.get("type_vocab_size", 0) > 0:
            if type_ids is None:
                raise ValueError("token_type_ids required")
            e = e + self.W("embeddings.token_type")[type_ids]
        if self.h["embedding_norm"]:
            e = self.ln(e, "embeddings.norm")
        return e

    # -- stacks -------------------------------------------------------------

    def block(self, x, prefix, self_visible, memory=None, mem_visible=None):
        pre = self.h["norm_placement"] == "Pre"
        if pre:
            a = self.ln(x, prefix + ".self_attn_norm")
            h = x + self.mha(a, a, prefix + ".self_attn", self_visible)
            if memory is not None:
                c = self.ln(h, prefix + ".cross_attn_norm")
                h = h + self.mha(c, memory, prefix + ".cross_attn", mem_visible)
            return h + self.ffn(self.ln(h, prefix + ".ffn_norm"), prefix + ".ffn")
        h = self.ln(x + self.mha(x, x, prefix + ".self_attn", self_visible),
                    prefix + ".self_attn_norm")
        if memory is not None:
            h = self.ln(h + self.mha(h, memory, prefix + ".cross_attn", mem_visible),
                        prefix + ".cross_attn_norm")
        return self.ln(h + self.ffn(h, prefix + ".ffn"), prefix + ".ffn_norm")

    def stack(self, x, p, n, self_visible, memory=None, mem_visible=None):
        for i in range(n):
            x = self.block(x, "%s.layers.%d" % (p, i), self_visible, memory, mem_visible)
        if self.h["final_norm"]:
            x = self.ln(x, p + ".final_norm")
        return x

    @staticmethod
    def key_visible(mask):
        """[b, k] int mask -> [b, 1, 1, k] bool (hidden where mask == 0)."""
        return (mask != 0)[:, None, None, :]

    @staticmethod
    def causal_visible(t):
        """[1, 1, t, t] bool: key j visible from query i iff j <= i."""
        i = torch.arange(t)[:, None]
        j = torch.arange(t)[None, :]
        return (j <= i)[None, None]

    def lm_head(self, x):
        if self.h["tied_embeddings"]:
            logits = x @ self.W("embeddings.token").transpose(0, 1)
        else:
            logits = x @ self.W("lm_head.weight")
        if self.has("lm_head.bias"):
            logits = logits + self.W("lm_head.bias")
        return logits

    # -- families -----------------------------------------------------------

    def encoder(self, ids, mask, type_ids):
        x = self.embed(ids, type_ids)
        return self.stack(x, "encoder", self.h["num_layers"], self.key_visible(mask))

    def run(self, inputs):
        fam = self.h["family"]
        t = {k: torch.from_numpy(np.asarray(v, dtype=np.int64)) for k, v in inputs.items()}
        if fam == "Encoder":
            y = self.encoder(t["input_ids"], t["attention_mask"], t.get("token_type_ids"))
        elif fam == "Classifier":
            mask = t["attention_mask"]
            x = self.encoder(t["input_ids"], mask, t.get("token_type_ids"))
            pooling = self.h["pooling"]
            if pooling == "Mean":
                m = mask.to(DTYPE)[:, :, None]
                pooled = (x * m).sum(dim=1) / torch.clamp(m.sum(dim=1), min=1e-9)
            elif pooling == "FirstToken":
                pooled = x[:, 0]
            else:
                raise ValueError("classifier without pooling")
            y = torch.softmax(self.linear(pooled, "classifier"), dim=-1)
        elif fam == "Decoder":
            ids = t["input_ids"]
            x = self.embed(ids)
            x = self.stack(x, "decoder", self.h["num_layers"],
                           self.causal_visible(ids.shape[1]))
            y = self.lm_head(x)
        elif fam == "EncoderDecoder":
            src_visible = self.key_visible(t["src_mask"])
            memory = self.stack(self.embed(t["src_ids"]), "encoder",
                                self.h["num_layers"], src_visible)
            n_dec = self.h["num_decoder_layers"] or self.h["num_layers"]
            tgt = t["tgt_ids"]
            x = self.stack(self.embed(tgt), "decoder", n_dec,
                           self.causal_visible(tgt.shape[1]), memory, src_visible)
            y = self.lm_head(x)
        else:
            raise ValueError("unknown family %r" % fam)
        return {output_name(self.h): y.numpy().astype(np.float32)}


def run(hparams, weights, inputs, check_unused=True):
    """Run the model.  `inputs` maps input names (see input_names) to int64
    arrays; returns {output name: float32 array}.  With check_unused, a
    weight the computation did not read is an error (as in the frontend)."""
    missing = [n for n in input_names(hparams) if n not in inputs]
    if missing:
        raise ValueError("missing inputs: %s" % ", ".join(missing))
    m = _Model(hparams, weights)
    with torch.no_grad():
        out = m.run(inputs)
    if check_unused:
        unused = sorted(set(weights) - m.used)
        if unused:
            raise ValueError("unused weights: %s" % ", ".join(unused))
    return out
