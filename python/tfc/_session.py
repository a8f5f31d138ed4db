"""tfc.Session: runs, generations and sentence embeddings on one plan."""

import warnings

import numpy as np

from . import _tfc
from ._errors import error
from ._plan import Plan

_STRATEGIES = {"greedy": 0, "sample": 1, "beam": 2}


class Session:
    """A session on a :class:`Plan` (or a plan path): its own arena, kernels and KV cache.

    ``Session(plan, threads=0, device=None)``: ``threads`` 0 is the runtime's default (all
    cores, or OMP_NUM_THREADS); ``device`` e.g. ``"cpu"``, ``"cuda:0"`` (default: the plan's).
    Python threads may share a session: its calls wait for each other (the GIL is released
    while a call runs). For runs in parallel, make one session per thread on one Plan.
    """

    def __init__(self, plan, *, threads=0, device=None):
        self.plan = plan if isinstance(plan, Plan) else Plan(plan)
        self._session = _tfc.Session(self.plan._plan, int(threads), device or "")

    # ---- run ------------------------------------------------------------------------------
    def run(self, inputs, function=None):
        """Runs ``function`` (default "forward", else the plan's first) on ``inputs``, a dict
        {name: array}, and returns {name: ndarray} in the plan's output order.

        An ndarray that is C-contiguous, aligned and of a dtype tfc has (float32, float16,
        int64, int32, int8, bool) is read in place, without a copy; others are copied first
        (a non-ndarray value, e.g. a list, becomes an array of the input's dtype). A dtype
        other than the plan's is an Error from the runtime, as are unknown names, missing
        inputs and shapes beyond the plan's bounds. The outputs are numpy arrays over the
        runtime's own buffers (no copy), which live as long as any of the arrays does.
        """
        function = function or self.plan.default_function()
        pairs = self._input_pairs(inputs, function)
        return dict(self._session.run(function, pairs))

    def _input_pairs(self, inputs, function):
        if not hasattr(inputs, "items"):
            raise TypeError("inputs must be a dict {name: array}, got "
                            f"{type(inputs).__name__}")
        dtypes = {p.name: p.dtype for p in self.plan.inputs(function)}
        return [(str(name), _as_input(name, value, dtypes.get(name)))
                for name, value in inputs.items()]

    def last_input_addresses(self):
        """The data addresses the runtime got for the last run's inputs (for checking that an
        array was passed in place: compare with ``a.__array_interface__["data"][0]``)."""
        return list(self._session.last_input_addresses())

    # ---- profiling --------------------------------------------------------------------------
    def set_profiling(self, on=True):
        """Each later run accumulates time per kernel (:meth:`profile`)."""
        self._session.set_profiling(bool(on))

    def profile(self, function=None):
        """[{kind, name, calls, total_ms}] per kernel of ``function`` since the last reset."""
        return self._session.profile(function or self.plan.default_function())

    def reset_profile(self):
        self._session.reset_profile()

    # ---- generation -------------------------------------------------------------------------
    def generate(self, prompt=None, *, max_new_tokens=32, strategy="greedy", eos_id=None,
                 temperature=1.0, top_k=0, top_p=1.0, seed=0, beam_width=None,
                 length_penalty=1.0, inputs=None):
        """Generates from a prompt and returns a :class:`Generation`: an iterator of the new
        tokens as the runtime chooses them (tfc_session_generate's token callback).

        ``prompt``: token ids (a 1-D sequence), or text: through the plan's tokenizer when it
        has one (the whole text, never truncated), else through a character-level vocabulary
        (:meth:`Plan.encode_chars`), as ``tfrun --generate --text`` does. A list of prompts
        (texts or id sequences) or a 2-D array generates a batch: the iterator then yields
        ``(row, token)`` pairs. ``None``: the start token, one prompt per row of ``inputs``.
        ``inputs``: the model's other inputs {name: array}, one row per prompt (an
        encoder-decoder's source ids and mask).
        ``eos_id``: stop a sequence at this id; None (default) is what tfrun does: the plan's
        end id for model.fbs plans, no stop for ONNX ones; -1: never stop early.
        ``strategy``: "greedy", "sample" (temperature, top_k, top_p, seed) or "beam"
        (beam_width, default 4 as tfrun's, length_penalty; the tokens come once the search
        ends).
        """
        if strategy not in _STRATEGIES:
            raise error(f"unknown strategy {strategy!r} (greedy, sample or beam)")
        gen = self.plan.generation
        if gen is None:
            raise error(f"plan '{self.plan.path}' does not generate (family "
                        f"'{self.plan.family}')", "TFC_UNSUPPORTED")
        fixed = self._input_pairs(inputs, None) if inputs else []
        prompts, batch = self._prompts(prompt, fixed)
        offsets = np.zeros(len(prompts) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(p) for p in prompts])
        tokens = (np.concatenate(prompts) if prompts else np.zeros(0)).astype(np.int64)
        info = self.plan.info
        if eos_id is None:
            eos_id = info["end_id"] if info["family"] != "onnx" else -1
        if beam_width is None:
            beam_width = 4 if strategy == "beam" else 1
        options = {"strategy": _STRATEGIES[strategy], "max_new_tokens": int(max_new_tokens),
                   "eos_id": int(eos_id), "temperature": float(temperature),
                   "top_k": int(top_k), "top_p": float(top_p), "seed": int(seed),
                   "beam_width": int(beam_width), "length_penalty": float(length_penalty)}
        stream = self._session.generate(tokens, offsets, fixed, options)
        return Generation(stream, batch, [np.array(p) for p in prompts])

    def _prompts(self, prompt, fixed):
        """(list of int64 id arrays, whether it is a batch)."""
        if prompt is None:
            start = self.plan.info["start_id"]
            if start < 0:
                raise error("no prompt: give token ids or text (the plan has no start token)")
            rows = fixed[0][1].shape[0] if fixed and fixed[0][1].ndim else 1
            return [np.array([start], dtype=np.int64)] * rows, rows > 1
        if isinstance(prompt, str):
            return [self._prompt_ids(prompt)], False
        if isinstance(prompt, np.ndarray) and prompt.ndim == 2:
            return [np.asarray(r, dtype=np.int64) for r in prompt], True
        items = list(prompt)
        if items and all(isinstance(p, (str, list, tuple, np.ndarray)) for p in items):
            return [self._prompt_ids(p) for p in items], True
        return [self._prompt_ids(items)], False

    def _prompt_ids(self, prompt):
        if isinstance(prompt, str):
            if self.plan.has_tokenizer:
                ids = self.plan.tokenize(prompt, add_special=False, truncate=False)
            else:
                ids = self.plan.encode_chars(prompt)
            if len(ids) == 0:
                raise error(f"prompt {prompt!r} has no tokens")
            return ids
        ids = np.asarray(prompt)
        if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
            raise error("a prompt must be text or a 1-D sequence of token ids, got "
                        f"{ids.dtype} {list(ids.shape)}")
        return ids.astype(np.int64)

    # ---- sentence embeddings ----------------------------------------------------------------
    def embed(self, texts, function=None):
        """Sentence embeddings of ``texts`` exactly as ``tfrun --embed --text ...`` computes
        them (the same floats): each text through the plan's tokenizer with its special tokens
        (truncated to the tokenizer's max length, with a warning, as Hugging Face does with
        truncation=True), the batch padded to the longest with the pad id, an attention mask
        and zero token types; the first output (f32 [batch, seq, dim] hidden states) averaged
        over the mask in float64, then L2-normalized (sentence-transformers' mean pooling).
        Returns float32 [len(texts), dim].
        """
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts:
            raise error("embed: no texts")
        self.plan._require_tokenizer("embed")
        function = function or self.plan.default_function()
        rows = []
        for i, text in enumerate(texts):
            ids, untruncated = self.plan._tokenize(text, True, True)
            if len(ids) == 0:
                raise error(f"text {text!r} has no tokens")
            if untruncated > len(ids):
                warnings.warn(f"text {i + 1} has {untruncated} tokens, more than the tokenizer's "
                              f"max length: truncated to {len(ids)} (as Hugging Face does with "
                              "truncation=True)", stacklevel=2)
            rows.append(ids)
        feeds, mask = self._text_inputs(rows, function)
        hidden = next(iter(self._session.run(function, feeds)))[1]
        batch, length = mask.shape
        if hidden.dtype != np.float32 or hidden.ndim != 3 or hidden.shape[:2] != (batch, length):
            raise error("embed: the first output is not f32 [batch, seq, dim] hidden states")
        return _mean_pool_normalize(hidden, mask)

    def _text_inputs(self, rows, function):
        """The inputs of ``function`` for tokenized rows (tfrun's textInputs): ids padded with
        the pad id (0 without one), the attention mask, zero token types."""
        length = max(len(r) for r in rows)
        pad = self.plan.info["pad_id"]
        ids = np.full((len(rows), length), pad if pad >= 0 else 0, dtype=np.int64)
        mask = np.zeros((len(rows), length), dtype=np.int64)
        for b, r in enumerate(rows):
            ids[b, :len(r)] = r
            mask[b, :len(r)] = 1
        feeds = []
        for port in self.plan.inputs(function):
            name = port.name or ""
            if "mask" in name:
                values = mask
            elif "type" in name:
                values = np.zeros_like(ids)
            elif "ids" in name or "input" in name:
                values = ids
            else:
                values = None
            if values is None or len(port.shape) != 2 or port.dtype is None:
                raise error(f"cannot fill input '{name}' of '{function}' from text (it takes "
                            "token ids [batch, seq], an attention mask and token type ids)")
            feeds.append((name, np.ascontiguousarray(values.astype(port.dtype))))
        return feeds, mask


