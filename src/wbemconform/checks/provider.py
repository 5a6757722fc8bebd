"""Provider requirements (PR-*)."""

from __future__ import annotations

from pywbem import (CIM_ERR_NOT_SUPPORTED, CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED, CIMError,
                    CIMInstance)

from ..observe import ECTP, FROM_ELEMENT
from ..targets.base import WriteRefused
from .registry import Judge, Verdict, check, not_applicable
from ._common import (JUDGED_WITHOUT, capability_reason, missing_like, ns_key, path_key,
                      see_sampled, uncertain_sides, with_namespace)

QUERY_REFUSALS = (CIM_ERR_NOT_SUPPORTED, CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED)


def _served_sides(obs, assoc):
    """The namespaces that declare the class and hold (or should hold) its instances."""
    return assoc.sides


@check("PR-1")
def enumeration_works(obs, assoc):
    j = Judge()
    sides = _served_sides(obs, assoc)
    if not sides:
        return not_applicable(f"{assoc.classname} is declared in neither namespace (see EC-1)")
    counts = []
    for ns in sides:
        insts, names = obs.enumerate(assoc, ns), obs.enumerate_names(assoc, ns)
        j.see(insts, names)
        for label, out in (("EnumerateInstances", insts), ("EnumerateInstanceNames", names)):
            if not out.ok:
                j.failed_call(f"{label}({assoc.classname}) in {ns}", out)
        if insts.ok and names.ok:
            a = {path_key(i.path, ns): i.path for i in obs.own(assoc, insts.value)}
            b = {path_key(p, ns): p for p in obs.own(assoc, names.value)}
            for key in sorted(a.keys() - b.keys()):
                j.fail(f"in {ns}, EnumerateInstances returns {a[key]} but "
                       "EnumerateInstanceNames does not", names)
            for key in sorted(b.keys() - a.keys()):
                j.fail(f"in {ns}, EnumerateInstanceNames returns {b[key]} but "
                       "EnumerateInstances does not", insts)
            mine = [i for i in insts.value if i.classname.lower() == assoc.classname.lower()]
            listed = sum(1 for link in assoc.links.values()
                         if ns in assoc.instance_ns and link.classname.lower() ==
                         assoc.classname.lower())
            if not mine and ns in assoc.instance_ns and listed:
                j.fail(f"in {ns}, EnumerateInstances({assoc.classname}) returns none of its "
                       f"instances, but EnumerateInstanceNames of {ECTP} lists them", insts)
            counts.append(f"{len(a)} in {ns}")
            _unlisted_links(obs, assoc, ns, b, j, names)
    unsure = uncertain_sides(obs, assoc)
    if unsure and not j.problems:
        return Verdict("not-applicable", capability_reason(*JUDGED_WITHOUT["PR-1"])
                       + f" ({', '.join(unsure)})", j.evidence)
    return j.verdict("enumeration works: " + ", ".join(counts))


def _unlisted_links(obs, assoc, ns, listed, j, evidence):
    """Association instances ReferenceNames returned from an element in ``ns``
    (links found from the element side only) that the enumeration of the
    class there does not list."""
    for link in assoc.links.values():
        if link.source != FROM_ELEMENT or link.path is None or \
                ns_key(link.path.namespace) != ns_key(ns) or \
                link.classname.lower() != assoc.classname.lower():
            continue
        if path_key(link.path, ns) not in listed:
            j.fail(f"in {ns}, ReferenceNames from {link.element} returns {link.path}, which "
                   f"EnumerateInstanceNames({assoc.classname}) there does not list", evidence)


