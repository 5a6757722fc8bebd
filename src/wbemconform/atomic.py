"""Result files written whole or not at all.

Every result file (JSON, HTML, JUnit, the operation log) is written to a
temporary file beside it and renamed into place: a run killed while writing
leaves the previous file or the new one, never half of one, and a reader
never sees a file being written. :func:`probe` tells before a run starts
whether a file can be written there, so a run does not learn at its end that
its results are lost.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_text", "probe"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: the mode a new file gets (a temporary file is created 0600)
FILE_MODE = 0o666 & ~_umask()


def write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically, creating its folder;
    characters UTF-8 cannot hold (lone surrogates) are written escaped."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace",
                       newline="") as f:
            f.write(text)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def probe(path):
    """None when a file can be written at ``path`` (its folder is created), else
    why not, in words."""
    path = Path(path)
    if path.is_dir():
        return "it is a folder"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None