def _mean_pool_normalize(hidden, mask):
    """tfrun's meanPoolNormalize (tools/tfrun/Text.cpp), rounding for rounding: per text, the
    masked rows summed in float64 in position order, divided by their count, the norm summed
    in float64 in dim order, each value divided by it and rounded to float32."""
    batch, _, dim = hidden.shape
    out = np.zeros((batch, dim), dtype=np.float32)
    for b in range(batch):
        rows = hidden[b][mask[b] != 0].astype(np.float64)
        total = (np.add.accumulate(rows, axis=0)[-1] if len(rows)
                 else np.zeros(dim, dtype=np.float64))
        mean = total / max(float(len(rows)), 1e-9)
        norm = max(np.sqrt(np.add.accumulate(mean * mean)[-1]), 1e-12)
        out[b] = (mean / norm).astype(np.float32)
    return out


def _as_input(name, value, dtype):
    """``value`` as an array the runtime reads in place: unchanged when it already is one."""
    if isinstance(value, np.ndarray):
        if value.flags.c_contiguous and value.flags.aligned and value.dtype.isnative:
            return value
        return np.require(value, dtype=value.dtype.newbyteorder("="), requirements=["C", "A"])
    try:
        return np.ascontiguousarray(np.asarray(value, dtype=dtype))
    except (TypeError, ValueError) as e:
        raise error(f"input '{name}': cannot make an array of it ({e})") from None


