"""``#pragma namespace``: what WMI's mofcomp accepts -- a bare name or the
local-machine form ``"\\\\\\\\.\\\\root\\\\interop"`` -- and no namespace on
any other machine; at most :data:`wbemconform.mof.limits.MAX_NAMESPACES`
namespaces created by one mock's MOF."""

from __future__ import annotations

from pywbem import CIMError, MOFParseError, NocaseDict

from ..namespaces import NamespaceSyntaxError, parse_namespace
from . import limits

__all__ = ["NamespacePragmaMixin"]


class NamespacePragmaMixin:
    """The namespace side of :class:`wbemconform.mof.compiler.WmiMofCompiler`.

    Keeps ``_known_namespaces`` (lower-case names a pragma switched to) and
    ``_created_namespaces`` (how many of them did not exist before); calls
    ``_ensure_namespace`` before anything goes into a namespace."""

    def _switch_namespace(self, text, p):
        """``#pragma namespace(text)`` (grammar callback)."""
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
                if self._created_namespaces >= limits.MAX_NAMESPACES:
                    raise MOFParseError(
                        msg=f"#pragma namespace({text!r}) would create namespace "
                            f"{limits.MAX_NAMESPACES + 1}; the MOF loaded into the mock may "
                            f"create at most {limits.MAX_NAMESPACES} (each gets WMI's system "
                            "classes); is a namespace fan-out running away?",
                        parser_token=p)
                self._created_namespaces += 1
            self._known_namespaces.add(key)
        self._ensure_namespace(target.name)
        self.parser.target_namespace = target.name
        self.parser.qualcache.setdefault(target.name, NocaseDict())
        self.parser.classnames.setdefault(target.name, [])

    def _namespaces(self):
        """The namespaces the connection has (none if it cannot say)."""
        try:
            return list(self.handle._conn.namespaces)
        except (AttributeError, CIMError):
            return []
