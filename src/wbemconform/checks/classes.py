"""Association-class requirements (EC-*, SC-1)."""

from __future__ import annotations

import re

from pywbem import CIMClass, CIMInstanceName, CIMQualifier

from ..observe import ECTP, RP
from .registry import Judge, check, not_applicable
from ._common import ns_key, path_key, see_sampled, target_namespace, with_namespace

# <Organization>_<ProductName>_<ClassName>_<Version>, e.g.
# Microsoft_Process_ElementConformsToProfile_v1
NAMING = re.compile(r"[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9]+(?:_[A-Za-z0-9]+)*"
                    r"_[A-Za-z][A-Za-z0-9]*_[vV]?\d+(?:[._]\d+)*\Z")


def _class_calls(obs, assoc):
    return [obs.op("GetClass", assoc.classname, namespace=assoc.declared_in.get(k, k),
                   LocalOnly=False, IncludeQualifiers=True) for k in assoc.decls]


@check("EC-1")
def declared_on_both_sides(obs, assoc):
    j = Judge().see(*_class_calls(obs, assoc))
    if not assoc.links_elsewhere:
        if assoc.decl(obs.interop_ns) is not None:
            return not_applicable(f"{assoc.classname} does not link into another namespace")
    served = []
    for ns in assoc.wanted_sides:
        partner = obs.counterpart(assoc, ns)
        if partner is None:
            out = obs.op("GetClass", assoc.classname, namespace=ns, LocalOnly=False,
                         IncludeQualifiers=True)
            j.fail(f"{assoc.classname} links {obs.interop_ns} and "
                   f"{', '.join(assoc.impl_namespaces) or assoc.interop_ns}, but no class in "
                   f"{ns} serves its links: it is not declared there "
                   f"({out.error_name if out.error else 'not an ' + ECTP + ' subclass'}) and no "
                   "other class there states the same links", out)
        else:
            served.append(f"{ns}" + ("" if partner is assoc else f" (as {partner.classname})"))
    return j.verdict("declared in " + " and ".join(served))


@check("EC-2")
def naming_convention(obs, assoc):
    j = Judge()
    if not NAMING.match(assoc.classname):
        j.fail(f"{assoc.classname} does not follow <Organization>_<ProductName>_"
               "<ClassName>_<Version> (e.g. Microsoft_Process_ElementConformsToProfile_v1)")
    return j.verdict(f"{assoc.classname} follows the naming convention")


@check("EC-3")
def target_namespace_qualifiers(obs, assoc):
    if not assoc.links_elsewhere:
        return not_applicable(f"{assoc.classname} does not link into another namespace")
    j = Judge().see(*_class_calls(obs, assoc))
    for impl in assoc.impl_namespaces:
        sides = ((obs.interop_ns, "ManagedElement", impl),
                 (impl, "ConformantStandard", obs.interop_ns))
        for ns, prop_name, points_to in sides:
            partner = obs.counterpart(assoc, ns)
            decl = partner.decl(ns) if partner is not None else None
            if decl is None:
                j.fail(f"{assoc.classname} is not declared in {ns}: no {prop_name} to qualify")
                continue
            raw, target = target_namespace(decl.properties.get(prop_name))
            if raw is None:
                j.fail(f"{ns}:{decl.classname}.{prop_name} points into {points_to} but has "
                       "no MSFT_TargetNamespace qualifier (the ResultClass filter of "
                       "'associators of' will not work)")
            elif target is None:
                j.fail(f"{ns}:{decl.classname}.{prop_name}: MSFT_TargetNamespace({raw!r}) "
                       "is not a namespace")
            elif ns_key(target.name) != ns_key(points_to):
                j.fail(f"{ns}:{decl.classname}.{prop_name}: MSFT_TargetNamespace({raw!r}) "
                       f"names {target.name}, but the references point into {points_to}")
    return j.verdict("MSFT_TargetNamespace names the other namespace on both sides")


