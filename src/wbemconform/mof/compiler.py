"""The WMI MOF compiler: pywbem's MOF compiler (with the actions of
:mod:`wbemconform.mof.grammar`) compiling into a connection, one
compilation unit (a top-level file and what it includes) at a time."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pywbem import CIMError, MOFCompileError, MOFCompiler, MOFParseError, NocaseDict

from . import grammar, limits
from .classes import ClassesMixin
from .errors import MofLoadError, MofLoadWarning, as_load_error
from .handle import ConnectionHandle
from .includes import IncludesMixin, default_include_roots
from .lines import line_in, line_of
from .literals import SURROGATE
from .namespace_pragma import NamespacePragmaMixin
from .qualifiers import misspelling_of
from .source import normalize_newlines, read_mof

__all__ = ["WmiMofCompiler"]


class WmiMofCompiler(IncludesMixin, NamespacePragmaMixin, ClassesMixin, MOFCompiler):
    """pywbem's MOF compiler, speaking the WMI dialect into a connection.

    Parameters:
      conn: a pywbem ``WBEMConnection`` (normally the mock's).
      include_paths: folders searched by ``#pragma include`` after the
        including file's own folder.
      ensure_namespace: called with a namespace name before anything is
        compiled into it (the mock creates and provisions it).
      default_namespace: where MOF before any namespace pragma goes.
      dialect: ``"wmi"`` (default) or ``"dmtf"``, see
        :data:`wbemconform.mof.DIALECTS`.
      schema: a :class:`wbemconform.mock.dmtf.DmtfSchema` to take missing
        classes from, or None.
      builtin_dirs: folders whose files are the mock's own schema, not user MOF.
      include_roots: folders (with everything under them) that ``#pragma
        include`` may read besides the top-level file's own folder tree and
        the include paths; None: :func:`wbemconform.mof.default_include_roots`
        (the current directory).
      allow_include_outside: let ``#pragma include`` read any file (what
        pywbem and mofcomp do); by default an include that resolves --
        symbolic links followed -- outside those folders is an error.
    """

    def __init__(self, conn, include_paths=(), ensure_namespace=None,
                 default_namespace=limits.DEFAULT_NAMESPACE, dialect="wmi", schema=None,
                 builtin_dirs=(), include_roots=None, allow_include_outside=False):
        if dialect not in limits.DIALECTS:
            raise ValueError(f"dialect {dialect!r}: expected one of {limits.DIALECTS}")
        super().__init__(ConnectionHandle(conn, default_namespace),
                         search_paths=[], verbose=False, log_func=None)
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
        self.declarations = []  # Declaration of every class user MOF declared
        self.warnings = []  # MofLoadWarning
        self.findings = []  # MofLoadError: conformance problems accepted to go on observing
        self.watch = set()  # class names (lower) whose instances' sites are kept
        self.watched_instances = {}  # class name (lower) -> [InstanceSite]
        #: every file the compilation looked at: absolute path -> SHA-256 of
        #: the bytes read, or None for an include candidate that was not
        #: there (so that a file added there later changes the outcome)
        self.sources = {}
        grammar.install(self)
        self.parser.qualcache.setdefault(default_namespace, NocaseDict())
        self.parser.file = None
        self.parser.mof = None
        #: {id(text): (text, line ends)} of the texts being compiled (see lines.line_in)
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

    # -- grammar callbacks (see also the mixins) ----------------------------

    def _define_alias(self, alias, p):
        site = (self.parser.file, line_of(p))
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
        match = misspelling_of(name, declared)
        if match and not self._is_builtin(self.parser.file):
            self.warn(self.parser.file, line_of(p),
                      f"qualifier {name!r} is not declared in {ns}; accepted as WMI "
                      f"accepts an undeclared qualifier, but it looks like a misspelling "
                      f"of {match!r}")

    def warn(self, file, line, message):
        warning = MofLoadWarning(file, line, message)
        if warning not in self.warnings:
            self.warnings.append(warning)

    # -- public API -------------------------------------------------------

    def load_file(self, filename, namespace=None):
        """Compile a MOF file; raise MofLoadError on any problem."""
        filename = str(filename)
        try:
            text = read_mof(filename, self._note_source)
        except MOFCompileError as exc:
            raise as_load_error(exc, filename) from None
        self._compiled.add(((namespace or self.handle.default_namespace).lower(),
                            os.path.realpath(filename)))
        return self.load_string(text, namespace=namespace, filename=filename)

    def load_string(self, text, namespace=None, filename=None):
        """Compile MOF text (a compilation unit); raise MofLoadError on any problem."""
        ns = namespace or self.handle.default_namespace
        self._ensure_namespace(ns)
        text = normalize_newlines(text)
        lone = SURROGATE.search(text)
        if lone is not None:
            # only text given as a str can hold one (UTF-8 cannot encode it)
            raise MofLoadError(filename, line_in(text, lone.start()),
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
            raise as_load_error(exc, filename, self._may_quote) from None
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
