"""tfc.Plan: an opened plan file, its metadata, signatures and tokenizer."""

import os
from dataclasses import dataclass

import numpy as np

from . import _tfc
from ._errors import error

# tfc dtype names (tfc_dtype_name) -> numpy dtypes; bf16 has none.
_NUMPY_DTYPES = {"f32": np.dtype(np.float32), "f16": np.dtype(np.float16),
                 "i32": np.dtype(np.int32), "i64": np.dtype(np.int64),
                 "i8": np.dtype(np.int8), "bool": np.dtype(np.bool_)}


@dataclass(frozen=True)
class Port:
    """One input or output of a plan function.

    ``shape`` holds an int per static dim and the symbol's name (``"batch"``, ``"seq"``) per
    symbolic one; ``bounds`` maps each symbol to its (min, max). ``dtype`` is a numpy dtype
    (``None`` for bf16, which numpy lacks). For inputs, ``kind`` says what the runtime requires
    of the values (``"ids"``: each in [0, id_bound); ``"mask"``: each 0 or 1; ``"data"``).
    """
    name: str
    dtype: object
    tfc_dtype: str
    shape: tuple
    bounds: dict
    kind: str = "data"
    id_bound: int = 0


def _port(d):
    shape, bounds = [], {}
    for size, symbol, lo, hi in d["dims"]:
        if symbol is None:
            shape.append(int(size))
        else:
            shape.append(symbol)
            bounds[symbol] = (int(lo), int(hi))
    return Port(name=d["name"], dtype=_NUMPY_DTYPES.get(d["dtype"]), tfc_dtype=d["dtype"],
                shape=tuple(shape), bounds=bounds, kind=d.get("kind", "data"),
                id_bound=int(d.get("id_bound", 0)))


