"""pywbem's MOF compiler, bent to the WMI dialect: the one module that
touches private names of ``pywbem._mof_compiler`` (pywbem 1.9.1).

pywbem's compiler is a PLY grammar; what it parses stays pywbem's, this
module changes what a few grammar actions *do* and how three tokens are
matched:

* :data:`_ACTION_OVERRIDES`: PLY grammar actions (``p_*`` functions of
  ``pywbem._mof_compiler``) replaced for the same rules, each with the reason;
* :data:`_ACTION_WRAPPERS`: pywbem's actions run inside a wrapper, each with
  the reason; every action is also wrapped by
  :func:`wbemconform.mof.actions.annotating` (errors name the statement's line);
* :func:`_linear_lexer`: three token patterns made linear;
* :func:`_t_error`: the lexer's error hook, naming what is wrong with a literal.

:func:`install` applies all of it to one compiler and raises
:class:`LexerChanged` when pywbem's lexer or grammar is not the one this
module was written for. tests/test_mof_loader.py::test_linear_lexer_* and
tests/test_private_apis.py pin every private name used here and fail
loudly if pywbem renames one.
"""

from __future__ import annotations

import functools
import re

# PRIVATE: pywbem's MOF compiler module itself (its PLY actions, lexer
# patterns, lexer error function and flavor builder)
import pywbem._mof_compiler as _pywbem_mof
from pywbem import CIMQualifier, MOFCompileError, MOFParseError

from .actions import (annotating, checking_alias, class_alias, instance_alias,
                      instance_declaration, p_compiler_directive, p_mp_create_class,
                      watching_instances)
from .literals import (bad_literal, p_constant_value, p_constant_value_list,
                       p_pragma_parameter, p_string_value_list)
from .qualifiers import wmi_qualifier_type

__all__ = ["LexerChanged", "install"]


class LexerChanged(RuntimeError):
    """pywbem's lexer is not the one this module was written for."""


# ---------------------------------------------------------------------------
# pywbem's lexer, made linear.
#
# PRIVATE USE of pywbem 1.9.1 (``utf8Char``, ``stringvalue_re``,
# ``identifier_re``): the compiler's PLY lexer matches string literals,
# /* */ comments and identifiers with regular expressions that repeat a
# *group* (``"(sChar)*"``), for which Python's re keeps state per
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
    """pywbem's lexer error (PRIVATE: ``t_error``, which sets the lexer's
    ``last_msg``), saying what is wrong with a string or char literal that
    does not lex (pywbem only says "Illegal character '\"'")."""
    token = _pywbem_mof.t_error(t)
    if t.value[:1] in "\"'":
        problem = bad_literal(t.value)
        if problem:
            t.lexer.last_msg = problem
    return token


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
            "wbemconform.mof.grammar._LINEAR_TOKENS must follow it")
    lexer.lexstatere["INITIAL"] = new_state
    lexer.lexre = new_state


# ---------------------------------------------------------------------------
# grammar actions
# ---------------------------------------------------------------------------

def _p_qualifier(action):
    """In the WMI dialect, a qualifier nobody declared is accepted as WMI does
    (PRIVATE: pywbem's ``_build_flavors`` turns the flavor list into
    CIMQualifier arguments, as pywbem's own action does)."""

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
        qtype = wmi_qualifier_type(value)
        compiler._undeclared_qualifier(name, p)
        p[0] = CIMQualifier(name, value, type=qtype,
                            **_pywbem_mof._build_flavors(p, flavors, None, name))
    return wrapped


#: pywbem's actions (PRIVATE: ``p_*`` of ``pywbem._mof_compiler``, by the name
#: PLY keeps as each production's ``func``) replaced for the same rules.
_ACTION_OVERRIDES = {
    # namespace pragmas as WMI takes them (local machine only, at most
    # MAX_NAMESPACES created), includes confined to the include roots, the
    # pragmas mofcomp ignores ignored
    "p_compilerDirective": p_compiler_directive,
    # a class goes through the connection (the broker's WMI class rules), an
    # existing class is updated as mofcomp does, a DMTF schema fills in what
    # it needs, errors name the property's line
    "p_mp_createClass": p_mp_create_class,
    # pywbem joins adjacent literals pairwise (quadratic) and decodes escapes
    # wrongly (reads past a final hex escape, drops \', passes surrogates)
    "p_stringValueList": p_string_value_list,
    "p_constantValue": p_constant_value,
    # pywbem copies the list for every entry of an array (quadratic)
    "p_constantValueList": p_constant_value_list,
    # a pragma's parameter decoded as a string value is (surrogates refused)
    "p_pragmaParameter": p_pragma_parameter,
}

#: pywbem's actions (PRIVATE, as above) run inside a wrapper.
_ACTION_WRAPPERS = {
    # an instance alias is defined once per compilation unit (as in
    # mofcomp; pywbem lets a later one win), and the sites of instances of
    # watched classes are kept for the load-time checks
    "p_mp_createInstance": lambda a: watching_instances(checking_alias(a, instance_alias)),
    # a class alias, likewise
    "p_classDeclaration": lambda a: checking_alias(a, class_alias),
    # an instance's class is taken from the DMTF schema first, and read in
    # place instead of copied per instance
    "p_instanceDeclaration": instance_declaration,
    # the WMI dialect types an undeclared qualifier from its value
    "p_qualifier": _p_qualifier,
}


def install(compiler):
    """Make a pywbem MOFCompiler's lexer and parser speak the WMI dialect:
    the linear token patterns, the lexer error hook, the actions above
    (every action annotating its errors with the statement's line), and
    position tracking (for those lines). Raises :class:`LexerChanged` if
    pywbem's lexer or grammar lacks what is replaced."""
    _linear_lexer(compiler.lexer)
    compiler.lexer.lexerrorf = _t_error  # PLY's error hook (pywbem's t_error)
    parser = compiler.parser
    missing = set(_ACTION_OVERRIDES) - {prod.func for prod in parser.productions}
    if missing:
        raise LexerChanged(
            f"pywbem's MOF grammar has changed: no action {sorted(missing)}; "
            "wbemconform.mof.grammar._ACTION_OVERRIDES must follow it")
    for prod in parser.productions:
        if prod.func in _ACTION_OVERRIDES:
            prod.callable = _ACTION_OVERRIDES[prod.func]
        elif prod.func in _ACTION_WRAPPERS and prod.callable is not None:
            prod.callable = _ACTION_WRAPPERS[prod.func](prod.callable)
        if prod.callable is not None:
            prod.callable = annotating(prod.callable)
    parser.parse = functools.partial(parser.parse, tracking=True)
