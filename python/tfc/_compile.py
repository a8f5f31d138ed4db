"""tfc.compile: a model in, a plan file out, through the ``tfc`` executable.

The compiler (MLIR, LLVM 19) is not linked into the package: ``pip install .`` builds the
runtime only, in a minute or two, where linking the compiler would need LLVM/MLIR's development
packages and several more minutes of build. A compile is a one-off step of seconds, so running
``tfc compile`` as a subprocess costs nothing that matters, keeps a compiler crash out of the
Python process, and gives the same options, messages and report as the command line.
"""

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import _build_config
from ._errors import CompileError, error


def find_compiler():
    """The ``tfc`` executable compile() runs: $TFC_COMPILER when set; else the build of the
    source tree this package was built from (SOURCE_DIR/build/bin/tfc: a compiler that
    writes the plan format this runtime reads); else ``tfc`` on PATH. Raises Error when none
    is found, naming the places looked at."""
    env = os.environ.get("TFC_COMPILER")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise error(f"TFC_COMPILER={env} is not an executable file", "TFC_NOT_FOUND")
        return env
    tried = []
    if _build_config.SOURCE_DIR:
        repo = os.path.join(_build_config.SOURCE_DIR, "build", "bin", "tfc")
        if os.path.isfile(repo) and os.access(repo, os.X_OK):
            return repo
        tried.append(repo)
    found = shutil.which("tfc")
    if found:
        return found
    tried.append("tfc on PATH")
    raise error("no tfc compiler found (looked at $TFC_COMPILER, " + ", ".join(tried) +
                "): build it (tools/build.sh) or set TFC_COMPILER", "TFC_NOT_FOUND")


@dataclass
class CompileResult:
    """What :func:`compile` did: the plan's path, the compiler's report (``--report``: fusions,
    symbols and their bounds, arena bytes, accuracy, ...), its output and command line."""
    path: Path
    report: dict = field(default_factory=dict)
    log: str = ""
    command: list = field(default_factory=list)


def compile(model, output, *, target="cpu", precision="fp32", max_batch=None, max_seq=None,
            bounds=None, fuse=True, report=None, min_cosine=None, calibrate=None,
            accuracy_check=True, fallback_fp32=False, compiler=None, timeout=None):
    """Compiles ``model`` (a model.fbs, an ONNX file or a Hugging Face checkpoint directory)
    into the plan ``output``, as ``tfc compile MODEL -o OUTPUT`` does with the matching options:

    ============================  ==========================================
    target="cpu"|"cuda"           --target
    precision="fp32"|"bf16"|...   --precision
    max_batch=N, max_seq=N        --max-batch, --max-seq
    bounds={"past": 64}           --bound NAME=N (one per entry)
    fuse=False                    --no-fuse
    report="r.json"               --report (the report is also returned)
    min_cosine=X                  --min-cosine
    calibrate="dir"               --calibrate
    accuracy_check=False          --no-accuracy-check
    fallback_fp32=True            --fallback-fp32
    ============================  ==========================================

    ``compiler``: the ``tfc`` executable (default: :func:`find_compiler`). Returns a
    :class:`CompileResult`; raises :class:`CompileError` (a :class:`tfc.Error`) with the
    compiler's message when it fails; nothing is written at ``output`` then.
    """
    exe = compiler or find_compiler()
    cmd = [exe, "compile", os.fspath(model), "-o", os.fspath(output),
           "--target", str(target), "--precision", str(precision)]
    if max_batch is not None:
        cmd += ["--max-batch", str(int(max_batch))]
    if max_seq is not None:
        cmd += ["--max-seq", str(int(max_seq))]
    for name, n in (bounds or {}).items():
        cmd += ["--bound", f"{name}={int(n)}"]
    if not fuse:
        cmd.append("--no-fuse")
    if min_cosine is not None:
        cmd += ["--min-cosine", repr(float(min_cosine))]
    if calibrate is not None:
        cmd += ["--calibrate", os.fspath(calibrate)]
    if not accuracy_check:
        cmd.append("--no-accuracy-check")
    if fallback_fp32:
        cmd.append("--fallback-fp32")
    with tempfile.TemporaryDirectory(prefix="tfc-compile-") as tmp:
        report_path = os.fspath(report) if report is not None else os.path.join(tmp, "report.json")
        cmd += ["--report", report_path]
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise CompileError(f"tfc compile {model}: no result after {timeout} s",
                               (e.output or b"").decode("utf-8", "replace"), cmd) from None
        log = proc.stdout.decode("utf-8", errors="replace")
        if proc.returncode != 0:
            lines = [l for l in log.splitlines() if l.strip()]
            message = "\n".join(lines[-5:]) if lines else f"exit status {proc.returncode}"
            raise CompileError(message, log, cmd, proc.returncode)
        with open(report_path, encoding="utf-8") as f:
            data = json.load(f)
    return CompileResult(path=Path(output), report=data, log=log, command=cmd)
