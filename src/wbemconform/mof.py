"""The WMI MOF dialect, compiled with pywbem's own MOF compiler.

pywbem's compiler (a PLY grammar) parses the MOF; this module changes what a
few grammar actions *do*, never the grammar:

* ``#pragma namespace`` accepts what WMI's mofcomp accepts -- a bare name or
  the local-machine form ``"\\\\\\\\.\\\\root\\\\interop"`` -- and rejects a
  namespace on any other machine, naming the line;
* ``#pragma namespace`` creates at most :data:`MAX_NAMESPACES` namespaces;
* ``#pragma include`` looks in the including file's folder, then in the
  schema folders (like Windows' ``%systemroot%\\system32\\wbem``), compiles a
  file into a namespace only once, refuses include chains deeper than
  :data:`MAX_INCLUDE_DEPTH`, and reads only inside the top-level file's
  folder tree, the schema folders and the include roots
  (:func:`default_include_roots`) unless told otherwise
  (``allow_include_outside``); an error never quotes a file an include
  reached outside them, nor one not named ``*.mof``;
* a class declaration is created through the connection (so the mock's
  broker applies WMI's class rules: inherited ``Association``, implicit
  overrides, references in ordinary classes); an existing class is updated,
  as mofcomp does by default, and an identical redeclaration is a no-op;
* an instance alias (``as $X``) can be defined once per compilation unit
  (a top-level file and what it includes), as in mofcomp;
* in the WMI dialect a qualifier needs no declaration (WMI types it from its
  value; a bare qualifier is boolean TRUE), a likely misspelling of a
  declared one is reported as a warning;
* with a DMTF CIM schema (:class:`wbemconform.mock.dmtf.DmtfSchema`), a class that a declaration
  or an instance needs and the namespace lacks is compiled from the schema,
  with its own dependencies (superclasses, referenced and embedded classes),
  and nothing else.

The text is read as UTF-8 (a BOM allowed) with CR, LF or CRLF line ends, and
lexed in time and memory linear in its size (:func:`_linear_lexer`).

Every failure becomes a :class:`MofLoadError` whose text is
``file:line: message``; what WMI accepts but is most likely a mistake becomes
a :class:`MofLoadWarning` (``file:line: warning: message``).
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import os
import re
from array import array
from dataclasses import dataclass
from pathlib import Path

# pywbem's MOF compiler module itself: this module rebinds a few of its PLY
# grammar actions and lexer patterns (the only private use of pywbem here;
# tests/test_mof_loader.py::test_linear_lexer_* and tests/test_private_apis.py
# fail loudly if pywbem changes what is relied on)
import pywbem._mof_compiler as _pywbem_mof
from pywbem import (CIM_ERR_ALREADY_EXISTS, CIM_ERR_INVALID_SUPERCLASS,
                    BaseRepositoryConnection, CIMError, CIMQualifier, MOFCompileError,
                    MOFCompiler, MOFParseError, MOFRepositoryError, NocaseDict)

from .namespaces import NamespaceSyntaxError, parse_namespace, remote_target_namespace

__all__ = ["MofLoadError", "MofLoadWarning", "WmiMofCompiler", "default_include_roots",
           "DEFAULT_NAMESPACE", "MAX_INCLUDE_DEPTH", "MAX_MOF_BYTES", "MAX_NAMESPACES",
           "DIALECTS"]

#: Where MOF without a namespace pragma goes. WMI's mofcomp would use
#: root\default; the spec's first block (the registered profile) belongs in
#: the interop namespace, so that is where we put it.
DEFAULT_NAMESPACE = "root/interop"

#: Pragmas that have no effect on a mock repository but are legal WMI MOF.
_IGNORED_PRAGMAS = ("locale", "autorecover")

#: How many files deep ``#pragma include`` may nest. Real schemas nest two or
#: three deep (DMTF: cim_schema_X.mof -> one file per class); the limit keeps
#: a runaway chain a clear error instead of Python's RecursionError.
MAX_INCLUDE_DEPTH = 32

#: The largest MOF file read (the whole DMTF schema, one file per class, is
#: 4 MB in all); memory use is linear in the size, the cap bounds it.
MAX_MOF_BYTES = 64 * 1024 * 1024

#: How many namespaces the MOF loaded into one mock may create with ``#pragma
#: namespace``. Each new namespace gets WMI's system classes and qualifiers
#: (about 25 ms and 0.5 MB): without a bound a small file that names
#: thousands of namespaces costs minutes and gigabytes. Real providers
#: create a few; a Windows machine has about a hundred in all.
MAX_NAMESPACES = 256

#: ``wmi``: undeclared qualifiers are accepted and a reference to a class
#: that exists nowhere is a warning, as WMI accepts both.
#: ``dmtf``: both are errors, as DSP0004 compilers (OpenPegasus, SFCB) have it.
DIALECTS = ("wmi", "dmtf")


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


# ---------------------------------------------------------------------------
# pywbem's lexer, made linear.
#
# PRIVATE USE of pywbem 1.9.1 (tests/test_mof_loader.py checks it and fails
# loudly if pywbem changes it): the compiler's PLY lexer matches string
# literals, /* */ comments and identifiers with regular expressions that
# repeat a *group* (``"(sChar)*"``), for which Python's re keeps state per
# repetition: a 1 MB string literal costs 0.7 GB, a 1 MB identifier 1.2 GB.
# The token functions stay pywbem's; only these three patterns are replaced
# in the lexer's master expression, by patterns for the same language that
# repeat single characters possessively (constant memory), padded with empty
# groups so that every later token keeps its group number.
# ---------------------------------------------------------------------------

_NC_UTF8 = _pywbem_mof.utf8Char.replace("(", "(?:")
_LINEAR_TOKENS = {
    "t_stringValue": (_pywbem_mof.stringvalue_re,
                      r'"[^"\\\n\r]*+(?:\\(?:[bfnrt\'"\\]|[xX][0-9a-fA-F]{1,4})[^"\\\n\r]*+)*+"'),
    "t_MCOMMENT": (r"/\*(.|\n)*?\*/", r"/\*[^*]*+\*++(?:[^/*][^*]*+\*++)*+/"),
    "t_IDENTIFIER": (_pywbem_mof.identifier_re,
                     rf"(?:[a-zA-Z_]|{_NC_UTF8})[0-9a-zA-Z_]*+(?:(?:{_NC_UTF8})[0-9a-zA-Z_]*+)*+"),
}


def _t_mcomment(t):
    """A /* */ comment: skipped, counting its lines (pywbem's forgets to)."""
    t.lexer.lineno += t.value.count("\n")


def _t_error(t):
    """pywbem's lexer error, saying what is wrong with a string or char
    literal that does not lex (pywbem only says "Illegal character '\"'")."""
    token = _pywbem_mof.t_error(t)
    if t.value[:1] in "\"'":
        problem = _bad_literal(t.value)
        if problem:
            t.lexer.last_msg = problem
    return token


def _bad_literal(text):
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


class LexerChanged(RuntimeError):
    """pywbem's lexer is not the one this module was written for."""


def _linear_lexer(lexer):
    """Replace the three quadratic-memory token patterns of a pywbem MOF lexer."""
    state = lexer.lexstatere.get("INITIAL")
    done = set()
    new_state = []
    for master, funcs in state or ():
        text = master.pattern
        funcs = list(funcs)
        for name, (old, new) in _LINEAR_TOKENS.items():
            group = f"(?P<{name}>{old})"
            if group not in text:
                continue
            pad = re.compile(old).groups - re.compile(new).groups
            text = text.replace(group, f"(?P<{name}>{'()' * pad}{new})")
            done.add(name)
            if name == "t_MCOMMENT":
                index = re.compile(text).groupindex[name]
                funcs[index] = (_t_mcomment, funcs[index][1])
        new_state.append((re.compile(text, master.flags), funcs))
    missing = set(_LINEAR_TOKENS) - done
    if missing:
        raise LexerChanged(
            f"pywbem's MOF lexer has changed: no token pattern for {sorted(missing)}; "
            "wbemconform.mof._LINEAR_TOKENS must follow it")
    lexer.lexstatere["INITIAL"] = new_state
    lexer.lexre = new_state


# ---------------------------------------------------------------------------
# grammar actions
# ---------------------------------------------------------------------------

#: Texts shorter than this count their lines directly; longer ones get an
#: index of their line ends (built once per text, kept while it is compiled).
_LINE_INDEX_MIN = 4096


def _line_in(text, pos, index=None):
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


_NEWLINE = re.compile("\n")


def _line_of(p, index=1):
    """1-based line of symbol ``index`` of a production (needs tracking)."""
    try:
        pos = p.lexpos(index)
    except (IndexError, AttributeError):
        return None
    return _line_in(getattr(p.parser, "mof", None) or "", pos,
                    getattr(p.parser, "line_index", None))


def _annotating(action):
    """Wrap a grammar action so that its errors remember the statement's line."""

    @functools.wraps(action)
    def wrapped(p):
        try:
            action(p)
        except MOFCompileError as exc:
            if getattr(exc, "wbemconform_line", None) is None:
                exc.wbemconform_line = _line_of(p)
                exc.wbemconform_file = getattr(p.parser, "file", None)
            raise
    return wrapped


def _p_compiler_directive(p):
    """compilerDirective : '#' PRAGMA pragmaName '(' pragmaParameter ')'"""
    directive = p[3].lower()
    param = p[5]
    compiler = p.parser.mofcomp
    if directive == "namespace":
        compiler._switch_namespace(param, p)
    elif directive == "include":
        compiler._include(param, p)
    elif directive in _IGNORED_PRAGMAS:
        pass
    else:
        raise MOFParseError(
            msg=f"#pragma {p[3]} is not supported by the wbemconform mock "
                f"(supported: namespace, include, {', '.join(_IGNORED_PRAGMAS)})",
            parser_token=p)
    p[0] = None


def _feature_line(p, name):
    """The line of the declaration of a property (or method) ``name`` inside
    the class declaration being reduced, else the line where it starts."""
    return _feature_lines(p, [name])[name]


#: A name followed by what can follow a feature's name in its declaration.
_FEATURE_DECL = re.compile(r"\b(\w+)\s*(?=[=;\[(])")


def _feature_lines(p, names):
    """{name: line} of :func:`_feature_line` for several names, in one pass
    over the class declaration (not one per name: a class of N properties
    would cost N times its size)."""
    start_line = _line_of(p)
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
    return {name: _line_in(mof, first[name.lower()], index)
            if name.lower() in first else start_line for name in names}


def _property_line(p, cls, description):
    """The line of the property a class error names ("Class.Prop: ..."), else
    the line where the class declaration starts."""
    m = re.match(r"([A-Za-z_]\w*)\.([A-Za-z_]\w*):", description or "")
    if not m or m.group(1).lower() != cls.classname.lower():
        return _line_of(p)
    return _feature_line(p, m.group(2))


def _dependencies(cls):
    """Classes a declaration needs: superclass, referenced, embedded (in order)."""
    out = [cls.superclass] if cls.superclass else []
    features = list(cls.properties.values())
    for meth in cls.methods.values():
        features.extend(meth.parameters.values())
    for feat in features:
        if feat.type == "reference" and feat.reference_class:
            out.append(feat.reference_class)
        qual = feat.qualifiers.get("EmbeddedInstance")
        if qual is not None and isinstance(qual.value, str):
            out.append(qual.value)
    seen, unique = set(), []
    for name in out:
        if name.lower() not in seen and name.lower() != cls.classname.lower():
            seen.add(name.lower())
            unique.append(name)
    return unique


def _p_mp_create_class(p):
    """mp_createClass : classDeclaration"""
    ns = p.parser.target_namespace or p.parser.handle.default_namespace
    cls = p[1]
    compiler = p.parser.mofcomp
    handle = p.parser.handle
    compiler._require_classes(ns, _dependencies(cls), p)
    compiler._note_remote_target_namespaces(cls, p)
    written = cls.copy()  # the declaration as written; the server resolves ``cls``
    try:
        handle.CreateClass(cls, namespace=ns)
    except CIMError as exc:
        if exc.status_code != CIM_ERR_ALREADY_EXISTS:
            hint = ""
            if exc.status_code == CIM_ERR_INVALID_SUPERCLASS:
                hint = compiler._missing_class_hint(cls.superclass, ns)
            error = MOFRepositoryError(
                msg=f"cannot create class {cls.classname} in namespace "
                    f"{ns}: {exc.status_description}{hint}",
                parser_token=p)
            error.wbemconform_line = _property_line(p, cls, exc.status_description)
            raise error
        if compiler._same_declaration(ns, written):
            return  # the same declaration again (an include through another path)
        try:
            handle.ModifyClass(cls, namespace=ns)
        except CIMError as exc2:
            raise MOFRepositoryError(
                msg=f"class {cls.classname} already exists in namespace {ns} "
                    f"and cannot be updated: {exc2.status_description}"
                    + compiler._redeclaration_hint(ns, cls.classname),
                parser_token=p)
    compiler._declared(ns, written, p)


def _alias_of(p, start, stop):
    for i in range(start, min(stop, len(p))):
        value = p[i]
        if isinstance(value, str) and value.startswith("$"):
            return value
    return None


def _checking_alias(action, alias_at):
    """Wrap a declaration action: an alias may be defined once per compilation unit."""

    @functools.wraps(action)
    def wrapped(p):
        alias = alias_at(p)
        if alias:
            p.parser.mofcomp._define_alias(alias, p)
        action(p)
    return wrapped


def _instance_alias(p):
    return p[1][1] if isinstance(p[1], list) and len(p[1]) == 2 else None


def _watching_instances(action):
    """Remember where instances of the watched classes were declared."""

    @functools.wraps(action)
    def wrapped(p):
        action(p)
        inst = p[1][0] if isinstance(p[1], list) and p[1] else None
        compiler = p.parser.mofcomp
        if inst is not None and inst.classname.lower() in compiler.watch:
            ns = p.parser.target_namespace or p.parser.handle.default_namespace
            compiler.watched_instances.setdefault(inst.classname.lower(), []).append(
                _InstanceSite(ns, inst, p.parser.file, _line_of(p)))
    return wrapped


def _class_alias(p):
    return _alias_of(p, 2, 6)


def _p_instance_declaration(action):
    """Before pywbem builds an instance, make sure its class is there (from a
    DMTF schema, if one is given)."""

    @functools.wraps(action)
    def wrapped(p):
        cname = p[3] if isinstance(p[1], str) else p[4]
        handle = p.parser.handle
        ns = p.parser.target_namespace or handle.default_namespace
        p.parser.mofcomp._require_classes(ns, [cname], p)
        # pywbem's p_instanceDeclaration reads the class (copying each
        # property it uses): no copy of the whole class per instance
        lending, handle.lending = handle.lending, True
        try:
            action(p)
        finally:
            handle.lending = lending
    return wrapped


def _edits(a, b):
    """Optimal string alignment distance (insertions, deletions, substitutions,
    transpositions of neighbours), case-insensitive."""
    a, b = a.lower(), b.lower()
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _misspelling_of(name, declared):
    """The declared name ``name`` most likely misspells, or None."""
    allowed = 1 if len(name) < 8 else 2
    best = min(((_edits(name, d), d) for d in declared if d.lower() != name.lower()),
               default=(allowed + 1, None))
    return best[1] if best[0] <= allowed else None


def _wmi_qualifier_type(value):
    """WMI's type for an undeclared qualifier's value (``Applying a Qualifier``)."""
    sample = value[0] if isinstance(value, list) and value else value
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int):
        return "sint32" if -2**31 <= sample < 2**31 else "sint64"
    if isinstance(sample, float):
        return "real64"
    return "string"


