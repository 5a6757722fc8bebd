"""A small WQL subset: what the mock needs to answer ExecQuery.

``SELECT * | prop[, prop...] FROM Class [WHERE condition]`` where a condition
combines ``prop op literal`` (op one of = <> != < > <= >=), ``prop IS [NOT]
NULL``, ``NOT``, ``AND``, ``OR`` and parentheses. Literals are quoted strings,
integers, TRUE, FALSE and NULL. Keywords are case-insensitive.

Limits (a query beyond one is a :class:`WqlSyntaxError` naming it, before any
costly work): at most :data:`MAX_QUERY_LENGTH` characters, at most
:data:`MAX_QUERY_TERMS` comparisons (``prop op literal`` / ``prop IS [NOT]
NULL``), and parentheses and ``NOT`` nested at most :data:`MAX_QUERY_DEPTH`
deep. They bound the time one query holds the mock (a 3.6 MB query of
300,000 ORs took seconds) and keep parsing and evaluation, which recurse
once per nesting level, far from Python's recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pywbem import CIMInstanceName

__all__ = ["WqlSyntaxError", "WqlQuery", "parse_wql", "check_query_length",
           "MAX_QUERY_LENGTH", "MAX_QUERY_TERMS", "MAX_QUERY_DEPTH"]

#: Longest query accepted, in characters.
MAX_QUERY_LENGTH = 16 * 1024
#: Most comparisons (``prop op literal``, ``prop IS [NOT] NULL``) in a query.
MAX_QUERY_TERMS = 1024
#: Deepest nesting of parentheses and NOT in a query.
MAX_QUERY_DEPTH = 32

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<num>-?\d+)
    | (?P<op><>|!=|<=|>=|=|<|>)
    | (?P<punct>[(),*])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""", re.VERBOSE)


class WqlSyntaxError(ValueError):
    """The query is not in the WQL subset we support."""


@dataclass
class WqlQuery:
    classname: str
    properties: list | None  # None for "*"
    where: object = field(default=None)  # a predicate: instance -> bool

    def matches(self, instance) -> bool:
        return True if self.where is None else bool(self.where(instance))


def _tokens(text):
    pos, out = 0, []
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise WqlSyntaxError(f"unexpected text at position {pos}: {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "num":
            value = int(value)
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text):
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0   # parentheses and NOT open around the current factor
        self.terms = 0   # comparisons read so far

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def keyword(self, *words):
        kind, value = self.peek()
        if kind == "word" and value.upper() in words:
            self.i += 1
            return value.upper()
        return None

    def expect_keyword(self, word):
        if not self.keyword(word):
            raise WqlSyntaxError(f"expected {word}, found {self.peek()[1]!r}")

    def ident(self, what):
        kind, value = self.take()
        if kind != "word":
            raise WqlSyntaxError(f"expected {what}, found {value!r}")
        return value

    def query(self):
        self.expect_keyword("SELECT")
        if self.peek() == ("punct", "*"):
            self.take()
            props = None
        else:
            props = [self.ident("a property name")]
            while self.peek() == ("punct", ","):
                self.take()
                props.append(self.ident("a property name"))
        self.expect_keyword("FROM")
        classname = self.ident("a class name")
        where = None
        if self.keyword("WHERE"):
            where = self.disjunction()
        if self.i != len(self.toks):
            raise WqlSyntaxError(f"unexpected {self.peek()[1]!r} after the query")
        return WqlQuery(classname, props, where)

    def disjunction(self):
        terms = [self.conjunction()]
        while self.keyword("OR"):
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else (lambda inst: any(t(inst) for t in terms))

    def conjunction(self):
        terms = [self.factor()]
        while self.keyword("AND"):
            terms.append(self.factor())
        return terms[0] if len(terms) == 1 else (lambda inst: all(t(inst) for t in terms))

    def _nest(self):
        self.depth += 1
        if self.depth > MAX_QUERY_DEPTH:
            raise WqlSyntaxError(f"parentheses and NOT nested more than {MAX_QUERY_DEPTH} "
                                 f"deep; this server accepts at most {MAX_QUERY_DEPTH}")

    def factor(self):
        if self.keyword("NOT"):
            self._nest()
            inner = self.factor()
            self.depth -= 1
            return lambda inst: not inner(inst)
        if self.peek() == ("punct", "("):
            self.take()
            self._nest()
            inner = self.disjunction()
            self.depth -= 1
            if self.take() != ("punct", ")"):
                raise WqlSyntaxError("missing ')'")
            return inner
        self.terms += 1
        if self.terms > MAX_QUERY_TERMS:
            raise WqlSyntaxError(f"more than {MAX_QUERY_TERMS} comparisons; this server "
                                 f"accepts at most {MAX_QUERY_TERMS} in a query")
        prop = self.ident("a property name")
        if self.keyword("IS"):
            negate = bool(self.keyword("NOT"))
            self.expect_keyword("NULL")
            return lambda inst: (_value(inst, prop) is None) != negate
        kind, op = self.take()
        if kind != "op":
            raise WqlSyntaxError(f"expected a comparison after {prop!r}, found {op!r}")
        literal = self.literal()
        return _comparison(prop, op, literal)

    def literal(self):
        kind, value = self.take()
        if kind in ("str", "num"):
            return value
        if kind == "word" and value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE"
        if kind == "word" and value.upper() == "NULL":
            return None
        raise WqlSyntaxError(f"expected a literal, found {value!r}")


def _value(inst, prop):
    return inst.get(prop) if prop in inst else None


def _comparable(value, literal):
    if isinstance(value, CIMInstanceName) and isinstance(literal, str):
        try:
            literal = CIMInstanceName.from_wbem_uri(literal)
        except ValueError:
            return str(value), literal
        return (value.classname.lower(), dict(value.keybindings)), \
            (literal.classname.lower(), dict(literal.keybindings))
    if isinstance(value, bool) or isinstance(literal, bool):
        return value, literal
    if isinstance(value, int) and isinstance(literal, str):
        return str(value), literal
    if isinstance(value, str) and isinstance(literal, int):
        return value, str(literal)
    return value, literal


def _comparison(prop, op, literal):
    def test(inst):
        value = _value(inst, prop)
        if value is None or literal is None:
            return False if op not in ("<>", "!=") else (value is None) != (literal is None)
        a, b = _comparable(value, literal)
        try:
            return {"=": a == b, "<>": a != b, "!=": a != b}[op] if op in ("=", "<>", "!=") \
                else {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        except TypeError:
            return False
    return test


def check_query_length(text: str) -> None:
    """WqlSyntaxError naming the limit if ``text`` is longer than
    :data:`MAX_QUERY_LENGTH` characters (cheap: nothing is parsed)."""
    if isinstance(text, str) and len(text) > MAX_QUERY_LENGTH:
        raise WqlSyntaxError(f"query of {len(text)} characters; this server accepts "
                             f"queries of at most {MAX_QUERY_LENGTH} characters")


def parse_wql(text: str) -> WqlQuery:
    """Parse a WQL query of the supported subset; WqlSyntaxError otherwise
    (also for a query beyond the limits, see the module's docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise WqlSyntaxError("empty query")
    check_query_length(text)
    return _Parser(text).query()
