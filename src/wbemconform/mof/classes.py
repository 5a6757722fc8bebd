"""Classes a MOF declares: what the compiler keeps of each declaration (for
the load-time checks of :mod:`wbemconform.mock.checks`), the classes a
declaration needs from a DMTF schema, and the hints an error about a class
gives."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..namespaces import remote_target_namespace
from .errors import MofLoadError
from .lines import feature_lines, line_of, property_line
from .source import CLASS_DECL

__all__ = ["ClassesMixin", "Declaration", "InstanceSite"]


@dataclass
class Declaration:
    """A class as a MOF file declared it (for the load-time checks)."""

    namespace: str
    cls: object
    file: str | None
    line: int | None
    feature_lines: dict


@dataclass
class InstanceSite:
    """Where an instance (of a watched class) was declared."""

    namespace: str
    instance: object
    file: str | None
    line: int | None


class ClassesMixin:
    """The class side of :class:`wbemconform.mof.compiler.WmiMofCompiler`.

    Keeps ``_written`` ({(namespace, class) lower: (class as declared,
    file)}) and ``declarations`` (a :class:`Declaration` of every class user
    MOF declared); compiles from ``schema`` (a DMTF schema, or None) what a
    namespace lacks; adds ``findings``."""

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
            finding = MofLoadError(self.parser.file, property_line(p, cls, message), message)
            if str(finding) not in map(str, self.findings):
                self.findings.append(finding)

    def _same_declaration(self, ns, written):
        known = self._written.get((ns.lower(), written.classname.lower()))
        return known is not None and known[0] == written

    def _declared(self, ns, written, p):
        self._written[(ns.lower(), written.classname.lower())] = (written, self.parser.file)
        if self._is_builtin(self.parser.file):
            return
        lines = feature_lines(p, list(written.properties))
        self.declarations.append(Declaration(ns, written, self.parser.file,
                                             line_of(p), lines))

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

    def _builtin_file_of(self, classname):
        """The mock's schema files to include for a class, in include order."""
        for folder in self._include_paths:
            order = [f for f in ("interop.mof", "cimv2.mof") if (folder / f).is_file()]
            for i, name in enumerate(order):
                text = (folder / name).read_text(encoding="utf-8")
                if any(m.group(1).lower() == classname.lower()
                       for m in CLASS_DECL.finditer(text)):
                    return order[:i + 1]
        return None
