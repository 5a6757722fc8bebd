"""String and char16 literals: what is wrong with one that does not lex,
escapes, UTF-16 surrogates, and the grammar actions for values.

pywbem 1.9.1 builds an array initializer by copying the list for every
entry (``p[1] + [p[3]]``) and a string of adjacent literals ("a" "b" ...)
by joining them pairwise: both quadratic in the number of entries (a 640 KB
array value loaded in minutes). Its escape decoder reads past the end of a
string ending in a hex escape ("abc\\x41": IndexError), drops ``\\'`` and
lets a UTF-16 surrogate (``\\xD800``) through, which is not a character and
breaks everything that encodes the value later. The actions here
(``p_*``) replace pywbem's for the same grammar rules (their docstrings);
:mod:`wbemconform.mof.grammar` rebinds them.
"""

from __future__ import annotations

import re

from pywbem import MOFParseError

from .lines import line_in

__all__ = ["bad_literal", "string_literal", "string_value", "StringParts", "SURROGATE",
           "p_string_value_list", "p_constant_value", "p_constant_value_list",
           "p_pragma_parameter"]

_ESCAPE = re.compile(r'\\(?:([bfnrt\'"\\])|[xX]([0-9a-fA-F]{1,4}))')
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                   "'": "'", '"': '"', "\\": "\\"}
#: a surrogate pair (one character, as UTF-16 writes it), or a lone surrogate
_SURROGATES = re.compile("[\ud800-\udbff][\udc00-\udfff]|([\ud800-\udfff])")
#: any UTF-16 surrogate
SURROGATE = re.compile("[\ud800-\udfff]")


def bad_literal(text):
    """What is wrong with the string (or char) literal ``text`` starts with,
    looking no further than its line; None if nothing is found."""
    quote = text[0]
    kind = "string" if quote == '"' else "char16"
    end = text.find("\n")
    line = text if end < 0 else text[:end]
    i = 1
    while i < len(line):
        char = line[i]
        if char == quote:
            return None
        if char == "\\":
            escape = line[i + 1:i + 2]
            if escape in ("x", "X"):
                if not re.match(r"[0-9a-fA-F]", line[i + 2:i + 3]):
                    return (f"{kind} literal: the escape \\{escape} needs 1 to 4 hex digits "
                            f"(DSP0004: \\x0041 is 'A')")
                i += 2
                continue
            if escape and escape in "bfnrt'\"\\":
                i += 2
                continue
            what = f"unknown escape \\{repr(escape)[1:-1]}" if escape else \
                "a \\ at the end of the line"
            return (f"{kind} literal: {what} (DSP0004 has \\b \\t \\n \\f \\r \\\" "
                    "\\' \\\\ and \\x with 1 to 4 hex digits)")
        i += 1
    return f"{kind} literal: no closing {quote} on its line"


def _unescape(match):
    simple, code = match.groups()
    return _SIMPLE_ESCAPES[simple] if simple else chr(int(code, 16))


def string_literal(token):
    """The value of one string literal token (quotes included), escapes
    decoded (the lexer lets only DSP0004's escapes through)."""
    body = token[1:-1]
    return _ESCAPE.sub(_unescape, body) if "\\" in body else body


def _combine_pair(match):
    high, low = match.group()
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


class StringParts(list):
    """The decoded literals of a string value ("a" "b" ...), joined once."""

    def __init__(self, value, pos):
        super().__init__([value])
        self.positions = [pos]  # lexpos of each literal


def string_value(parts, p, what="string value"):
    """Join the literals of a string value; a surrogate pair written as two
    escapes (``\\xD83D\\xDE00``, as UTF-16 has it) is the one character it
    encodes, a lone surrogate is an error naming the literal's line."""
    value = "".join(parts)
    if SURROGATE.search(value) is None:
        return value
    for hit in _SURROGATES.finditer(value):
        if hit.group(1) is None:
            continue
        offset, index = hit.start(), 0
        while index < len(parts) - 1 and offset >= len(parts[index]):
            offset -= len(parts[index])
            index += 1
        code = ord(hit.group(1))
        error = MOFParseError(
            msg=f"{what} holds a lone UTF-16 surrogate (\\x{code:04X}): a surrogate is "
                "not a character; write the character itself, or both halves of a "
                "surrogate pair",
            parser_token=p)
        error.wbemconform_line = line_in(
            getattr(p.parser, "mof", None) or "", parts.positions[index],
            getattr(p.parser, "line_index", None))
        error.wbemconform_file = getattr(p.parser, "file", None)
        raise error
    return _SURROGATES.sub(_combine_pair, value)


def p_string_value_list(p):
    """stringValueList : stringValue
                       | stringValueList stringValue
                       """
    if len(p) == 2:
        p[0] = StringParts(string_literal(p[1]), p.lexpos(1))
    else:
        p[1].append(string_literal(p[2]))
        p[1].positions.append(p.lexpos(2))
        p[0] = p[1]


def p_constant_value(p):
    """constantValue : integerValue
                     | floatValue
                     | charValue
                     | stringValueList
                     | booleanValue
                     | nullValue
                     """
    value = p[1]
    p[0] = string_value(value, p) if isinstance(value, StringParts) else value


def p_constant_value_list(p):
    """constantValueList : constantValue
                         | constantValueList ',' constantValue
                         """
    if len(p) == 2:
        p[0] = [p[1]]
    else:
        p[1].append(p[3])  # the list is this rule's own, made by its first alternative
        p[0] = p[1]


def p_pragma_parameter(p):
    """pragmaParameter : stringValue"""
    p[0] = string_value(StringParts(string_literal(p[1]), p.lexpos(1)), p,
                        "#pragma parameter")