@check("EC-4")
def no_remote_target_namespace(obs, assoc):
    j = Judge().see(*_class_calls(obs, assoc))
    for failure in obs.target.load_failures:
        if assoc.classname.lower() in failure.lower():
            j.fail(f"the MOF was rejected: {failure}")
    for key, decl in assoc.decls.items():
        for prop in decl.properties.values():
            raw, target = target_namespace(prop)
            if target is not None and not target.is_local:
                j.fail(f"{assoc.declared_in[key]}:{assoc.classname}.{prop.name}: "
                       f"MSFT_TargetNamespace({raw!r}) names the remote machine {target.host!r}")
    probes = obs.target.can("class-definitions")
    if probes and not j.problems:
        _probe_remote_class_rejected(obs, assoc, j)
    return j.verdict("no MSFT_TargetNamespace names a remote machine"
                     + (" and the target rejects a class that does" if probes else ""))


def _probe_remote_class_rejected(obs, assoc, j):
    """On a target that accepts class definitions: a copy of the class whose
    ManagedElement names a remote machine must be rejected."""
    decl = assoc.decl(obs.interop_ns) or next(iter(assoc.decls.values()))
    probe = CIMClass(f"{assoc.classname}_RemoteProbe", superclass=decl.superclass,
                     qualifiers={n: q for n, q in decl.qualifiers.items()
                                 if n.lower() in ("dynamic", "provider")})
    me = decl.properties.get("ManagedElement")
    if me is None:
        return
    prop = me.copy()
    prop.propagated = False
    prop.class_origin = None
    prop.qualifiers = {"MSFT_TargetNamespace": CIMQualifier(
        "MSFT_TargetNamespace", "\\\\RemoteMachine\\root\\cimv2")}
    probe.properties["ManagedElement"] = prop
    from pywbem import CIMError
    try:
        obs.target.call("CreateClass", probe, namespace=obs.interop_ns)
    except CIMError as exc:
        j.see(obs.target.calls[-1])
        if "remote" not in (exc.status_description or "").lower():
            j.fail(f"the probe class {probe.classname} was rejected, but not for its remote "
                   f"MSFT_TargetNamespace: {exc.status_description}", obs.target.calls[-1])
        return
    j.fail(f"the target accepted class {probe.classname} whose MSFT_TargetNamespace names "
           "a remote machine", obs.target.calls[-1])
    try:
        obs.target.call("DeleteClass", probe.classname, namespace=obs.interop_ns)
    except CIMError:
        pass


@check("EC-5")
def references_resolve(obs, assoc):
    j = Judge()
    refs = {}  # key -> (role, GetInstance path, namespace of the listing)
    for ns in assoc.sides:
        out = obs.enumerate(assoc, ns)
        j.see(out)
        if not out.ok:
            continue
        for inst in obs.own(assoc, out.value):
            for role in ("ConformantStandard", "ManagedElement"):
                ref = inst.get(role)
                if not isinstance(ref, CIMInstanceName):
                    j.fail(f"{ns}:{inst.path}: {role} is not a reference")
                    continue
                refs.setdefault(path_key(ref, ns), (role, with_namespace(ref, ns), ns))
    for link in assoc.links.values():  # found from the element side: no listing has it
        if link.path is not None:
            ns = link.path.namespace
            refs.setdefault(path_key(link.profile), ("ConformantStandard", link.profile, ns))
            refs.setdefault(path_key(link.element), ("ManagedElement", link.element, ns))
    # in the order of the paths, not of the server's listing (any order)
    refs = dict(sorted(refs.items(), key=lambda kv: str(kv[1][1])))
    obs.prefetch([("GetInstance", (target,), {}) for _, target, _ in refs.values()])
    for role, target, ns in refs.values():
        got = obs.op("GetInstance", target)
        if not got.ok:
            j.fail(f"{role} {target} (from {ns}) does not resolve: {got.error_name}", got)
        else:
            see_sampled(j, got)
    if not refs and not j.problems:
        return not_applicable("no association instance could be enumerated or found from "
                              "the element side (see PR-1)")
    return j.verdict(f"all {len(refs)} referenced object(s) resolve with GetInstance")


@check("SC-1")
def schema_in_implementation_namespace(obs, assoc):
    if not assoc.links_elsewhere:
        return not_applicable(f"{assoc.classname} does not link into another namespace")
    j = Judge()
    for ns in assoc.impl_namespaces:
        for name in (ECTP, RP):
            out = obs.op("GetClass", name, namespace=ns, LocalOnly=False,
                         IncludeQualifiers=True)
            j.see(out)
            if not out.ok:
                j.fail(f"{name} is not defined in {ns}: {out.error_name}", out)
    return j.verdict(f"{ECTP} and {RP} are defined in {', '.join(assoc.impl_namespaces)}")
