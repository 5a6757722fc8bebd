"""Reading MOF text: UTF-8 (a BOM allowed), CR, LF or CRLF line ends, at
most :data:`wbemconform.mof.limits.MAX_MOF_BYTES` a file."""

from __future__ import annotations

import os
import re

from . import limits
from .errors import UnreadableMof

__all__ = ["read_mof", "normalize_newlines", "CLASS_DECL"]

#: A class declaration's name (group 1) and superclass (group 2), found
#: without compiling (a line that starts ``class Name : Super``).
CLASS_DECL = re.compile(r"^\s*class\s+([A-Za-z_]\w*)\s*(?::\s*([A-Za-z_]\w*))?",
                        re.I | re.M)


def normalize_newlines(text):
    """CR and CRLF line ends as LF: pywbem's lexer knows only LF, and a
    ``//`` comment would otherwise run to the end of a CR-only file."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_mof(filename, note=None):
    """The text of a MOF file (UTF-8, a BOM allowed, any line ends);
    ``note(filename, bytes)`` is told what was read."""
    try:
        size = os.path.getsize(filename)
        if size > limits.MAX_MOF_BYTES:
            raise UnreadableMof(filename, None,
                                f"MOF file is {size} bytes; the limit is {limits.MAX_MOF_BYTES}")
        with open(filename, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UnreadableMof(filename, None, f"cannot read MOF file: {exc.strerror}") from None
    if note is not None:
        note(filename, data)
    try:
        return normalize_newlines(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        before = data[:exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        raise UnreadableMof(filename, before.count(b"\n") + 1,
                            f"not UTF-8 text: byte 0x{data[exc.start]:02x} "
                            f"at offset {exc.start}") from None