def _p_qualifier(action):
    """In the WMI dialect, a qualifier nobody declared is accepted as WMI does."""

    @functools.wraps(action)
    def wrapped(p):
        compiler = p.parser.mofcomp
        try:
            action(p)
            return
        except ValueError as exc:  # pywbem lets a value of the wrong type escape
            raise MOFParseError(msg=f"qualifier {p[1]}: invalid value: {exc}",
                                parser_token=p) from None
        except MOFCompileError as exc:
            if compiler.dialect != "wmi" or "qualifier declaration does not exist" \
                    not in exc.msg:
                raise
        name = p[1]
        value = True
        flavors = []
        if len(p) == 3:
            value = p[2]
        elif len(p) == 4:
            flavors = p[3]
        elif len(p) == 5:
            value, flavors = p[2], p[4]
        qtype = _wmi_qualifier_type(value)
        compiler._undeclared_qualifier(name, p)
        p[0] = CIMQualifier(name, value, type=qtype,
                            **_pywbem_mof._build_flavors(p, flavors, None, name))
    return wrapped


# ---------------------------------------------------------------------------
# values: strings and arrays, linear and checked
#
# pywbem 1.9.1 builds an array initializer by copying the list for every
# entry (``p[1] + [p[3]]``) and a string of adjacent literals ("a" "b" ...)
# by joining them pairwise: both quadratic in the number of entries (a 640 KB
# array value loaded in minutes). Its escape decoder reads past the end of a
# string ending in a hex escape ("abc\x41": IndexError), drops ``\'`` and
# lets a UTF-16 surrogate (``\xD800``) through, which is not a character and
# breaks everything that encodes the value later. These actions replace
# pywbem's for the same grammar rules.
# ---------------------------------------------------------------------------

