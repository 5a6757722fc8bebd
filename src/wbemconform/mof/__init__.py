"""The WMI MOF dialect, compiled with pywbem's own MOF compiler.

pywbem's compiler (a PLY grammar) parses the MOF; this package changes what
a few grammar actions *do*, never the grammar
(:mod:`~wbemconform.mof.grammar`, the one module that touches pywbem's
private compiler names):

* ``#pragma namespace`` accepts what WMI's mofcomp accepts -- a bare name or
  the local-machine form ``"\\\\\\\\.\\\\root\\\\interop"`` -- and rejects a
  namespace on any other machine, naming the line; it creates at most
  :data:`MAX_NAMESPACES` namespaces (:mod:`~wbemconform.mof.namespace_pragma`);
* ``#pragma include`` looks in the including file's folder, then in the
  schema folders (like Windows' ``%systemroot%\\system32\\wbem``), compiles a
  file into a namespace only once, refuses include chains deeper than
  :data:`MAX_INCLUDE_DEPTH`, and reads only inside the top-level file's
  folder tree, the schema folders and the include roots
  (:func:`default_include_roots`) unless told otherwise
  (``allow_include_outside``); an error never quotes a file an include
  reached outside them, nor one not named ``*.mof``
  (:mod:`~wbemconform.mof.includes`);
* a class declaration is created through the connection (so the mock's
  broker applies WMI's class rules: inherited ``Association``, implicit
  overrides, references in ordinary classes); an existing class is updated,
  as mofcomp does by default, and an identical redeclaration is a no-op
  (:mod:`~wbemconform.mof.actions`, :mod:`~wbemconform.mof.classes`);
* an instance alias (``as $X``) can be defined once per compilation unit
  (a top-level file and what it includes), as in mofcomp;
* in the WMI dialect a qualifier needs no declaration (WMI types it from its
  value; a bare qualifier is boolean TRUE), a likely misspelling of a
  declared one is reported as a warning (:mod:`~wbemconform.mof.qualifiers`);
* with a DMTF CIM schema (:class:`wbemconform.mock.dmtf.DmtfSchema`), a class that a declaration
  or an instance needs and the namespace lacks is compiled from the schema,
  with its own dependencies (superclasses, referenced and embedded classes),
  and nothing else;
* string literals: escapes as DSP0004 has them, a surrogate pair written as
  two escapes is one character, a lone surrogate is an error
  (:mod:`~wbemconform.mof.literals`).

The text is read as UTF-8 (a BOM allowed) with CR, LF or CRLF line ends
(:mod:`~wbemconform.mof.source`), and lexed in time and memory linear in its
size (:func:`wbemconform.mof.grammar._linear_lexer`).

Every failure becomes a :class:`MofLoadError` whose text is
``file:line: message``; what WMI accepts but is most likely a mistake becomes
a :class:`MofLoadWarning` (``file:line: warning: message``)
(:mod:`~wbemconform.mof.errors`).

The limits (:data:`MAX_INCLUDE_DEPTH`, :data:`MAX_MOF_BYTES`,
:data:`MAX_NAMESPACES`) live in :mod:`~wbemconform.mof.limits`; setting one
on this package sets it there too, where the compiler reads it.
"""

from __future__ import annotations

import sys
import types

from . import limits
from .compiler import WmiMofCompiler
from .errors import MofLoadError, MofLoadWarning
from .grammar import LexerChanged  # noqa: F401 (importable from here, as before)
from .includes import INCLUDE_PATH_VARIABLE, default_include_roots  # noqa: F401
from .limits import (DEFAULT_NAMESPACE, DIALECTS, MAX_INCLUDE_DEPTH, MAX_MOF_BYTES,
                     MAX_NAMESPACES)

__all__ = ["MofLoadError", "MofLoadWarning", "WmiMofCompiler", "default_include_roots",
           "DEFAULT_NAMESPACE", "MAX_INCLUDE_DEPTH", "MAX_MOF_BYTES", "MAX_NAMESPACES",
           "DIALECTS"]

_FORWARDED = frozenset(limits.__all__)


class _Package(types.ModuleType):
    """This package's module type: a limit set on the package
    (``wbemconform.mof.MAX_NAMESPACES = 3``, as a test or an embedding tool
    does) is set in :mod:`~wbemconform.mof.limits` as well, which is where
    the compiler reads it."""

    def __setattr__(self, name, value):
        if name in _FORWARDED:
            setattr(limits, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