@check("PR-2")
def get_matches_enumeration(obs, assoc):
    """GetInstance of every association path the suite has seen for this
    subject -- each enumerated instance (the same properties back), and each
    path ReferenceNames returned from an element for a link no enumeration
    lists (it must resolve: a client may hold only that path)."""
    j = Judge()
    checked = 0
    fetched = set()
    for ns in _served_sides(obs, assoc):
        listing = obs.enumerate(assoc, ns)
        j.see(listing)
        if not listing.ok:
            continue
        own = obs.own(assoc, listing.value)
        obs.prefetch([("GetInstance", (with_namespace(inst.path, ns),), {}) for inst in own])
        for inst in own:
            path = with_namespace(inst.path, ns)
            fetched.add(path_key(path))
            got = obs.op("GetInstance", path)
            checked += 1
            see_sampled(j, got)
            if not got.ok:
                j.fail(f"GetInstance({path}) failed: {got.error.status_code_name}: "
                       f"{got.error.status_description}", got)
                continue
            mine = {k.lower(): v for k, v in inst.items()}
            theirs = {k.lower(): v for k, v in got.value.items()}
            if mine != theirs:
                diff = sorted(k for k in mine.keys() | theirs.keys()
                              if mine.get(k) != theirs.get(k))
                j.fail(f"GetInstance({path}) differs from the enumerated instance in "
                       + ", ".join(diff), got, listing)
    found = [p for p in obs.seen_paths(assoc) if path_key(p) not in fetched]
    obs.prefetch([("GetInstance", (path,), {}) for path in found])
    for path in found:
        got = obs.op("GetInstance", path)
        checked += 1
        see_sampled(j, got)
        if not got.ok:
            j.fail(f"GetInstance({path}) failed: {got.error.status_code_name}: "
                   f"{got.error.status_description}; ReferenceNames from its ManagedElement "
                   "returned this path, so it names an instance the server has", got)
        elif got.value.path is not None and path_key(with_namespace(got.value.path,
                                                                    path.namespace)) \
                != path_key(path):
            j.fail(f"GetInstance({path}) returns another instance: {got.value.path}", got)
    j.examined("association paths", checked)
    enumerated = checked - len(found)
    return j.verdict(f"GetInstance of {enumerated} enumerated path(s) returns the same "
                     "properties" + (f"; {len(found)} path(s) found from the element side "
                                     "resolve" if found else ""),
                     nothing="no association path to get: enumeration lists none and none "
                     "was found from the element side (see PR-1)")


@check("PR-3")
def query_matches_enumeration(obs, assoc):
    j = Judge()
    notes, undetermined = [], []
    for ns in _served_sides(obs, assoc):
        listing = obs.enumerate(assoc, ns)
        out = obs.op("ExecQuery", "WQL", f"SELECT * FROM {assoc.classname}", namespace=ns)
        j.see(out)
        if not out.ok:
            if out.status in QUERY_REFUSALS:
                notes.append(f"refused in {ns} ({out.error.status_code_name})")
            elif out.undetermined:
                undetermined.append(f"ExecQuery in {ns}: {out.error.status_description}")
            else:
                j.fail(f"ExecQuery in {ns} failed with {out.error.status_code_name}, neither "
                       "an answer nor CIM_ERR_NOT_SUPPORTED", out)
            continue
        if not listing.ok:
            notes.append(f"answered in {ns}; no enumeration to compare (see PR-1)")
            continue
        j.see(listing)
        want = {path_key(i.path, ns): i for i in obs.own(assoc, listing.value)}
        got = {}
        for inst in obs.own(assoc, out.value):
            cs, me = inst.get("ConformantStandard"), inst.get("ManagedElement")
            key = path_key(inst.path, ns) if inst.path is not None and inst.path.keybindings \
                else (cs and me and path_key(_assoc_path(assoc, ns, cs, me), ns))
            got[key] = inst
        for key in want.keys() - got.keys():
            j.fail(f"ExecQuery in {ns} misses {want[key].path}", out)
        for key in got.keys() - want.keys():
            j.fail(f"ExecQuery in {ns} returns a row enumeration does not: "
                   f"{got[key].path or dict(got[key].items())}", out)
        notes.append(f"{len(got)} row(s) in {ns} match enumeration")
    undetermined += [f"whether {ns} declares {assoc.classname}"
                     for ns in uncertain_sides(obs, assoc)]
    if undetermined and not j.problems:
        return Verdict("not-applicable", capability_reason(*JUDGED_WITHOUT["PR-3"])
                       + f" ({'; '.join(undetermined)})", j.evidence)
    return j.verdict("; ".join(notes))


