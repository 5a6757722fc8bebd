"""Text from a target, made safe to print: no control character reaches an output raw.

A server (or a MOF file) decides what its InstanceIDs, names and error
descriptions say. Printed raw, a newline in one starts a line of its own --
``conformance gate: PASSED`` in a failed run -- and an ESC sequence moves the
cursor, recolours or clears the terminal. :func:`neutralize` writes every such
character as a visible escape instead, so a text stays on its line and says
what it said:

* C0 controls (newline, tab and carriage return included), DEL and the C1
  controls become ``\\xNN``;
* the Unicode line and paragraph separators (U+2028, U+2029) and the
  bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069), which
  reorder what a terminal or a browser shows, become ``\\uNNNN``;
* a lone surrogate (which cannot be written as UTF-8 at all, and made a report
  file empty) becomes ``\\udNNN``.

A backslash is left as it is (WMI namespaces are written ``root\\cimv2``), so
a target can write the text ``\\x1b`` but never the character.
"""

from __future__ import annotations

import re

__all__ = ["neutralize", "UNSAFE"]

#: the characters :func:`neutralize` escapes
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                    "\ud800-\udfff]")


def _escape(match):
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def neutralize(text):
    """``text`` with every unsafe character escaped; non-strings unchanged."""
    if not isinstance(text, str):
        return text
    return UNSAFE.sub(_escape, text)
