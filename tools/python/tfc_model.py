"""tfc_model.py -- write and read tfc model files (ir/schema/model.fbs).

A self-contained writer/reader for the ``TFCM`` FlatBuffer described in
docs/MODEL_FORMAT.md.  It needs only numpy and the ``flatbuffers`` Python
runtime (the Builder and Table classes); it does not use flatc-generated code,
so the vtable slot numbers below must follow the field order of
ir/schema/model.fbs exactly.

    from tfc_model import ModelWriter, read_model

    w = ModelWriter(family="Encoder", num_layers=2, d_model=64, num_heads=4,
                    d_ff=256, vocab_size=1000, max_positions=128,
                    activation="GeluErf", embedding_norm=True,
                    layer_norm_epsilon=1e-12)
    w.add("embeddings.token", np.zeros((1000, 64), np.float32))
    w.add_linear("encoder.layers.0.self_attn.q", torch_weight_out_in, bias)
    w.set_special_tokens(start=1, end=2, unk=3, pad=0)
    w.set_vocabulary(["<PAD>", "<START>", ...])
    w.save("model.fbs")

    hparams, weights, special, vocab = read_model("model.fbs")

Every ``Tensor.data`` vector is 64-byte aligned inside the file (the schema's
``force_align: 64``); ``read_model_full`` reports the data offsets so that can
be checked.
"""

import os
import tempfile

import numpy as np
import flatbuffers
from flatbuffers import number_types as N
from flatbuffers.table import Table

__all__ = ["ModelWriter", "read_model", "read_model_full", "FORMAT_MAJOR",
           "FORMAT_MINOR", "READABLE_MAJORS", "FILE_IDENTIFIER", "PRODUCER",
           "HPARAM_FIELDS", "ENUMS"]

FORMAT_MAJOR = 2
FORMAT_MINOR = 0
# Majors this reader reads: 1.x files have none of the 2.0 fields, whose defaults are the 1.x
# meaning.
READABLE_MAJORS = (1, 2)
FILE_IDENTIFIER = b"TFCM"
PRODUCER = "tfc_model.py 2.0"
DATA_ALIGNMENT = 64

# ---------------------------------------------------------------------------
# Schema mirror.  Keep in the declaration order of ir/schema/model.fbs.
# ---------------------------------------------------------------------------

ENUMS = {
    "Family": ["Encoder", "Decoder", "EncoderDecoder", "Classifier"],
    "NormPlacement": ["Post", "Pre", "Parallel"],
    "NormKind": ["LayerNorm", "RmsNorm"],
    "Activation": ["Relu", "GeluErf", "GeluTanh", "Silu"],
    "PositionEncoding": ["Sinusoidal", "Learned", "Rotary"],
    "Pooling": ["None", "Mean", "FirstToken"],
    "DType": ["F32", "F16", "BF16", "I32", "I64", "I8"],
}

# (name, kind, default); the index in this list is the vtable slot.
# kind: "int" (int32), "float" (float32), "bool", or an enum name (int32).
HPARAM_FIELDS = [
    ("family", "Family", "Encoder"),
    ("num_layers", "int", 0),
    ("num_decoder_layers", "int", 0),
    ("d_model", "int", 0),
    ("num_heads", "int", 0),
    ("d_ff", "int", 0),
    ("vocab_size", "int", 0),
    ("max_positions", "int", 0),
    ("norm_placement", "NormPlacement", "Post"),
    ("activation", "Activation", "Relu"),
    ("position_encoding", "PositionEncoding", "Learned"),
    ("type_vocab_size", "int", 0),
    ("embedding_scale", "float", 1.0),
    ("embedding_norm", "bool", False),
    ("tied_embeddings", "bool", False),
    ("final_norm", "bool", False),
    ("pooling", "Pooling", "None"),
    ("num_classes", "int", 0),
    ("layer_norm_epsilon", "float", 1e-5),
    # 2.0: the described architecture (defaults: the 1.x meaning).
    ("norm_kind", "NormKind", "LayerNorm"),
    ("norm_weight_offset", "float", 0.0),
    ("num_kv_heads", "int", 0),
    ("head_dim", "int", 0),
    ("ffn_gated", "bool", False),
    ("attention_qkv_bias", "bool", True),
    ("attention_out_bias", "bool", True),
    ("ffn_bias", "bool", True),
    ("rotary_base", "float", 10000.0),
    ("rotary_dim", "int", 0),
    ("sliding_window", "int", 0),
    ("position_pad_id", "int", -1),
    ("embedding_size", "int", 0),
    ("layer_weight_groups", "int", 0),
]
_HPARAM_INDEX = {f[0]: i for i, f in enumerate(HPARAM_FIELDS)}

