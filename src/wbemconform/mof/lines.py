"""Which line of the MOF text a grammar symbol, a feature or an error is on.

The text the lexer sees has LF line ends only (:func:`wbemconform.mof.source.
normalize_newlines`); the parser keeps it as ``parser.mof``, the file as
``parser.file``, and ``parser.line_index`` (one load's index of line ends,
see :func:`line_in`).
"""

from __future__ import annotations

import bisect
import re
from array import array

__all__ = ["line_in", "line_of", "feature_line", "feature_lines", "property_line"]

#: Texts shorter than this count their lines directly; longer ones get an
#: index of their line ends (built once per text, kept while it is compiled).
_LINE_INDEX_MIN = 4096

_NEWLINE = re.compile("\n")

#: A name followed by what can follow a feature's name in its declaration.
_FEATURE_DECL = re.compile(r"\b(\w+)\s*(?=[=;\[(])")


def line_in(text, pos, index=None):
    """1-based line of a character position, line ends being CR, LF or CRLF
    (the text the lexer sees has LF only).

    ``index`` ({id(text): (text, line end offsets)}, kept by the compiler
    for one load) makes a lookup O(log lines) instead of O(pos): a MOF of N
    aliases or class declarations asks N times."""
    if index is None or len(text) < _LINE_INDEX_MIN:
        return text.count("\n", 0, pos) + 1
    entry = index.get(id(text))
    if entry is None or entry[0] is not text:
        entry = index[id(text)] = (text, array("q", (m.start() for m in
                                                     _NEWLINE.finditer(text))))
    return bisect.bisect_left(entry[1], pos) + 1


def line_of(p, index=1):
    """1-based line of symbol ``index`` of a production (needs tracking)."""
    try:
        pos = p.lexpos(index)
    except (IndexError, AttributeError):
        return None
    return line_in(getattr(p.parser, "mof", None) or "", pos,
                   getattr(p.parser, "line_index", None))


def feature_line(p, name):
    """The line of the declaration of a property (or method) ``name`` inside
    the class declaration being reduced, else the line where it starts."""
    return feature_lines(p, [name])[name]


def feature_lines(p, names):
    """{name: line} of :func:`feature_line` for several names, in one pass
    over the class declaration (not one per name: a class of N properties
    would cost N times its size)."""
    start_line = line_of(p)
    mof = getattr(p.parser, "mof", None)
    if not mof:
        return {name: start_line for name in names}
    start, end = p.lexpos(1), p.lexer.lexpos
    wanted = {name.lower() for name in names}
    first = {}
    for hit in _FEATURE_DECL.finditer(mof, start, end):
        key = hit.group(1).lower()
        if key in wanted and key not in first:
            first[key] = hit.start()
            if len(first) == len(wanted):
                break
    index = getattr(p.parser, "line_index", None)
    return {name: line_in(mof, first[name.lower()], index)
            if name.lower() in first else start_line for name in names}


def property_line(p, cls, description):
    """The line of the property a class error names ("Class.Prop: ..."), else
    the line where the class declaration starts."""
    m = re.match(r"([A-Za-z_]\w*)\.([A-Za-z_]\w*):", description or "")
    if not m or m.group(1).lower() != cls.classname.lower():
        return line_of(p)
    return feature_line(p, m.group(2))
