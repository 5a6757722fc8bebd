"""The WMI MOF dialect, compiled with pywbem's own MOF compiler.

pywbem's compiler (a PLY grammar) parses the MOF; this module changes what a
few grammar actions *do*, never the text that is parsed:

* ``#pragma namespace`` accepts what WMI's mofcomp accepts -- a bare name or
  the local-machine form ``"\\\\\\\\.\\\\root\\\\interop"`` -- and rejects a
  namespace on any other machine, naming the line;
* ``#pragma include`` looks in the including file's folder, then in the
  schema folders (like Windows' ``%systemroot%\\system32\\wbem``), and
  compiles a file into a namespace only once;
* a class declaration is created through the connection (so the mock's
  broker applies WMI's class rules: inherited ``Association``, implicit
  overrides, references in ordinary classes) and an existing class is
  updated, as mofcomp does by default.

Every failure becomes a :class:`MofLoadError` whose text is
``file:line: message``.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from pywbem import (CIMError, MOFCompiler, MOFCompileError, MOFParseError,
                    MOFRepositoryError)
from pywbem._mof_compiler import BaseRepositoryConnection
from pywbem._cim_constants import CIM_ERR_ALREADY_EXISTS
from pywbem._nocasedict import NocaseDict

from .namespaces import NamespaceSyntaxError, parse_namespace

__all__ = ["MofLoadError", "WmiMofCompiler", "DEFAULT_NAMESPACE"]

#: Where MOF without a namespace pragma goes. WMI's mofcomp would use
#: root\default; the spec's first block (the registered profile) belongs in
#: the interop namespace, so that is where we put it.
DEFAULT_NAMESPACE = "root/interop"

#: Pragmas that have no effect on a mock repository but are legal WMI MOF.
_IGNORED_PRAGMAS = ("locale", "autorecover")


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


def _line_of(p, index=1):
    """1-based line of symbol ``index`` of a production (needs tracking)."""
    try:
        pos = p.lexpos(index)
    except (IndexError, AttributeError):
        return None
    mof = getattr(p.parser, "mof", None) or ""
    return mof.count("\n", 0, pos) + 1


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


def _property_line(p, cls, description):
    """The line of the property a class error names ("Class.Prop: ..."), else
    the line where the class declaration starts."""
    start_line = _line_of(p)
    m = re.match(r"([A-Za-z_]\w*)\.([A-Za-z_]\w*):", description or "")
    mof = getattr(p.parser, "mof", None)
    if not m or not mof or m.group(1).lower() != cls.classname.lower():
        return start_line
    start, end = p.lexpos(1), p.lexer.lexpos
    decl = re.compile(r"\b%s\s*(=|;|\[)" % re.escape(m.group(2)), re.I)
    hit = decl.search(mof, start, end)
    return mof.count("\n", 0, hit.start()) + 1 if hit else start_line


def _p_mp_create_class(p):
    """mp_createClass : classDeclaration"""
    ns = p.parser.target_namespace or p.parser.handle.default_namespace
    cls = p[1]
    handle = p.parser.handle
    try:
        handle.CreateClass(cls, namespace=ns)
    except CIMError as exc:
        if exc.status_code != CIM_ERR_ALREADY_EXISTS:
            error = MOFRepositoryError(
                msg=f"cannot create class {cls.classname} in namespace "
                    f"{ns}: {exc.status_description}",
                parser_token=p)
            error.wbemconform_line = _property_line(p, cls, exc.status_description)
            raise error
        try:
            handle.ModifyClass(cls, namespace=ns)
        except CIMError as exc2:
            raise MOFRepositoryError(
                msg=f"class {cls.classname} already exists in namespace {ns} "
                    f"and cannot be updated: {exc2.status_description}",
                parser_token=p)


_ACTION_OVERRIDES = {
    "p_compilerDirective": _p_compiler_directive,
    "p_mp_createClass": _p_mp_create_class,
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
        return self._classes[key].copy()

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


class WmiMofCompiler(MOFCompiler):
    """pywbem's MOF compiler, speaking the WMI dialect into a connection.

    Parameters:
      conn: a pywbem ``WBEMConnection`` (normally the mock's).
      include_paths: folders searched by ``#pragma include`` after the
        including file's own folder.
      ensure_namespace: called with a namespace name before anything is
        compiled into it (the mock creates and provisions it).
      default_namespace: where MOF before any namespace pragma goes.
    """

    def __init__(self, conn, include_paths=(), ensure_namespace=None,
                 default_namespace=DEFAULT_NAMESPACE):
        super().__init__(_ConnectionHandle(conn, default_namespace),
                         search_paths=[], verbose=False, log_func=None)
        self._include_paths = [Path(p) for p in include_paths]
        self._ensure_namespace = ensure_namespace or (lambda ns: None)
        self._compiled = set()  # (namespace, real path) pairs already included
        for prod in self.parser.productions:
            if prod.func in _ACTION_OVERRIDES:
                prod.callable = _ACTION_OVERRIDES[prod.func]
            if prod.callable is not None:
                prod.callable = _annotating(prod.callable)
        self.parser.parse = functools.partial(self.parser.parse, tracking=True)
        self.parser.qualcache.setdefault(default_namespace, NocaseDict())

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
        self._ensure_namespace(target.name)
        self.parser.target_namespace = target.name
        self.parser.qualcache.setdefault(target.name, NocaseDict())
        self.parser.classnames.setdefault(target.name, [])

    def _include(self, name, p):
        here = Path(self.parser.file).parent if self.parser.file else Path.cwd()
        candidates = [here / name] + [d / name for d in self._include_paths]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise MOFParseError(
                msg=f"#pragma include({name!r}): file not found in "
                    + ", ".join(str(c.parent) for c in candidates),
                parser_token=p)
        ns = self.parser.target_namespace or self.handle.default_namespace
        key = (ns.lower(), os.path.realpath(found))
        if key in self._compiled:
            return
        self._compiled.add(key)
        self._compile_nested(str(found), ns)

    def _compile_nested(self, filename, ns):
        saved = (self.parser.target_namespace, self.parser.file, self.parser.mof)
        try:
            text = _read_mof(filename)
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

    # -- public API -------------------------------------------------------

    def load_file(self, filename, namespace=None):
        """Compile a MOF file; raise MofLoadError on any problem."""
        filename = str(filename)
        try:
            text = _read_mof(filename)
        except MOFCompileError as exc:
            raise _as_load_error(exc, filename) from None
        self._compiled.add(((namespace or self.handle.default_namespace).lower(),
                            os.path.realpath(filename)))
        return self.load_string(text, namespace=namespace, filename=filename)

    def load_string(self, text, namespace=None, filename=None):
        """Compile MOF text; raise MofLoadError on any problem."""
        ns = namespace or self.handle.default_namespace
        self._ensure_namespace(ns)
        try:
            self.compile_string(text, ns, filename=filename)
        except MOFCompileError as exc:
            raise _as_load_error(exc, filename) from None
        except CIMError as exc:
            raise MofLoadError(filename, None, f"{exc.status_code_name}: {exc.status_description}") from None
        finally:
            self.parser.target_namespace = None


class _UnreadableMof(MOFParseError):
    """A MOF file that cannot be read, or is not UTF-8."""

    def __init__(self, filename, line, message):
        super().__init__(msg=message)
        self.wbemconform_file = filename
        self.wbemconform_line = line


def _read_mof(filename):
    """The text of a MOF file (UTF-8, a BOM allowed)."""
    try:
        with open(filename, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise _UnreadableMof(filename, None, f"cannot read MOF file: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _UnreadableMof(filename, line, f"not UTF-8 text: byte 0x{data[exc.start]:02x} "
                             f"at offset {exc.start}") from None


def _as_load_error(exc, filename):
    file = getattr(exc, "wbemconform_file", None) or exc.file or filename
    line = getattr(exc, "wbemconform_line", None) or exc.lineno
    message = exc.msg
    cim_error = getattr(exc, "cim_error", None)
    if cim_error is not None:
        message = f"{message}: {cim_error.status_description}"
    if message == "MOF grammar error" and exc.context:
        message = f"MOF syntax error near {exc.context[-2].strip()!r}"
    return MofLoadError(file, line, message)
