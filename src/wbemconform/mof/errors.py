"""What a MOF load reports: :class:`MofLoadError` (``file:line: message``),
:class:`MofLoadWarning` (``file:line: warning: message``), and the
translation of pywbem's compile errors into them."""

from __future__ import annotations

from dataclasses import dataclass

from pywbem import MOFParseError

__all__ = ["MofLoadError", "MofLoadWarning", "UnreadableMof", "as_load_error"]


class MofLoadError(Exception):
    """A MOF file could not be loaded: ``file:line: message``."""

    def __init__(self, file, line, message):
        self.file = file
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self):
        where = self.file or "<string>"
        if self.line:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class MofLoadWarning:
    """Loaded, as WMI would, but most likely a mistake: ``file:line: warning: message``."""

    file: str | None
    line: int | None
    message: str

    def __str__(self):
        where = self.file or "<string>"
        if self.line:
            where = f"{where}:{self.line}"
        return f"{where}: warning: {self.message}"


class UnreadableMof(MOFParseError):
    """A MOF file that cannot be read, is too large, or is not UTF-8."""

    def __init__(self, filename, line, message):
        super().__init__(msg=message)
        self.wbemconform_file = filename
        self.wbemconform_line = line


def as_load_error(exc, filename, may_quote=None):
    """The MofLoadError of a pywbem compile error; ``may_quote(file, top)``
    says whether the message may quote the text of the file it is in.

    The file and line are those a grammar action noted on the error
    (``wbemconform_file``, ``wbemconform_line``: the statement's own), else
    pywbem's."""
    file = getattr(exc, "wbemconform_file", None) or exc.file or filename
    line = getattr(exc, "wbemconform_line", None) or exc.lineno
    message = exc.msg
    cim_error = getattr(exc, "cim_error", None)
    if cim_error is not None:
        message = f"{message}: {cim_error.status_description}"
    if isinstance(exc, MOFParseError) and may_quote is not None and \
            not may_quote(file, filename):
        # a syntax or lexer error quotes the file's text ("near 'root:x:0:0:'")
        message = ("not MOF: syntax error (the text of an included file outside the "
                   "include roots, or not named *.mof, is not shown)")
    elif message == "MOF grammar error" and exc.context:
        message = f"MOF syntax error near {exc.context[-2].strip()!r}"
    return MofLoadError(file, line, message)
