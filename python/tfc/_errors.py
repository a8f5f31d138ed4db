"""tfc.Error (defined by the extension, a RuntimeError with ``.code``) and its subclasses."""

from ._tfc import Error


class CompileError(Error):
    """``tfc compile`` failed: the message is the compiler's; ``.log`` its whole output,
    ``.command`` the command line, ``.returncode`` its exit status."""

    def __init__(self, message, log="", command=(), returncode=None):
        super().__init__(message)
        self.code = "TFC_COMPILE_FAILED"
        self.log = log
        self.command = list(command)
        self.returncode = returncode


def error(message, code="TFC_INVALID_ARGUMENT"):
    """An Error raised by the Python layer itself, with a tfc_code name like the runtime's."""
    e = Error(message)
    e.code = code
    return e