# Model table slots.
_M_FORMAT_MAJOR, _M_FORMAT_MINOR, _M_PRODUCER, _M_NAME, _M_HPARAMS, \
    _M_SPECIAL_TOKENS, _M_WEIGHTS, _M_VOCABULARY = range(8)
_M_NUM_FIELDS = 8
# Tensor table slots.
_T_NAME, _T_DTYPE, _T_SHAPE, _T_DATA = range(4)
_T_NUM_FIELDS = 4
# Vocabulary table slots.
_V_TOKENS = 0
_V_NUM_FIELDS = 1

# numpy dtype <-> DType (little-endian storage).
_NP_TO_DTYPE = {
    np.dtype(np.float32): "F32",
    np.dtype(np.float16): "F16",
    np.dtype(np.int32): "I32",
    np.dtype(np.int64): "I64",
    np.dtype(np.int8): "I8",
}
_DTYPE_TO_NP = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # raw bfloat16 bits
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "I8": np.dtype("i1"),
}


def _vt(slot):
    """vtable byte offset of field `slot`."""
    return 4 + 2 * slot


def _enum_value(enum, value, field):
    names = ENUMS[enum]
    if isinstance(value, str):
        if value not in names:
            raise ValueError("%s: unknown %s value %r (expected one of %s)"
                             % (field, enum, value, ", ".join(names)))
        return names.index(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError("%s: expected a %s name, got %r" % (field, enum, value))
    if not 0 <= int(value) < len(names):
        raise ValueError("%s: %s value %d out of range" % (field, enum, value))
    return int(value)


def _enum_name(enum, value):
    names = ENUMS[enum]
    return names[value] if 0 <= value < len(names) else int(value)


# ---------------------------------------------------------------------------
# Writer
# ---------------------------------------------------------------------------

class ModelWriter:
    """Collects hyperparameters, weights, special tokens and a vocabulary and
    writes them as one TFCM FlatBuffer.

    Hyperparameters are keyword arguments named like the schema fields; enum
    fields take the schema's value names ("Encoder", "Pre", "GeluTanh", ...).
    Fields not given take the schema defaults.  ``name`` (the model's
    human-readable name) and ``producer`` are accepted as keywords too.
    """

    def __init__(self, name=None, producer=PRODUCER, **hparams):
        unknown = sorted(set(hparams) - set(_HPARAM_INDEX))
        if unknown:
            raise TypeError("unknown hyperparameter(s): %s" % ", ".join(unknown))
        self.name = name
        self.producer = producer
        self.hparams = {}
        for field, kind, default in HPARAM_FIELDS:
            value = hparams.get(field, default)
            if kind in ENUMS:
                value = ENUMS[kind][_enum_value(kind, value, field)]
            elif kind == "int":
                if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                    raise TypeError("%s: expected an int, got %r" % (field, value))
                value = int(value)
                if not -2**31 <= value < 2**31:
                    raise ValueError("%s: %d does not fit int32" % (field, value))
            elif kind == "float":
                value = float(value)
            elif kind == "bool":
                value = bool(value)
            self.hparams[field] = value
        self._tensors = []          # (name, dtype name, shape tuple, array)
        self._names = set()
        self.special_tokens = None  # (start, end, unk, pad)
        self.vocabulary = None

    # -- weights -----------------------------------------------------------

    def add(self, name, array):
        """Add tensor `name`.  float32 -> F32, float16 -> F16, int32 -> I32,
        int64 -> I64, int8 -> I8.  Other dtypes (e.g. float64) are rejected:
        convert explicitly."""
        if not isinstance(name, str) or not name:
            raise TypeError("tensor name must be a non-empty str")
        if name in self._names:
            raise ValueError("tensor %r added twice" % name)
        if hasattr(array, "detach"):  # a torch tensor
            array = array.detach().cpu().numpy()
        array = np.asarray(array)
        dt = _NP_TO_DTYPE.get(array.dtype.newbyteorder("=")
                              if array.dtype.byteorder not in "=|" else array.dtype)
        if dt is None:
            raise TypeError("tensor %r: unsupported dtype %s (use float32, float16, "
                            "int32, int64 or int8)" % (name, array.dtype))
        array = np.ascontiguousarray(array, dtype=_DTYPE_TO_NP[dt])
        self._names.add(name)
        self._tensors.append((name, dt, tuple(int(d) for d in array.shape), array))

    def add_linear(self, prefix, weight, bias=None):
        """Add a linear layer from PyTorch's nn.Linear layout: `weight` is
        [out, in]; it is stored transposed as `prefix.weight` [in, out].
        `bias` [out] is stored as `prefix.bias` when given."""
        if hasattr(weight, "detach"):
            weight = weight.detach().cpu().numpy()
        weight = np.asarray(weight)
        if weight.ndim != 2:
            raise ValueError("%s.weight: expected a 2-D [out, in] array, got shape %s"
                             % (prefix, weight.shape))
        self.add(prefix + ".weight", np.ascontiguousarray(weight.T))
        if bias is not None:
            if hasattr(bias, "detach"):
                bias = bias.detach().cpu().numpy()
            bias = np.asarray(bias)
            if bias.shape != (weight.shape[0],):
                raise ValueError("%s.bias: expected shape (%d,), got %s"
                                 % (prefix, weight.shape[0], bias.shape))
            self.add(prefix + ".bias", bias)

    # -- tokens ------------------------------------------------------------

    def set_special_tokens(self, start=-1, end=-1, unk=-1, pad=-1):
        """Ids of <START>, <END>, <UNK>, <PAD>; -1 when absent."""
        vals = []
        for label, v in (("start", start), ("end", end), ("unk", unk), ("pad", pad)):
            v = -1 if v is None else int(v)
            if not -2**31 <= v < 2**31:
                raise ValueError("special token %s: %d does not fit int32" % (label, v))
            vals.append(v)
        self.special_tokens = tuple(vals)

    def set_vocabulary(self, tokens):
        """Token strings by id (index = id)."""
        tokens = list(tokens)
        for i, t in enumerate(tokens):
            if not isinstance(t, str):
                raise TypeError("vocabulary[%d]: expected str, got %r" % (i, t))
        self.vocabulary = tokens

    # -- output ------------------------------------------------------------

    def to_bytes(self):
        """The finished FlatBuffer as bytes."""
        payload = sum(a.nbytes for _, _, _, a in self._tensors)
        b = flatbuffers.Builder(payload + 64 * len(self._tensors) + 65536)
        b.ForceDefaults(True)  # write every scalar explicitly

        # Tensors (children first: FlatBuffers are built back to front).
        tensor_offsets = []
        for name, dt, shape, array in self._tensors:
            name_off = b.CreateString(name)
            shape_off = b.CreateNumpyVector(np.asarray(shape, dtype="<i8").reshape(-1))
            data_off = _create_aligned_bytes(b, array, DATA_ALIGNMENT)
            b.StartObject(_T_NUM_FIELDS)
            b.PrependUOffsetTRelativeSlot(_T_NAME, name_off, 0)
            b.PrependInt32Slot(_T_DTYPE, ENUMS["DType"].index(dt), 0)
            b.PrependUOffsetTRelativeSlot(_T_SHAPE, shape_off, 0)
            b.PrependUOffsetTRelativeSlot(_T_DATA, data_off, 0)
            tensor_offsets.append(b.EndObject())
        weights_off = _create_offset_vector(b, tensor_offsets)

        vocab_off = None
        if self.vocabulary is not None:
            str_offs = [b.CreateString(t) for t in self.vocabulary]
            tokens_off = _create_offset_vector(b, str_offs)
            b.StartObject(_V_NUM_FIELDS)
            b.PrependUOffsetTRelativeSlot(_V_TOKENS, tokens_off, 0)
            vocab_off = b.EndObject()

        b.StartObject(len(HPARAM_FIELDS))
        for slot, (field, kind, default) in enumerate(HPARAM_FIELDS):
            value = self.hparams[field]
            if kind in ENUMS:
                b.PrependInt32Slot(slot, ENUMS[kind].index(value),
                                   ENUMS[kind].index(default))
            elif kind == "int":
                b.PrependInt32Slot(slot, value, default)
            elif kind == "float":
                b.PrependFloat32Slot(slot, value, default)
            elif kind == "bool":
                b.PrependBoolSlot(slot, value, default)
        hparams_off = b.EndObject()

        producer_off = b.CreateString(self.producer) if self.producer is not None else None
        name_off = b.CreateString(self.name) if self.name is not None else None

        b.StartObject(_M_NUM_FIELDS)
        b.PrependUint32Slot(_M_FORMAT_MAJOR, FORMAT_MAJOR, 1)
        b.PrependUint32Slot(_M_FORMAT_MINOR, FORMAT_MINOR, 0)
        if producer_off is not None:
            b.PrependUOffsetTRelativeSlot(_M_PRODUCER, producer_off, 0)
        if name_off is not None:
            b.PrependUOffsetTRelativeSlot(_M_NAME, name_off, 0)
        b.PrependUOffsetTRelativeSlot(_M_HPARAMS, hparams_off, 0)
        if self.special_tokens is not None:
            # struct SpecialTokens { start_id, end_id, unk_id, pad_id: int }
            # is written inline, last field first.
            b.Prep(4, 16)
            for v in reversed(self.special_tokens):
                b.PrependInt32(v)
            b.PrependStructSlot(_M_SPECIAL_TOKENS, b.Offset(), 0)
        b.PrependUOffsetTRelativeSlot(_M_WEIGHTS, weights_off, 0)
        if vocab_off is not None:
            b.PrependUOffsetTRelativeSlot(_M_VOCABULARY, vocab_off, 0)
        model_off = b.EndObject()
        b.Finish(model_off, file_identifier=FILE_IDENTIFIER)
        return bytes(b.Output())

    def save(self, path):
        """Write the model to `path` atomically: a temp file in the same
        directory is written, fsync'ed and renamed over `path`."""
        data = self.to_bytes()
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                                   suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return len(data)


def _create_aligned_bytes(b, array, alignment):
    """A [ubyte] vector holding `array`'s bytes, its first data byte aligned
    to `alignment` in the finished buffer."""
    raw = array.tobytes(order="C")
    n = len(raw)
    b.StartVector(1, n, alignment)
    b.head = b.head - n
    b.Bytes[b.head:b.head + n] = raw
    return b.EndVector()


def _create_offset_vector(b, offsets):
    b.StartVector(4, len(offsets), 4)
    for off in reversed(offsets):
        b.PrependUOffsetTRelative(off)
    return b.EndVector()


# ---------------------------------------------------------------------------
# Reader (minimal; for round trips and tests)
# ---------------------------------------------------------------------------

def _field(tab, slot):
    return tab.Offset(_vt(slot))


def _scalar(tab, slot, flags, default):
    o = _field(tab, slot)
    return tab.Get(flags, tab.Pos + o) if o else default


def _string(tab, slot):
    o = _field(tab, slot)
    return tab.String(tab.Pos + o).decode("utf-8") if o else None


def _subtable(tab, slot):
    o = _field(tab, slot)
    return Table(tab.Bytes, tab.Indirect(tab.Pos + o)) if o else None


def _vector(tab, slot):
    """(start of elements, length) of a vector field, or None."""
    o = _field(tab, slot)
    if not o:
        return None
    return tab.Vector(o), tab.VectorLen(o)


def read_model_full(path_or_bytes):
    """Parse a TFCM file.  Returns a dict with keys format_major,
    format_minor, producer, name, hparams, special_tokens, weights (name ->
    np.ndarray, in file order), dtypes (name -> DType name), data_offsets
    (name -> byte offset of the data in the file), vocabulary."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        buf = bytes(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as f:
            buf = f.read()
    if len(buf) < 8 or buf[4:8] != FILE_IDENTIFIER:
        raise ValueError("not a TFCM file (identifier %r)" % bytes(buf[4:8]))
    root = Table(buf, flatbuffers.encode.Get(N.UOffsetTFlags.packer_type, buf, 0))

    out = {
        "format_major": _scalar(root, _M_FORMAT_MAJOR, N.Uint32Flags, 1),
        "format_minor": _scalar(root, _M_FORMAT_MINOR, N.Uint32Flags, 0),
        "producer": _string(root, _M_PRODUCER),
        "name": _string(root, _M_NAME),
    }
    if out["format_major"] not in READABLE_MAJORS:
        raise ValueError("model format %d.%d, this reader reads %s"
                         % (out["format_major"], out["format_minor"],
                            " and ".join("%d.x" % m for m in READABLE_MAJORS)))

    hp = _subtable(root, _M_HPARAMS)
    if hp is None:
        raise ValueError("model has no hparams")
    hparams = {}
    for slot, (field, kind, default) in enumerate(HPARAM_FIELDS):
        if kind in ENUMS:
            v = _scalar(hp, slot, N.Int32Flags, ENUMS[kind].index(default))
            hparams[field] = _enum_name(kind, v)
        elif kind == "int":
            hparams[field] = _scalar(hp, slot, N.Int32Flags, default)
        elif kind == "float":
            hparams[field] = float(_scalar(hp, slot, N.Float32Flags, default))
        elif kind == "bool":
            hparams[field] = bool(_scalar(hp, slot, N.BoolFlags, default))
    out["hparams"] = hparams

    o = _field(root, _M_SPECIAL_TOKENS)
    if o:
        p = root.Pos + o
        vals = [root.Get(N.Int32Flags, p + 4 * i) for i in range(4)]
        out["special_tokens"] = dict(zip(("start", "end", "unk", "pad"), vals))
    else:
        out["special_tokens"] = None

    weights, dtypes, offsets = {}, {}, {}
    wv = _vector(root, _M_WEIGHTS)
    if wv is not None:
        start, n = wv
        for i in range(n):
            t = Table(buf, root.Indirect(start + 4 * i))
            name = _string(t, _T_NAME)
            dt = _enum_name("DType", _scalar(t, _T_DTYPE, N.Int32Flags, 0))
            sv = _vector(t, _T_SHAPE)
            shape = tuple(int(x) for x in np.frombuffer(buf, "<i8", sv[1], sv[0])) \
                if sv else ()
            dv = _vector(t, _T_DATA)
            dstart, nbytes = dv if dv else (0, 0)
            if name in weights:
                raise ValueError("tensor %r listed twice" % name)
            npdt = _DTYPE_TO_NP.get(dt)
            if npdt is None:
                raise ValueError("tensor %r: unknown dtype %r" % (name, dt))
            count = int(np.prod(shape, dtype=np.int64))
            if count * npdt.itemsize != nbytes:
                raise ValueError("tensor %r: %d data bytes for shape %s %s"
                                 % (name, nbytes, shape, dt))
            arr = np.frombuffer(buf, npdt, count, dstart).reshape(shape).copy()
            weights[name] = arr
            dtypes[name] = dt
            offsets[name] = dstart
    out["weights"], out["dtypes"], out["data_offsets"] = weights, dtypes, offsets

    vt = _subtable(root, _M_VOCABULARY)
    vocab = None
    if vt is not None:
        tv = _vector(vt, _V_TOKENS)
        vocab = []
        if tv is not None:
            start, n = tv
            for i in range(n):
                vocab.append(vt.String(start + 4 * i).decode("utf-8"))
    out["vocabulary"] = vocab
    return out


def read_model(path):
    """Returns (hparams dict, weights dict name -> np.ndarray, special tokens
    dict {start, end, unk, pad} or None, vocabulary list or None).  Enum
    hyperparameters come back as their schema names, so
    ``ModelWriter(**hparams)`` rebuilds the same hyperparameters."""
    m = read_model_full(path)
    return m["hparams"], m["weights"], m["special_tokens"], m["vocabulary"]


if __name__ == "__main__":
    import sys
    for p in sys.argv[1:]:
        m = read_model_full(p)
        print("%s: format %d.%d, producer %r, name %r" % (
            p, m["format_major"], m["format_minor"], m["producer"], m["name"]))
        for k, v in m["hparams"].items():
            print("  %-20s %s" % (k, v))
        print("  special_tokens       %s" % m["special_tokens"])
        print("  vocabulary           %s" % (
            None if m["vocabulary"] is None else "%d tokens" % len(m["vocabulary"])))
        for name, arr in m["weights"].items():
            print("  %-45s %-4s %-14s @%d" % (name, m["dtypes"][name], list(arr.shape),
                                              m["data_offsets"][name]))
