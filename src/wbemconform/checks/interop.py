"""The interop namespace: its name and whether the server lists it (NS-1, NS-2).

DSP1033 1.1 gives the interop namespace standard names: ``interop``
(preferred) and the deprecated ``/interop``, ``root/interop`` and
``/root/interop``; a server may also expose it under names of its own
(OpenPegasus' old ``root/PG_InterOp``), which clients should not need.
Where the server lists its namespaces -- CIM_Namespace (DSP0200, SMI-S),
CIM_WBEMServerNamespace (DSP1092) or WMI's __Namespace -- the interop
namespace is one of them (pywbem issue 1430: a server that left it out).
"""

from __future__ import annotations

from ..observe import RP
from .registry import Judge, Verdict, check, not_applicable
from ._common import ns_key

PREFERRED = "interop"
#: DSP1033 1.1's deprecated standard names, as compared (no leading "/")
DEPRECATED = ("interop", "root/interop")


@check("NS-1")
def interop_namespace_name(obs, _subject):
    if obs.flavor == "wmi":
        return not_applicable("a WMI target: WMI's interop namespace is root\\interop, the "
                              "name Microsoft's document gives it")
    name = obs.interop_ns
    if name.strip() == PREFERRED:
        return Verdict("pass", f"the interop namespace is {PREFERRED}, DSP1033 1.1's "
                       "preferred name")
    probe = obs.op("EnumerateInstanceNames", RP, namespace=PREFERRED)
    j = Judge().see(probe)
    if probe.ok:
        return j.verdict(f"the interop namespace {name} also answers as {PREFERRED} "
                         f"(EnumerateInstanceNames({RP}) there: {len(probe.value)} path(s))")
    kind = ("a standard name DSP1033 1.1 deprecates" if ns_key(name) in DEPRECATED else
            "an implementation-defined name, not one of DSP1033 1.1's standard names")
    j.fail(f"the interop namespace is {name}, {kind}; the preferred name {PREFERRED} is not "
           f"served (EnumerateInstanceNames({RP}) in {PREFERRED}: {probe.error_name})", probe)
    return j.verdict("")


@check("NS-2")
def interop_namespace_listed(obs, _subject):
    found = obs.namespace_discovery
    if found.method is None:
        return Verdict("not-applicable", f"the server lists no namespaces: {found.description}",
                       found.calls)
    j = Judge().see(*found.calls)
    if not found.lists(obs.interop_ns):
        shown = ", ".join(found.names[:8]) + (", ..." if len(found.names) > 8 else "")
        j.fail(f"{found.description} lists {len(found.names)} namespace(s) ({shown}) but not "
               f"the interop namespace {obs.interop_ns}", *found.calls)
    return j.verdict(f"{obs.interop_ns} is among the {len(found.names)} namespace(s) listed "
                     f"by {found.description}")