def _assoc_path(assoc, ns, cs, me):
    from pywbem import CIMInstanceName
    return CIMInstanceName(assoc.classname, namespace=ns,
                           keybindings={"ConformantStandard": cs, "ManagedElement": me})


@check("PR-4")
def provider_registered_on_both_sides(obs, assoc):
    j = Judge()
    sides = assoc.wanted_sides
    names = {}
    for ns in sides:
        partner = obs.counterpart(assoc, ns)
        decl = partner.decl(ns) if partner is not None else None
        if decl is None:
            j.fail(f"{assoc.classname} is not declared in {ns}")
            continue
        dyn = decl.qualifiers.get("Dynamic")
        prov = decl.qualifiers.get("Provider")
        if dyn is None or not dyn.value:
            j.fail(f"{ns}:{decl.classname} is not qualified Dynamic")
        if prov is None or not prov.value:
            j.fail(f"{ns}:{decl.classname} has no Provider qualifier")
        else:
            names[ns] = prov.value
    if len(set(n.lower() for n in names.values())) > 1:
        j.fail("the Provider qualifiers differ: " +
               ", ".join(f"{ns}: {n!r}" for ns, n in names.items()))
    clsids = {}
    for ns, name in names.items():
        regs = obs.registrations(ns)
        j.see(*obs.registration_evidence(ns))
        hit = regs.get(name.lower())
        if hit is None:
            j.fail(f"provider {name!r} is not registered in {ns} (no __Win32Provider "
                   f"with Name = {name!r})")
            continue
        prov, reg = hit
        clsids[ns] = (prov.get("CLSID") or prov.get("ClsId") or "").strip("{}").lower()
        if reg is None:
            j.fail(f"provider {name!r} has no __InstanceProviderRegistration in {ns}")
            continue
        for flag in ("SupportsGet", "SupportsEnumeration"):
            if reg.get(flag) is not True:
                j.fail(f"{ns}: {flag} of provider {name!r} is {reg.get(flag)!r}, not TRUE")
    if len(set(clsids.values())) > 1:
        j.fail("the provider's ClsId differs between namespaces: " +
               ", ".join(f"{ns}: {c or 'none'}" for ns, c in clsids.items()))
    return j.verdict(f"[Dynamic, Provider({next(iter(names.values()), '?')!r})], registered in "
                     + " and ".join(names) + " with the same ClsId, Get and Enumeration TRUE")


@check("PR-5")
def writes_refused(obs, assoc):
    if not obs.target.can("writes"):
        return not_applicable("writes are not allowed against this target "
                              "(use --wbem-allow-writes to check PR-5)")
    dynamic = [d for d in assoc.decls.values()
               if d.qualifiers.get("Dynamic") is not None and d.qualifiers["Dynamic"].value]
    if not dynamic:
        return not_applicable(f"{assoc.classname} is not provider-backed (no Dynamic "
                              "qualifier): its instances live in the repository, which "
                              "accepts writes by design")
    j = Judge()
    tried = 0
    for ns in _served_sides(obs, assoc):
        listing = obs.enumerate(assoc, ns)
        if not listing.ok or not listing.value:
            continue
        victim = listing.value[0]
        path = with_namespace(victim.path, ns)
        copy = CIMInstance(victim.classname, properties=dict(victim.items()))
        element = victim.get("ManagedElement")
        fresh = missing_like(element) if element is not None else None
        if fresh is not None:  # a new pair, so that "already exists" is no refusal
            copy["ManagedElement"] = fresh
        attempts = (("CreateInstance", (copy,), {"namespace": ns}),
                    ("ModifyInstance", (_with_path(victim, path),), {}),
                    ("DeleteInstance", (path,), {}))
        for op, args, kwargs in attempts:
            tried += 1
            try:
                obs.target.call(op, *args, **kwargs)
            except CIMError:
                j.see(obs.target.calls[-1])
                continue
            except WriteRefused:
                continue
            j.fail(f"{op} of {assoc.classname} in {ns} was accepted", obs.target.calls[-1])
    if tried == 0:
        return not_applicable("no association instance to try writes on (see PR-1)")
    return j.verdict(f"{tried} write operation(s) on association instances refused")


def _with_path(inst, path):
    out = inst.copy()
    out.path = path
    return out