class Plan:
    """A plan written by ``tfc compile``, mapped (weights are not copied) and checked.

    ``Plan(path, verify_checksums=True, any_target=False, device=None)``: the options of
    tfc_plan_open (``any_target`` opens a plan this build cannot run for inspection only;
    ``device`` is the sessions' default, e.g. ``"cuda:1"``). Immutable; shareable by any
    number of sessions and threads.
    """

    def __init__(self, path, *, verify_checksums=True, any_target=False, device=None):
        self.path = os.fspath(path)
        self._plan = _tfc.Plan(self.path, bool(verify_checksums), bool(any_target),
                               device or "")
        self._info = self._plan.info()
        self._ports = {}
        self._chars = None

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def info(self):
        """tfc_plan_info as a dict (format_version, producer, target, family, model_name,
        start_id, end_id, unk_id, pad_id, weights_bytes, precision, weight_precision)."""
        return dict(self._info)

    target = property(lambda self: self._info["target"], doc='"cpu" or "cuda"')
    family = property(lambda self: self._info["family"], doc='"encoder", "decoder", ...')
    precision = property(lambda self: self._info["precision"], doc='"fp32", "fp16", "bf16"')
    weight_precision = property(lambda self: self._info["weight_precision"],
                                doc='"fp32", "bf16" or "int8" (cpu weight-only precisions)')

    @property
    def functions(self):
        """The plan's functions, e.g. ["forward"] or ["forward", "prefill", "decode_step"]."""
        return list(self._plan.functions())

    def default_function(self):
        """"forward" when the plan has it, else its first function (as tfrun picks)."""
        names = self.functions
        if not names:
            raise error(f"plan '{self.path}' has no functions", "TFC_INVALID_PLAN")
        return "forward" if "forward" in names else names[0]

    def _signature(self, function):
        function = function or self.default_function()
        if function not in self._ports:
            inputs, outputs = self._plan.ports(function)
            self._ports[function] = ([_port(d) for d in inputs], [_port(d) for d in outputs])
        return self._ports[function]

    def inputs(self, function=None):
        """The inputs of ``function`` (default: :meth:`default_function`) as :class:`Port`."""
        return list(self._signature(function)[0])

    def outputs(self, function=None):
        """The outputs of ``function`` as :class:`Port`."""
        return list(self._signature(function)[1])

    def arena_bytes(self, function=None):
        return self._plan.arena_bytes(function or self.default_function())

    @property
    def generation(self):
        """How the plan generates (dict: mode, reason, token_input, max_length, max_batch,
        vocab_size), or None for plans that do not generate."""
        return self._plan.generation()

    def describe(self):
        """Everything above as one dict (what ``tfrun --describe`` prints)."""
        return {"path": self.path, **self._info, "functions": {
                    f: {"inputs": self.inputs(f), "outputs": self.outputs(f),
                        "arena_bytes": self.arena_bytes(f)} for f in self.functions},
                "generation": self.generation, "has_tokenizer": self.has_tokenizer,
                "vocabulary_size": self.vocabulary_size}

    def verify(self):
        """Checks every weight against its checksum now (tfc_plan_verify); raises Error."""
        self._plan.verify()

    def __repr__(self):
        return (f"tfc.Plan({self.path!r}, family={self.family!r}, target={self.target!r}, "
                f"precision={self.precision!r}, functions={self.functions})")

    # ---- vocabulary and tokenizer -----------------------------------------------------------
    @property
    def has_tokenizer(self):
        """Whether the plan carries its model's tokenizer (tokenize/detokenize, embed)."""
        return self._plan.has_tokenizer()

    @property
    def vocabulary_size(self):
        """Tokens in the plan's vocabulary (0 when it has none)."""
        return self._plan.vocabulary_size()

    def token(self, id):
        """The vocabulary's string of token ``id`` (None when out of range)."""
        raw = self._plan.token(int(id))
        return None if raw is None else raw.decode("utf-8", errors="replace")

    def tokenize(self, text, *, add_special=True, truncate=True):
        """The token ids (int64 array) of ``text`` (str, or UTF-8 bytes) through the plan's
        tokenizer, exactly as Hugging Face ``tokenizers`` gives them: with ``add_special``,
        [CLS] ... [SEP] (BERT); with ``truncate``, cut to the tokenizer's max length (silently
        here: :meth:`count_tokens` tells whether it was)."""
        return self._tokenize(text, add_special, truncate)[0]

    def count_tokens(self, text, *, add_special=True):
        """The ids ``text`` has without truncation (special tokens included)."""
        return self._tokenize(text, add_special, True)[1]

    def _tokenize(self, text, add_special, truncate):
        self._require_tokenizer("tokenize")
        flags = ((_tfc.TOKENIZE_ADD_SPECIAL if add_special else 0) |
                 (0 if truncate else _tfc.TOKENIZE_NO_TRUNCATION))
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        ids, untruncated = self._plan.tokenize(data, flags)
        return ids, int(untruncated)

    def detokenize(self, ids, *, skip_special=True):
        """The text of ``ids`` (special tokens dropped with ``skip_special``)."""
        self._require_tokenizer("detokenize")
        ids = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
        return self._plan.detokenize(ids, bool(skip_special)).decode("utf-8", errors="replace")

    def _require_tokenizer(self, what):
        if not self.has_tokenizer:
            raise error(f"{what}: plan '{self.path}' carries no tokenizer (compile a model "
                        "imported with its tokenizer files)", "TFC_UNSUPPORTED")

    def encode_chars(self, text):
        """Token ids of ``text`` through a character-level vocabulary (one token per code point,
        after the start token), as ``tfrun --generate --text`` does for plans without a
        tokenizer, such as examples/models/chargpt.fbs."""
        if self.vocabulary_size == 0:
            raise error(f"plan '{self.path}' has no vocabulary: give token ids",
                        "TFC_UNSUPPORTED")
        table = self._char_table()
        ids = [self._info["start_id"]] if self._info["start_id"] >= 0 else []
        unk = self._info["unk_id"]
        for ch in text:
            if ch not in table and unk < 0:
                raise error(f"'{ch}' is not in the vocabulary and the model has no <UNK>")
            ids.append(table.get(ch, unk))
        return np.asarray(ids, dtype=np.int64)

    def _char_table(self):
        if self._chars is None:
            table = {}
            for i in range(self.vocabulary_size):
                t = self.token(i) or ""
                special = len(t) > 2 and t[0] == "<" and t[-1] == ">"
                if t and not special and len(t) != 1:
                    raise error(f"the plan's vocabulary is not character-level (token {i} is "
                                f"{t!r}); give token ids")
                if t:
                    table.setdefault(t, i)
            self._chars = table
        return self._chars