_ESCAPE = re.compile(r'\\(?:([bfnrt\'"\\])|[xX]([0-9a-fA-F]{1,4}))')
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                   "'": "'", '"': '"', "\\": "\\"}
#: a surrogate pair (one character, as UTF-16 writes it), or a lone surrogate
_SURROGATES = re.compile("[\ud800-\udbff][\udc00-\udfff]|([\ud800-\udfff])")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unescape(match):
    simple, code = match.groups()
    return _SIMPLE_ESCAPES[simple] if simple else chr(int(code, 16))


def _string_literal(token):
    """The value of one string literal token (quotes included), escapes
    decoded (the lexer lets only DSP0004's escapes through)."""
    body = token[1:-1]
    return _ESCAPE.sub(_unescape, body) if "\\" in body else body


def _combine_pair(match):
    high, low = match.group()
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


class _StringParts(list):
    """The decoded literals of a string value ("a" "b" ...), joined once."""

    def __init__(self, value, pos):
        super().__init__([value])
        self.positions = [pos]  # lexpos of each literal


def _string_value(parts, p, what="string value"):
    """Join the literals of a string value; a surrogate pair written as two
    escapes (``\\xD83D\\xDE00``, as UTF-16 has it) is the one character it
    encodes, a lone surrogate is an error naming the literal's line."""
    value = "".join(parts)
    if _SURROGATE.search(value) is None:
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
        error.wbemconform_line = _line_in(
            getattr(p.parser, "mof", None) or "", parts.positions[index],
            getattr(p.parser, "line_index", None))
        error.wbemconform_file = getattr(p.parser, "file", None)
        raise error
    return _SURROGATES.sub(_combine_pair, value)


