"""Namespace strings as WMI MOF and DMTF clients write them.

One function, :func:`parse_namespace`, decides what a namespace string names:
which host (if any) and which namespace, and so whether it is *local*. WMI's
``MSFT_TargetNamespace`` qualifier and ``#pragma namespace`` may only name a
namespace on the local machine: a bare name (``root\\cimv2``, ``root/cimv2``)
or the local-machine form with the host ``.`` (``\\\\.\\root\\cimv2``,
``//./root/cimv2``). Any other host -- a name, ``localhost``, an IPv4 or IPv6
address, a URL -- is remote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["NamespaceSyntaxError", "TargetNamespace", "parse_namespace", "is_local_namespace",
           "TARGET_NAMESPACE_QUALIFIER", "target_namespace_qualifier", "remote_target_namespace"]

#: WMI's qualifier on a reference property: the namespace its values live in
TARGET_NAMESPACE_QUALIFIER = "MSFT_TargetNamespace"

# DSP0004: a namespace name is identifiers separated by "/".
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class NamespaceSyntaxError(ValueError):
    """A namespace string that names no namespace at all."""


@dataclass(frozen=True)
class TargetNamespace:
    """What a namespace string names."""

    text: str
    host: str | None  # None for a bare name; "." for the local machine
    name: str  # normalised: "/"-separated, no leading/trailing "/"

    @property
    def is_local(self) -> bool:
        return self.host is None or self.host == "."


def parse_namespace(text: str) -> TargetNamespace:
    """Parse a namespace string in any of the forms WMI and WBEM clients use.

    Raises NamespaceSyntaxError when the string names no valid namespace.
    """
    if not isinstance(text, str):
        raise NamespaceSyntaxError(f"namespace must be a string, not {type(text).__name__}")
    raw = text.strip()
    if not raw:
        raise NamespaceSyntaxError("empty namespace")
    path = raw.replace("\\", "/")
    host = None
    scheme = _SCHEME.match(path)
    if scheme:
        rest = path[scheme.end():]
        host, _, path = rest.partition("/")
        if not host:
            raise NamespaceSyntaxError(f"{text!r}: URL without a host")
    elif path.startswith("//"):
        host, _, path = path[2:].partition("/")
        if not host:
            raise NamespaceSyntaxError(f"{text!r}: the machine part is empty")
    segments = [s for s in path.strip("/").split("/")]
    if segments == [""]:
        raise NamespaceSyntaxError(f"{text!r}: no namespace name after the machine part")
    for seg in segments:
        if not _SEGMENT.match(seg):
            raise NamespaceSyntaxError(
                f"{text!r}: {seg!r} is not a valid namespace name segment "
                "(letters, digits and '_', not starting with a digit)")
    return TargetNamespace(text=text, host=host, name="/".join(segments))


def is_local_namespace(text: str) -> bool:
    """True when ``text`` names a namespace on the local machine."""
    return parse_namespace(text).is_local


def target_namespace_qualifier(prop, keep_invalid=False):
    """(raw text, parsed target) of a property's MSFT_TargetNamespace, or None
    when it has none or the text is not a namespace -- with ``keep_invalid``,
    (raw text, None) for a text that is not a namespace. The observations
    (wbemconform.observe, the EC-* checks), the MOF loader (through
    :func:`remote_target_namespace`) and the mock's providers read the
    qualifier with it."""
    qual = prop.qualifiers.get(TARGET_NAMESPACE_QUALIFIER) if prop is not None else None
    if qual is None or not qual.value:
        return None
    try:
        return qual.value, parse_namespace(qual.value)
    except NamespaceSyntaxError:
        return (qual.value, None) if keep_invalid else None


def remote_target_namespace(prop):
    """(raw qualifier text, the parsed remote target) when a property's
    MSFT_TargetNamespace names a namespace on another machine; else None."""
    found = target_namespace_qualifier(prop)
    return found if found is not None and not found[1].is_local else None
