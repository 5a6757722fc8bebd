"""Class name and CIM namespace <-> WS-Management resource URI.

WS-Management names a CIM class by a resource URI (DSP0227 6.1); the CIM
namespace travels either in the ``__cimnamespace`` selector (DSP0227 6.3) or,
in WinRM's own form, inside the URI. Which URI a server expects for which
class is not one rule but several, and :class:`ResourceUriMap` knows them:

=====================  ======================================================  ==============
form                   URI                                                      namespace in
=====================  ======================================================  ==============
DMTF (DSP0227 6.1)     ``http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/C``  selector
WinRM (MS-WSMV         ``http://schemas.microsoft.com/wbem/wsman/1/wmi/``       the URI
3.1.4.1.1)             ``root/cimv2/C``
OMI                    ``http://schemas.microsoft.com/wbem/wscim/1/``           selector
                       ``cim-schema/2/C``
Dell iDRAC             ``http://schemas.dell.com/wbem/wscim/1/cim-schema/2/C``  selector
Intel AMT              ``http://intel.com/wbem/wscim/1/amt-schema/1/C`` (and    selector
                       ``ips-schema/1/``)
=====================  ======================================================  ==============

Outgoing (:meth:`ResourceUriMap.uri_for`), the first that applies wins:

1. a user rule ``PREFIX=URI-base``: a class whose name starts with PREFIX
   (case-insensitively; the longest matching prefix wins, ``*`` matches
   every class) gets ``URI-base`` + class name;
2. a DMTF class (name starting ``CIM_``) gets the DMTF form -- MS-WSMV
   3.1.4.1.1 says WinRM serves DMTF classes under that prefix;
3. any other class gets the map's ``style``: ``"winrm"`` (default, the
   ``wmi/<namespace>/<class>`` form), ``"omi"`` (OMI's prefix: OMI serves
   its own and vendor classes, e.g. ``OMI_Identify``, ``SCX_Agent`` there)
   or ``"dmtf"`` (the DMTF form for every class: OpenPegasus' WS-Man server
   maps only ``http://<any host>/wbem/wscim/1/cim-schema/2/<class>``, for
   its own ``PG_`` classes too, and answers with the host the request used).

Incoming (:meth:`ResourceUriMap.parse`), every form above is recognised, the
user rules first, and then any ``<scheme>://<host>/wbem/wscim/1/<schema>/<n>/
<class>`` (the host-agnostic rule OpenPegasus applies: a URI such as
``http://schemas.openpegasus.org/wbem/wscim/1/cim-schema/2/PG_Foo`` maps to
``PG_Foo``). A URI ending in ``/*`` names all classes (DSP0227 7.1; WinRM's
``wmi/<namespace>/*``): :class:`ParsedUri` then has ``classname=None``. A
WinRM command-line locator's ``?__cimnamespace=`` query is honoured.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .names import CIMNAMESPACE_SELECTOR

__all__ = ["ResourceUriMap", "ParsedUri", "PrefixRule", "UnknownResourceUri", "DMTF_BASE",
           "WINRM_WMI_BASE", "OMI_BASE", "DELL_BASE", "AMT_BASE", "IPS_BASE", "ALL_CLASSES_URI",
           "STYLES", "parse_rule"]

DMTF_BASE = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
WINRM_WMI_BASE = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
OMI_BASE = "http://schemas.microsoft.com/wbem/wscim/1/cim-schema/2/"
DELL_BASE = "http://schemas.dell.com/wbem/wscim/1/cim-schema/2/"
AMT_BASE = "http://intel.com/wbem/wscim/1/amt-schema/1/"
IPS_BASE = "http://intel.com/wbem/wscim/1/ips-schema/1/"
#: DSP0227: the resource URI of "every class", used with filters
ALL_CLASSES_URI = "http://schemas.dmtf.org/wbem/wscim/1/*"
STYLES = ("winrm", "omi", "dmtf")

#: the bases recognised on input besides the user's rules, longest first
KNOWN_BASES = (DMTF_BASE, OMI_BASE, DELL_BASE, AMT_BASE, IPS_BASE)

_CLASSNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_GENERIC = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]+/wbem/wscim/1/[^/]+/[^/]+/"
                      r"(?P<class>[A-Za-z_][A-Za-z0-9_]*)$")


class UnknownResourceUri(ValueError):
    """A resource URI no rule of the map understands."""


class PrefixRule(NamedTuple):
    """Classes whose name starts with ``class_prefix`` live under ``uri_base``."""
    class_prefix: str
    uri_base: str


class ParsedUri(NamedTuple):
    """What a resource URI names: ``classname`` (None: all classes), the
    ``namespace`` when the URI carries one (WinRM form, ``?__cimnamespace=``),
    and the ``base`` the class name was appended to."""
    classname: str | None
    namespace: str | None
    base: str


def parse_rule(text):
    """A :class:`PrefixRule` from ``"PREFIX=URI-base"`` (a ``/`` is added to the base)."""
    prefix, sep, base = str(text).partition("=")
    prefix, base = prefix.strip(), base.strip()
    if not sep or not prefix or not base or "://" not in base:
        raise ValueError(f"resource URI rule {text!r}: expected PREFIX=URI-base, "
                         "e.g. ACME_=http://schemas.acme.example/wbem/wscim/1/cim-schema/2/")
    if not base.endswith("/"):
        base += "/"
    return PrefixRule(prefix, base)


def _namespace_path(namespace):
    return "/".join(part for part in namespace.replace("\\", "/").split("/") if part)


class ResourceUriMap:
    """The class <-> resource URI map described in the module docstring.

    ``rules`` are :class:`PrefixRule` or ``"PREFIX=URI-base"`` strings;
    ``style`` is how non-DMTF classes are named when no rule applies."""

    def __init__(self, rules=(), *, style="winrm"):
        if style not in STYLES:
            raise ValueError(f"resource URI style {style!r}: expected one of {', '.join(STYLES)}")
        self.style = style
        parsed = [r if isinstance(r, PrefixRule) else parse_rule(r) for r in rules]
        self.rules = tuple(sorted(parsed, key=lambda r: -len(r.class_prefix.rstrip("*"))))

    def __repr__(self):
        return f"ResourceUriMap(rules={list(self.rules)!r}, style={self.style!r})"

    # -- outgoing ---------------------------------------------------------------

    def _rule_for(self, classname):
        lower = classname.lower()
        for rule in self.rules:
            prefix = rule.class_prefix.rstrip("*").lower()
            if lower.startswith(prefix):
                return rule
        return None

    def uri_for(self, classname, namespace=None):
        """The resource URI of ``classname`` (in ``namespace``, for the WinRM form)."""
        if not classname or not _CLASSNAME.match(classname):
            raise ValueError(f"not a CIM class name: {classname!r}")
        rule = self._rule_for(classname)
        if rule is not None:
            return rule.uri_base + classname
        if classname.lower().startswith("cim_") or self.style == "dmtf":
            return DMTF_BASE + classname
        if self.style == "omi":
            return OMI_BASE + classname
        if not namespace:
            raise ValueError(f"the WinRM resource URI of {classname} needs its CIM namespace")
        return f"{WINRM_WMI_BASE}{_namespace_path(namespace)}/{classname}"

    def all_classes_uri(self, namespace=None):
        """The "all classes" URI filters are sent to (DSP0227; WinRM: ``wmi/<ns>/*``)."""
        if self.style == "winrm" and namespace:
            return f"{WINRM_WMI_BASE}{_namespace_path(namespace)}/*"
        return ALL_CLASSES_URI

    @staticmethod
    def carries_namespace(uri):
        """True when ``uri`` names the CIM namespace itself (WinRM form): then no
        ``__cimnamespace`` selector is needed."""
        return str(uri).strip().startswith(WINRM_WMI_BASE)

    # -- incoming ---------------------------------------------------------------

    def parse(self, uri):
        """The :class:`ParsedUri` of ``uri``; :class:`UnknownResourceUri` if no form fits."""
        text = str(uri).strip()
        namespace = None
        if "?" in text:
            text, _, query = text.partition("?")
            for item in query.split("&"):
                key, _, value = item.partition("=")
                if key == CIMNAMESPACE_SELECTOR and value:
                    namespace = value
        bases = [r.uri_base for r in self.rules] + list(KNOWN_BASES)
        for base in bases:
            if text.startswith(base):
                return self._tail(text[len(base):], namespace, base, uri)
        if text.startswith(WINRM_WMI_BASE):
            ns_path, _, classname = text[len(WINRM_WMI_BASE):].rpartition("/")
            if ns_path:
                return self._tail(classname, namespace or ns_path,
                                  f"{WINRM_WMI_BASE}{ns_path}/", uri)
        if text.endswith("/wbem/wscim/1/*"):
            return ParsedUri(None, namespace, text[:-1])
        match = _GENERIC.match(text)
        if match:
            return ParsedUri(match.group("class"), namespace, text[:match.start("class")])
        raise UnknownResourceUri(f"resource URI {text[:200]!r} names no CIM class this map knows")

    @staticmethod
    def _tail(classname, namespace, base, uri):
        if classname == "*":
            return ParsedUri(None, namespace, base)
        if not _CLASSNAME.match(classname):
            raise UnknownResourceUri(f"resource URI {str(uri)[:200]!r}: {classname[:80]!r} is "
                                     "not a CIM class name")
        return ParsedUri(classname, namespace, base)

    def classname_of(self, uri):
        """The class name ``uri`` names (:class:`UnknownResourceUri` for none or all)."""
        parsed = self.parse(uri)
        if parsed.classname is None:
            raise UnknownResourceUri(f"resource URI {str(uri)[:200]!r} names all classes, not one")
        return parsed.classname