def _p_string_value_list(p):
    """stringValueList : stringValue
                       | stringValueList stringValue
                       """
    if len(p) == 2:
        p[0] = _StringParts(_string_literal(p[1]), p.lexpos(1))
    else:
        p[1].append(_string_literal(p[2]))
        p[1].positions.append(p.lexpos(2))
        p[0] = p[1]


def _p_constant_value(p):
    """constantValue : integerValue
                     | floatValue
                     | charValue
                     | stringValueList
                     | booleanValue
                     | nullValue
                     """
    value = p[1]
    p[0] = _string_value(value, p) if isinstance(value, _StringParts) else value


def _p_constant_value_list(p):
    """constantValueList : constantValue
                         | constantValueList ',' constantValue
                         """
    if len(p) == 2:
        p[0] = [p[1]]
    else:
        p[1].append(p[3])  # the list is this rule's own, made by its first alternative
        p[0] = p[1]


def _p_pragma_parameter(p):
    """pragmaParameter : stringValue"""
    p[0] = _string_value(_StringParts(_string_literal(p[1]), p.lexpos(1)), p,
                         "#pragma parameter")


_ACTION_OVERRIDES = {
    "p_compilerDirective": _p_compiler_directive,
    "p_mp_createClass": _p_mp_create_class,
    "p_stringValueList": _p_string_value_list,
    "p_constantValue": _p_constant_value,
    "p_constantValueList": _p_constant_value_list,
    "p_pragmaParameter": _p_pragma_parameter,
}

_ACTION_WRAPPERS = {
    "p_mp_createInstance": lambda a: _watching_instances(_checking_alias(a, _instance_alias)),
    "p_classDeclaration": lambda a: _checking_alias(a, _class_alias),
    "p_instanceDeclaration": _p_instance_declaration,
    "p_qualifier": _p_qualifier,
}


class _ConnectionHandle(BaseRepositoryConnection):
    """The MOF compiler's view of a connection: every call goes to the server."""

    def __init__(self, conn, default_namespace):
        self.conn = None  # the compiler wants a WBEMConnection or None here
        self._conn = conn
        self._default_namespace = default_namespace
        # the compiler asks for an instance's class once per "instance of":
        # remember classes (as pywbem_mock's own compiler connection does)
        # until a class changes
        self._classes = {}
        #: while true, GetClass lends the remembered class instead of a copy
        #: (set around pywbem's instance declaration, which only reads it)
        self.lending = False

    @property
    def default_namespace(self):
        return self._default_namespace

    def getns(self):
        return self._default_namespace

    def _ns(self, kwargs):
        return kwargs.pop("namespace", None) or self._default_namespace

    def EnumerateInstanceNames(self, *args, **kwargs):
        return self._conn.EnumerateInstanceNames(*args, namespace=self._ns(kwargs), **kwargs)

    def CreateInstance(self, *args, **kwargs):
        ns = self._ns(kwargs)
        inst = args[0] if args else kwargs.pop("NewInstance")
        inst.path = None
        path = self._conn.CreateInstance(inst, namespace=ns)
        if path.namespace is None:
            path.namespace = ns
        path.host = None
        return path

    def ModifyInstance(self, *args, **kwargs):
        return self._conn.ModifyInstance(*args, **kwargs)

    def DeleteInstance(self, *args, **kwargs):
        return self._conn.DeleteInstance(*args, **kwargs)

    def GetClass(self, *args, **kwargs):
        ns = self._ns(kwargs)
        key = (ns.lower(), str(args[0] if args else kwargs.get("ClassName")).lower(),
               tuple(sorted((k, str(v)) for k, v in kwargs.items())))
        if key not in self._classes:
            self._classes[key] = self._conn.GetClass(*args, namespace=ns, **kwargs)
        return self._classes[key] if self.lending else self._classes[key].copy()

    def class_exists(self, classname, namespace):
        cheap = getattr(self._conn, "class_exists_in", None)
        if cheap is not None:
            return cheap(namespace, classname)
        try:
            self.GetClass(classname, namespace=namespace, LocalOnly=False,
                          IncludeQualifiers=True)
            return True
        except CIMError:
            return False

    def CreateClass(self, *args, **kwargs):
        self._classes.clear()
        return self._conn.CreateClass(*args, namespace=self._ns(kwargs), **kwargs)

    def ModifyClass(self, *args, **kwargs):
        self._classes.clear()
        return self._conn.ModifyClass(*args, namespace=self._ns(kwargs), **kwargs)

    def DeleteClass(self, *args, **kwargs):
        self._classes.clear()
        return self._conn.DeleteClass(*args, namespace=self._ns(kwargs), **kwargs)

    def EnumerateQualifiers(self, *args, **kwargs):
        return self._conn.EnumerateQualifiers(*args, namespace=self._ns(kwargs), **kwargs)

    def GetQualifier(self, *args, **kwargs):
        return self._conn.GetQualifier(*args, namespace=self._ns(kwargs), **kwargs)

    def SetQualifier(self, *args, **kwargs):
        return self._conn.SetQualifier(*args, namespace=self._ns(kwargs), **kwargs)

    def DeleteQualifier(self, *args, **kwargs):
        return self._conn.DeleteQualifier(*args, namespace=self._ns(kwargs), **kwargs)