class Generation:
    """The tokens of one :meth:`Session.generate` call, as they come.

    Iterating yields each new token (an int), or ``(row, token)`` pairs for a batch of
    prompts. Once the iteration ends, :attr:`sequences` holds each prompt followed by its
    generated tokens and :attr:`stats` the timings. :meth:`close` (or ``with``, or dropping the
    last reference) stops the generation at its next token. A failed generation raises
    :class:`tfc.Error` from the iteration, after the tokens chosen before the failure.
    """

    def __init__(self, stream, batch, prompts):
        self._stream = stream
        self._batch = batch
        self.prompts = prompts

    def __iter__(self):
        return self

    def __next__(self):
        row, token = self._stream.__next__()
        return (row, token) if self._batch else token

    def close(self):
        """Stops the generation at its next token and waits for it to end."""
        self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def finished(self):
        """Whether the generation has ended (tokens may remain to be read)."""
        return self._stream.finished()

    @property
    def sequences(self):
        """Each prompt followed by its generated tokens (int64 arrays); only once finished."""
        return self._stream.sequences()

    @property
    def stats(self):
        """{prompt_tokens, generated_tokens, decode_steps, prefill_ms, decode_ms}; only once
        finished."""
        return self._stream.stats()

    def tokens(self):
        """Reads to the end: the new tokens (a list; a list per prompt for a batch)."""
        if not self._batch:
            return list(self)
        per_row = [[] for _ in self.prompts]
        for row, token in self:
            per_row[row].append(token)
        return per_row
