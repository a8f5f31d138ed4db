"""tfc: compile transformer models into plans and run them, from Python.

    import tfc
    tfc.compile("build/models/all-MiniLM-L6-v2", "minilm.plan", max_batch=8, max_seq=256)
    plan = tfc.Plan("minilm.plan")
    session = tfc.Session(plan, threads=2)
    vectors = session.embed(["A cat sits.", "A dog runs."])      # as tfrun --embed
    outputs = session.run({"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    for token in session.generate([1, 5, 9], max_new_tokens=16):  # a generative plan
        print(token)

Bindings of the runtime's C API (runtime/include/tfc/tfc_runtime.h); compiling runs the ``tfc``
executable (see :func:`compile`). Errors raise :class:`Error` (a RuntimeError) with the
runtime's message and ``.code`` (e.g. ``"TFC_NOT_FOUND"``). docs/PYTHON.md has the whole API.
"""

from ._tfc import Error, backends, device_check, wait_policy
from ._errors import CompileError
from ._plan import Plan, Port
from ._session import Session, Generation
from ._compile import compile, find_compiler, CompileResult
from . import _build_config

__version__ = _build_config.VERSION

__all__ = ["Error", "CompileError", "Plan", "Port", "Session", "Generation", "compile",
           "find_compiler", "CompileResult", "backends", "device_check", "wait_policy",
           "__version__"]