_CLASS_DECL = re.compile(r"^\s*class\s+([A-Za-z_]\w*)\s*(?::\s*([A-Za-z_]\w*))?",
                         re.I | re.M)


# ---------------------------------------------------------------------------
# the compiler
# ---------------------------------------------------------------------------

@dataclass
class _Declaration:
    """A class as a MOF file declared it (for the load-time checks)."""

    namespace: str
    cls: object
    file: str | None
    line: int | None
    feature_lines: dict


@dataclass
class _InstanceSite:
    """Where an instance (of a watched class) was declared."""

    namespace: str
    instance: object
    file: str | None
    line: int | None


class WmiMofCompiler(MOFCompiler):
    """pywbem's MOF compiler, speaking the WMI dialect into a connection.

    Parameters:
      conn: a pywbem ``WBEMConnection`` (normally the mock's).
      include_paths: folders searched by ``#pragma include`` after the
        including file's own folder.
      ensure_namespace: called with a namespace name before anything is
        compiled into it (the mock creates and provisions it).
      default_namespace: where MOF before any namespace pragma goes.
      dialect: ``"wmi"`` (default) or ``"dmtf"``, see :data:`DIALECTS`.
      schema: a :class:`wbemconform.mock.dmtf.DmtfSchema` to take missing
        classes from, or None.
      builtin_dirs: folders whose files are the mock's own schema, not user MOF.
      include_roots: folders (with everything under them) that ``#pragma
        include`` may read besides the top-level file's own folder tree and
        the include paths; None: :func:`default_include_roots` (the current
        directory).
      allow_include_outside: let ``#pragma include`` read any file (what
        pywbem and mofcomp do); by default an include that resolves --
        symbolic links followed -- outside those folders is an error.
    """

    def __init__(self, conn, include_paths=(), ensure_namespace=None,
                 default_namespace=DEFAULT_NAMESPACE, dialect="wmi", schema=None,
                 builtin_dirs=(), include_roots=None, allow_include_outside=False):
        if dialect not in DIALECTS:
            raise ValueError(f"dialect {dialect!r}: expected one of {DIALECTS}")
        super().__init__(_ConnectionHandle(conn, default_namespace),
                         search_paths=[], verbose=False, log_func=None)
        _linear_lexer(self.lexer)
        self.lexer.lexerrorf = _t_error
        self.dialect = dialect
        self.schema = schema
        self._include_paths = [Path(p) for p in include_paths]
        if include_roots is None:
            include_roots = default_include_roots()
        #: where an include may read from: real paths of folders
        roots = [*include_paths, *builtin_dirs, *include_roots]
        if schema is not None:
            roots.append(schema.mof_dir)
        self._include_roots = list(dict.fromkeys(os.path.realpath(d) for d in roots))
        self.allow_include_outside = bool(allow_include_outside)
        self._unit_root = None  # real folder of the top-level file being compiled
        self._known_namespaces = set()  # namespaces (lower) a pragma switched to
        self._created_namespaces = 0  # ... of which did not exist before (MAX_NAMESPACES)
        self._subset_dirs = [os.path.realpath(d) for d in builtin_dirs]
        self._builtin_dirs = list(self._subset_dirs)
        if schema is not None:
            self._builtin_dirs.append(os.path.realpath(schema.mof_dir))
        self._ensure_namespace = ensure_namespace or (lambda ns: None)
        self._compiled = set()  # (namespace, real path) pairs already included
        self._include_stack = []  # (file, line) of each #pragma include being compiled
        self._load_depth = 0  # load_string calls under way (one inside another: a namespace
        # provisioned mid-file)
        self._alias_sites = {}  # alias (lower) -> (file, line) in this compilation unit
        self._written = {}  # (namespace, class lower) -> (class as declared, file)
        self.declarations = []  # _Declaration of every class user MOF declared
        self.warnings = []  # MofLoadWarning
        self.findings = []  # MofLoadError: conformance problems accepted to go on observing
        self.watch = set()  # class names (lower) whose instances' sites are kept
        self.watched_instances = {}  # class name (lower) -> [_InstanceSite]
        #: every file the compilation looked at: absolute path -> SHA-256 of
        #: the bytes read, or None for an include candidate that was not
        #: there (so that a file added there later changes the outcome)
        self.sources = {}
        missing = set(_ACTION_OVERRIDES) - {prod.func for prod in self.parser.productions}
        if missing:
            raise LexerChanged(
                f"pywbem's MOF grammar has changed: no action {sorted(missing)}; "
                "wbemconform.mof._ACTION_OVERRIDES must follow it")
        for prod in self.parser.productions:
            if prod.func in _ACTION_OVERRIDES:
                prod.callable = _ACTION_OVERRIDES[prod.func]
            elif prod.func in _ACTION_WRAPPERS and prod.callable is not None:
                prod.callable = _ACTION_WRAPPERS[prod.func](prod.callable)
            if prod.callable is not None:
                prod.callable = _annotating(prod.callable)
        self.parser.parse = functools.partial(self.parser.parse, tracking=True)
        self.parser.qualcache.setdefault(default_namespace, NocaseDict())
        self.parser.file = None
        self.parser.mof = None
        #: {id(text): (text, line ends)} of the texts being compiled (see _line_in)
        self.parser.line_index = {}

    def copy_state(self, other):
        """Take over what another compiler (of a copied repository) knows."""
        self._compiled = set(other._compiled)
        self._written = dict(other._written)
        self._known_namespaces = set(other._known_namespaces)
        self._created_namespaces = other._created_namespaces
        self.sources.update(other.sources)

    def state(self):
        """What this compiler knows after a load, as plain picklable data:
        with :meth:`restore`, a compiler over a copy of the repository
        carries on exactly as this one would (the mock's cache keeps it)."""
        return {
            "compiled": sorted(self._compiled),
            "written": dict(self._written),
            "declarations": list(self.declarations),
            "warnings": list(self.warnings),
            "findings": [(f.file, f.line, f.message) for f in self.findings],
            "watch": sorted(self.watch),
            "watched_instances": {k: list(v) for k, v in self.watched_instances.items()},
            "qualcache": dict(self.parser.qualcache),
            # pywbem only asks whether a class is in the list: once is enough
            "classnames": {ns: list(dict.fromkeys(names))
                           for ns, names in self.parser.classnames.items()},
            "sources": dict(self.sources),
            "namespaces": (sorted(self._known_namespaces), self._created_namespaces),
        }

    def restore(self, state):
        """Take over a :meth:`state` (of a compiler whose repository this
        compiler's connection now holds)."""
        self._compiled = set(state["compiled"])
        self._written = dict(state["written"])
        self.declarations = list(state["declarations"])
        self.warnings = list(state["warnings"])
        self.findings = [MofLoadError(*f) for f in state["findings"]]
        self.watch = set(state["watch"])
        self.watched_instances = {k: list(v) for k, v in state["watched_instances"].items()}
        self.parser.qualcache = dict(state["qualcache"])
        self.parser.classnames = {ns: list(v) for ns, v in state["classnames"].items()}
        self.sources = dict(state["sources"])
        known, created = state.get("namespaces", ((), 0))
        self._known_namespaces, self._created_namespaces = set(known), created

    def _note_source(self, filename, data):
        self.sources[os.path.abspath(filename)] = \
            None if data is None else hashlib.sha256(data).hexdigest()

    # -- where text comes from ---------------------------------------------------

    def _is_builtin(self, filename, dirs=None):
        """Whether a file is the mock's own schema (or the DMTF schema given)."""
        if not filename:
            return False
        real = os.path.realpath(filename)
        return any(real == d or real.startswith(d + os.sep)
                   for d in (self._builtin_dirs if dirs is None else dirs))

    # -- grammar callbacks -------------------------------------------------

    def _switch_namespace(self, text, p):
        try:
            target = parse_namespace(text)
        except NamespaceSyntaxError as exc:
            raise MOFParseError(msg=f"#pragma namespace: {exc}", parser_token=p)
        if not target.is_local:
            raise MOFParseError(
                msg=f"#pragma namespace({text!r}) names namespace "
                    f"{target.name!r} on machine {target.host!r}; only the local "
                    "machine (no machine part, or '\\\\.\\') is supported",
                parser_token=p)
        key = target.name.strip("/").lower()
        if key not in self._known_namespaces:
            if key not in (n.strip("/").lower() for n in self._namespaces()):
                if self._created_namespaces >= MAX_NAMESPACES:
                    raise MOFParseError(
                        msg=f"#pragma namespace({text!r}) would create namespace "
                            f"{MAX_NAMESPACES + 1}; the MOF loaded into the mock may create at "
                            f"most {MAX_NAMESPACES} (each gets WMI's system classes); is a "
                            "namespace fan-out running away?",
                        parser_token=p)
                self._created_namespaces += 1
            self._known_namespaces.add(key)
        self._ensure_namespace(target.name)
        self.parser.target_namespace = target.name
        self.parser.qualcache.setdefault(target.name, NocaseDict())
        self.parser.classnames.setdefault(target.name, [])

    def _inside_roots(self, path):
        """Whether a file (its real path) is where an include may read."""
        real = os.path.realpath(path)
        roots = self._include_roots + ([self._unit_root] if self._unit_root else [])
        return any(real == d or real.startswith(d.rstrip(os.sep) + os.sep) for d in roots)

    def _include(self, name, p):
        if "\0" in name:
            raise MOFParseError(msg=f"#pragma include({name!r}): a file name cannot hold "
                                    "a NUL character", parser_token=p)
        here = Path(self.parser.file).parent if self.parser.file else Path.cwd()
        candidates = [here / name] + [d / name for d in self._include_paths]
        found, refused = None, []
        for cand in candidates:
            if not self.allow_include_outside and not self._inside_roots(cand):
                # not looked at: whether it exists is nobody's business
                refused.append(cand)
                continue
            if cand.is_file():
                found = cand
                break
            self._note_source(cand, None)
        if found is None and refused:
            raise MOFParseError(
                msg=f"#pragma include({name!r}): resolves outside the folders an include "
                    "may read (the top-level MOF file's folder tree, "
                    + ", ".join(self._include_roots) + "); give the folder as an "
                    "include root (include_roots) or allow includes outside them "
                    "(allow_include_outside)",
                parser_token=p)
        if found is None:
            raise MOFParseError(
                msg=f"#pragma include({name!r}): file not found in "
                    + ", ".join(str(c.parent) for c in candidates),
                parser_token=p)
        if len(self._include_stack) >= MAX_INCLUDE_DEPTH:
            chain = [Path(f or "<string>").name for f, _ in self._include_stack]
            chain += [Path(self.parser.file or "<string>").name, found.name]
            shown = chain if len(chain) <= 7 else chain[:3] + ["..."] + chain[-3:]
            raise MOFParseError(
                msg=f"#pragma include({name!r}): include depth {len(chain) - 1} exceeds "
                    f"the limit of {MAX_INCLUDE_DEPTH} ({' -> '.join(shown)}); "
                    "is an include chain running away?",
                parser_token=p)
        ns = self.parser.target_namespace or self.handle.default_namespace
        if self.schema is not None and self._is_builtin(found, self._subset_dirs) and \
                not self._is_builtin(self.parser.file):
            # with a DMTF schema, the mock's subset files stand for "these
            # classes": take them from the schema instead
            data = found.read_bytes()
            self._note_source(found, data)
            self._require_classes(ns, [m.group(1) for m in _CLASS_DECL.finditer(
                data.decode("utf-8"))], p)
            return
        key = (ns.lower(), os.path.realpath(found))
        if key in self._compiled:
            return
        self._compiled.add(key)
        self._include_stack.append((self.parser.file, _line_of(p)))
        try:
            self._compile_nested(str(found), ns)
        finally:
            self._include_stack.pop()

    def _compile_nested(self, filename, ns):
        saved = (self.parser.target_namespace, self.parser.file, self.parser.mof)
        try:
            text = _read_mof(filename, self._note_source)
            self.compile_string(text, ns, filename=filename)
        except MOFCompileError as exc:
            # errors raised outside any action of the included file (syntax,
            # lexer) carry pywbem's own line, which is in the included file
            if getattr(exc, "wbemconform_line", None) is None:
                exc.wbemconform_line = exc.lineno
                exc.wbemconform_file = filename
            raise
        finally:
            self.parser.target_namespace, self.parser.file, self.parser.mof = saved

    def _define_alias(self, alias, p):
        site = (self.parser.file, _line_of(p))
        first = self._alias_sites.get(alias.lower())
        if first is not None and first != site:
            where = first[0] if first[0] != self.parser.file else "line"
            at = f"{first[0]}:{first[1]}" if where != "line" else f"line {first[1]}"
            raise MOFParseError(
                msg=f"alias {alias} is already defined at {at}; an alias names one "
                    "instance in a MOF file and the files it includes",
                parser_token=p)
        self._alias_sites[alias.lower()] = site

    def _undeclared_qualifier(self, name, p):
        ns = self.parser.target_namespace or self.handle.default_namespace
        declared = list(self.parser.qualcache.get(ns, {}).keys())
        match = _misspelling_of(name, declared)
        if match and not self._is_builtin(self.parser.file):
            self.warn(self.parser.file, _line_of(p),
                      f"qualifier {name!r} is not declared in {ns}; accepted as WMI "
                      f"accepts an undeclared qualifier, but it looks like a misspelling "
                      f"of {match!r}")

    def _note_remote_target_namespaces(self, cls, p):
        """Where the server is told to accept a remote MSFT_TargetNamespace (so
        that a defective MOF can be observed further), each one is a load
        finding naming the property's line; otherwise the server rejects it."""
        conn = getattr(self.handle, "_conn", None)
        broker = getattr(conn, "broker", None)
        if broker is None or broker.reject_remote_classes:
            return
        for prop in cls.properties.values():
            remote = remote_target_namespace(prop)
            if remote is None:
                continue
            raw, target = remote
            message = (f"{cls.classname}.{prop.name}: MSFT_TargetNamespace({raw!r}) names "
                       f"namespace {target.name!r} on the remote machine {target.host!r}; "
                       "MSFT_TargetNamespace cannot point to a namespace on a remote computer")
            finding = MofLoadError(self.parser.file, _property_line(p, cls, message), message)
            if str(finding) not in map(str, self.findings):
                self.findings.append(finding)

    def warn(self, file, line, message):
        warning = MofLoadWarning(file, line, message)
        if warning not in self.warnings:
            self.warnings.append(warning)

    # -- classes ---------------------------------------------------------------

    def _same_declaration(self, ns, written):
        known = self._written.get((ns.lower(), written.classname.lower()))
        return known is not None and known[0] == written

    def _declared(self, ns, written, p):
        self._written[(ns.lower(), written.classname.lower())] = (written, self.parser.file)
        if self._is_builtin(self.parser.file):
            return
        lines = _feature_lines(p, list(written.properties))
        self.declarations.append(_Declaration(ns, written, self.parser.file,
                                              _line_of(p), lines))

    def _require_classes(self, ns, classnames, p=None):
        """Compile, from the DMTF schema, the given classes the namespace lacks
        and what they depend on."""
        if self.schema is None:
            return
        missing = [c for c in classnames
                   if self.schema.file_of(c) is not None
                   and not self.handle.class_exists(c, ns)]
        if not missing:
            return
        for lc in self.schema.closure(missing):
            path = self.schema.file_of(lc)
            key = (ns.lower(), os.path.realpath(path))
            if key in self._compiled or self.handle.class_exists(lc, ns):
                continue
            self._compiled.add(key)
            self._compile_nested(str(path), ns)

    def _missing_class_hint(self, classname, ns):
        """Why a class is missing from a namespace, and how to place it there."""
        if not classname:
            return ""
        where = [n for n in self._namespaces() if n.lower() != ns.lower()
                 and self.handle.class_exists(classname, n)]
        builtin = self._builtin_file_of(classname)
        if builtin is not None:
            includes = " and ".join(f'#pragma include("{f}")' for f in builtin)
            return (f"; a namespace that #pragma namespace creates holds only the WMI system "
                    f"classes: place the schema there first with {includes} (as the spec's "
                    "step 4 says: the schema goes into the implemented namespace)")
        if where:
            return f"; it is declared in {', '.join(where)}: declare it in {ns} as well"
        return ""

    def _redeclaration_hint(self, ns, classname):
        known = self._written.get((ns.lower(), classname.lower()))
        if (known is not None and self._is_builtin(known[1])) or \
                self._builtin_file_of(classname) is not None:
            return ("; it is a class of the mock's built-in schema subset: to load the "
                    "DMTF schema, give it to the mock (--wbem-mock-schema PATH, or "
                    "wbemconform.mock.connect(schema=PATH)) and the subset steps aside")
        return ""

    def _namespaces(self):
        try:
            return list(self.handle._conn.namespaces)
        except (AttributeError, CIMError):
            return []

    def _builtin_file_of(self, classname):
        """The mock's schema files to include for a class, in include order."""
        for folder in self._include_paths:
            order = [f for f in ("interop.mof", "cimv2.mof") if (folder / f).is_file()]
            for i, name in enumerate(order):
                text = (folder / name).read_text(encoding="utf-8")
                if any(m.group(1).lower() == classname.lower()
                       for m in _CLASS_DECL.finditer(text)):
                    return order[:i + 1]
        return None

    # -- public API -------------------------------------------------------

    def _may_quote(self, filename, top):
        """Whether an error message may quote the text of ``filename``: the
        top-level file's, or a MOF file inside the include roots -- never a
        file an include reached outside them, nor one not named ``*.mof``
        (a hostile include must not show a file's contents)."""
        if not filename or filename == top:
            return True
        return filename.lower().endswith((".mof", ".mfl")) and self._inside_roots(filename)

    def load_file(self, filename, namespace=None):
        """Compile a MOF file; raise MofLoadError on any problem."""
        filename = str(filename)
        try:
            text = _read_mof(filename, self._note_source)
        except MOFCompileError as exc:
            raise _as_load_error(exc, filename) from None
        self._compiled.add(((namespace or self.handle.default_namespace).lower(),
                            os.path.realpath(filename)))
        return self.load_string(text, namespace=namespace, filename=filename)

    def load_string(self, text, namespace=None, filename=None):
        """Compile MOF text (a compilation unit); raise MofLoadError on any problem."""
        ns = namespace or self.handle.default_namespace
        self._ensure_namespace(ns)
        text = _normalize_newlines(text)
        lone = _SURROGATE.search(text)
        if lone is not None:
            # only text given as a str can hold one (UTF-8 cannot encode it)
            raise MofLoadError(filename, _line_in(text, lone.start()),
                               f"a lone UTF-16 surrogate (U+{ord(lone.group()):04X}) in the "
                               "MOF text: a surrogate is not a character")
        # aliases belong to one compilation unit, as with mofcomp; a unit may
        # start inside another (a namespace provisioned mid-file)
        saved = (self.parser.aliases, self._alias_sites, self._include_stack,
                 self.parser.target_namespace, self.parser.file, self.parser.mof,
                 self._unit_root)
        self.parser.aliases, self._alias_sites, self._include_stack = {}, {}, []
        # the folder its includes resolve against (for a text without a
        # file, "<string>": the current directory, as they do)
        self._unit_root = os.path.dirname(os.path.realpath(filename)) if filename else None
        self._load_depth += 1
        try:
            self.compile_string(text, ns, filename=filename)
        except MOFCompileError as exc:
            raise _as_load_error(exc, filename, self._may_quote) from None
        except CIMError as exc:
            raise MofLoadError(filename, None,
                               f"{exc.status_code_name}: {exc.status_description}") from None
        except RecursionError:
            raise MofLoadError(filename, None, "MOF nested too deeply to compile") from None
        finally:
            (self.parser.aliases, self._alias_sites, self._include_stack,
             self.parser.target_namespace, self.parser.file, self.parser.mof,
             self._unit_root) = saved
            self._load_depth -= 1
            if not self._load_depth:
                self.parser.line_index.clear()  # the outermost load is over


class _UnreadableMof(MOFParseError):
    """A MOF file that cannot be read, is too large, or is not UTF-8."""

    def __init__(self, filename, line, message):
        super().__init__(msg=message)
        self.wbemconform_file = filename
        self.wbemconform_line = line


def _normalize_newlines(text):
    """CR and CRLF line ends as LF: pywbem's lexer knows only LF, and a
    ``//`` comment would otherwise run to the end of a CR-only file."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _read_mof(filename, note=None):
    """The text of a MOF file (UTF-8, a BOM allowed, any line ends);
    ``note(filename, bytes)`` is told what was read."""
    try:
        size = os.path.getsize(filename)
        if size > MAX_MOF_BYTES:
            raise _UnreadableMof(filename, None,
                                 f"MOF file is {size} bytes; the limit is {MAX_MOF_BYTES}")
        with open(filename, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise _UnreadableMof(filename, None, f"cannot read MOF file: {exc.strerror}") from None
    if note is not None:
        note(filename, data)
    try:
        return _normalize_newlines(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        before = data[:exc.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        raise _UnreadableMof(filename, before.count(b"\n") + 1,
                             f"not UTF-8 text: byte 0x{data[exc.start]:02x} "
                             f"at offset {exc.start}") from None


def _as_load_error(exc, filename, may_quote=None):
    """The MofLoadError of a pywbem compile error; ``may_quote(file, top)``
    says whether the message may quote the text of the file it is in."""
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


#: the environment variable naming more include roots (folders, separated by
#: ``os.pathsep``): a search path as Windows' wbem folder is one
INCLUDE_PATH_VARIABLE = "WBEMCONFORM_MOF_INCLUDE_PATH"


def default_include_roots():
    """The folders ``#pragma include`` may read by default besides the
    top-level MOF file's folder tree and the include paths: the folders of
    ``$WBEMCONFORM_MOF_INCLUDE_PATH``, and the current directory (the project
    the tool runs in) unless it is the file system root or the home directory
    (or above it), which hold everything."""
    roots = [os.path.realpath(r) for r in
             os.environ.get(INCLUDE_PATH_VARIABLE, "").split(os.pathsep) if r.strip()]
    cwd = os.path.realpath(os.getcwd())
    home = os.path.realpath(os.path.expanduser("~"))
    if not (cwd == os.path.dirname(cwd) or home == cwd or
            home.startswith(cwd.rstrip(os.sep) + os.sep)):
        roots.append(cwd)
    return roots
