"""Traversal, ResultClass and error-path requirements (TR-*, RC-*, ER-*)."""

from __future__ import annotations

from pywbem import CIMError, CIMInstanceName
from pywbem._cim_constants import (CIM_ERR_NOT_FOUND, CIM_ERR_NOT_SUPPORTED)

from ..observe import RP, ns_key, path_key
from . import Judge, check, not_applicable

NOT_SUPPORTED = (CIM_ERR_NOT_SUPPORTED,)
SAMPLE = 10  # elements probed where one call per element adds nothing new


def _expected_by_profile(obs, assoc):
    """{profile key: {element key: path}}: every pair the association's
    enumerations list, on either side; (None, None) when no enumeration works."""
    out, listings = {}, []
    for ns in assoc.sides:
        if assoc.decl(ns) is None:
            continue
        pairs = obs.enumerated_pairs(assoc, ns)
        if pairs is None:
            continue
        listings.append(obs.enumerate(assoc, ns))
        for (pk, ek), (_, me) in pairs.items():
            out.setdefault(pk, {})[ek] = me
    if not listings:
        return None, None
    return out, listings


def _keys(paths, ns):
    return {path_key(p, ns): p for p in paths or []}


def _diff(j, what, got, want, evidence):
    for key in want.keys() - got.keys():
        j.fail(f"{what} misses {want[key]}", evidence)
    for key in got.keys() - want.keys():
        j.fail(f"{what} returns {got[key]}, which is not expected", evidence)


def _linked(obs, assoc):
    return obs.linked_profiles(assoc)


def _pairs_of_element(obs, assoc):
    return obs.element_pairs(assoc)


@check("TR-1")
def forward_traversal(obs, assoc):
    profiles = _linked(obs, assoc)
    if not profiles:
        return not_applicable(f"no registered profile refers to {assoc.classname} (see EC-5)")
    expected, listings = _expected_by_profile(obs, assoc)
    j = Judge()
    j.see(*(listings or ()))
    total = 0
    for prof in profiles:
        fwd = obs.forward(assoc, prof)
        j.see(fwd)
        if not fwd.ok:
            j.failed_call(f"AssociatorNames({prof.label}, AssocClass={assoc.classname})", fwd)
            continue
        total += len(fwd.value)
        for path in fwd.value:
            if not path.namespace:
                j.fail(f"{path} comes back without a namespace", fwd)
            elif assoc.impl_ns and ns_key(path.namespace) != ns_key(assoc.impl_ns):
                j.fail(f"{path} is in {path.namespace}, not in {assoc.impl_ns}", fwd)
        if expected is not None:
            _diff(j, f"AssociatorNames from {prof.label}", _keys(fwd.value, obs.interop_ns),
                  expected.get(prof.key, {}), fwd)
    note = "" if expected is not None else " (no enumeration to compare with; see PR-1)"
    return j.verdict(f"{total} element(s) reached from {len(profiles)} profile(s), "
                     f"all in {assoc.impl_ns}{note}")


@check("TR-2")
def reverse_traversal(obs, assoc):
    elements = _pairs_of_element(obs, assoc)
    if not elements:
        return not_applicable(f"{assoc.classname} has no managed elements to start from")
    j = Judge()
    for ek, (elem, profiles) in elements.items():
        rev = obs.reverse(assoc, elem)
        if len(j.evidence) < 12:
            j.see(rev)
        if not rev.ok:
            j.failed_call(f"AssociatorNames({elem}, AssocClass={assoc.classname})", rev)
            continue
        got = _keys(rev.value, elem.namespace)
        for path in rev.value:
            if not path.namespace or ns_key(path.namespace) != ns_key(obs.interop_ns):
                j.fail(f"from {elem}: {path} is not in the interop namespace {obs.interop_ns}", rev)
        for pk, ppath in profiles.items():
            if pk not in got:
                j.fail(f"from {elem}: AssociatorNames does not reach its profile {ppath}", rev)
    return j.verdict(f"each of {len(elements)} element(s) reaches its profile in {obs.interop_ns}")


@check("TR-3")
def both_sides_agree(obs, assoc):
    profiles = _linked(obs, assoc)
    elements = _pairs_of_element(obs, assoc)
    if not profiles and not elements:
        return not_applicable(f"{assoc.classname} links nothing")
    j = Judge()
    forward, reverse = {}, {}
    for prof in profiles:
        fwd = obs.forward(assoc, prof)
        j.see(fwd)
        for path in (fwd.value or []) if fwd.ok else []:
            forward[(prof.key, path_key(path, obs.interop_ns))] = (prof.path, path)
    for ek, (elem, _) in elements.items():
        rev = obs.reverse(assoc, elem)
        for path in (rev.value or []) if rev.ok else []:
            reverse[(path_key(path, obs.interop_ns), ek)] = (path, elem)
    for key in forward.keys() - reverse.keys():
        p, e = forward[key]
        j.fail(f"seen from {obs.interop_ns} only: {p} -> {e}")
    for key in reverse.keys() - forward.keys():
        p, e = reverse[key]
        j.fail(f"seen from {assoc.impl_ns} only: {e} -> {p}")
    sides = [ns for ns in assoc.sides if assoc.decl(ns) is not None]
    listed = {ns: obs.enumerated_pairs(assoc, ns) for ns in sides}
    if len(sides) == 2 and all(v is not None for v in listed.values()):
        a, b = (listed[ns] for ns in sides)
        j.see(*(obs.enumerate(assoc, ns) for ns in sides))
        for key in a.keys() - b.keys():
            j.fail(f"enumerated in {sides[0]} only: {a[key][0]} -> {a[key][1]}")
        for key in b.keys() - a.keys():
            j.fail(f"enumerated in {sides[1]} only: {b[key][0]} -> {b[key][1]}")
    return j.verdict(f"{len(forward)} (profile, element) pair(s), the same from both sides")


def _pull_paths(obs, open_call):
    """Paths from an Open*Paths call and its pulls; None if pulls are not supported."""
    try:
        res = obs.target.call(*open_call[0], **open_call[1])
    except CIMError as exc:
        if exc.status_code in NOT_SUPPORTED:
            return None, obs.target.calls[-1]
        raise
    paths = list(res.paths)
    guard = 0
    while not res.eos and guard < 10000:
        res = obs.target.call("PullInstancePaths", res.context, MaxObjectCount=1000)
        paths.extend(res.paths)
        guard += 1
    return paths, obs.target.calls[-1]


@check("TR-4")
def strategies_agree(obs, assoc):
    profiles = _linked(obs, assoc)
    if not profiles:
        return not_applicable(f"no registered profile refers to {assoc.classname}")
    j = Judge()
    ns = obs.interop_ns
    for prof in profiles:
        base = obs.forward(assoc, prof)
        j.see(base)
        if not base.ok:
            j.fail(f"AssociatorNames from {prof.label} failed (see TR-1)", base)
            continue
        want = _keys(base.value, ns)
        strategies = {}
        out = obs.op("Associators", prof.path, AssocClass=assoc.classname)
        strategies["Associators"] = (out, [i.path for i in out.value or []] if out.ok else None)
        for op in ("ReferenceNames", "References"):
            out = obs.op(op, prof.path, ResultClass=assoc.classname)
            items = out.value or [] if out.ok else None
            paths = None if items is None else [
                (i.get("ManagedElement") if op == "References" else i.keybindings.get("ManagedElement"))
                for i in items]
            strategies[op] = (out, paths)
        listing = obs.enumerate(assoc, ns) if assoc.decl(ns) is not None else None
        if listing is not None and listing.ok:
            strategies[f"EnumerateInstances({assoc.classname})"] = (listing, [
                i.get("ManagedElement") for i in listing.value
                if isinstance(i.get("ConformantStandard"), CIMInstanceName)
                and path_key(i.get("ConformantStandard"), ns) == prof.key])
        for label, (out, paths) in strategies.items():
            j.see(out)
            if paths is None:
                j.fail(f"{label} from {prof.label} failed: {out.error.status_code_name}", out)
                continue
            _diff(j, f"{label} from {prof.label} (vs AssociatorNames)",
                  _keys([p for p in paths if isinstance(p, CIMInstanceName)], ns), want, out)
        unfiltered = obs.op("AssociatorNames", prof.path)
        j.see(unfiltered)
        if unfiltered.ok:
            every = _keys(unfiltered.value, ns)
            for key in want.keys() - every.keys():
                j.fail(f"unfiltered AssociatorNames from {prof.label} misses {want[key]}, "
                       "which the AssocClass-filtered call returns", unfiltered)
        pulled, call = _pull_paths(obs, (("OpenAssociatorInstancePaths", prof.path),
                                         {"AssocClass": assoc.classname, "MaxObjectCount": 1000}))
        j.see(call)
        if pulled is not None:
            _diff(j, f"OpenAssociatorInstancePaths from {prof.label}", _keys(pulled, ns), want, call)
    for ek, (elem, _) in list(_pairs_of_element(obs, assoc).items())[:SAMPLE]:
        rev = obs.reverse(assoc, elem)
        refs = obs.op("ReferenceNames", elem, ResultClass=assoc.classname)
        if not (rev.ok and refs.ok):
            if not refs.ok:
                j.fail(f"ReferenceNames from {elem} failed: {refs.error.status_code_name}", refs)
            continue
        _diff(j, f"ReferenceNames from {elem} (vs AssociatorNames)",
              _keys([r.keybindings.get("ConformantStandard") for r in refs.value], obs.interop_ns),
              _keys(rev.value, obs.interop_ns), refs)
    return j.verdict("Associators, References, ReferenceNames, enumeration, unfiltered "
                     "and pull traversal agree with AssociatorNames")


def _element_classes(obs, assoc, paths):
    """{class name: [paths]} of the elements, plus the declared ManagedElement class."""
    out = {}
    for p in paths:
        out.setdefault(p.classname, []).append(p)
    return out


@check("RC-1")
def resultclass_from_profile(obs, assoc):
    profiles = _linked(obs, assoc)
    if not profiles:
        return not_applicable(f"no registered profile refers to {assoc.classname}")
    j = Judge()
    tried = 0
    for prof in profiles:
        base = obs.forward(assoc, prof)
        j.see(base)
        if not base.ok or not base.value:
            continue
        elements = _keys(base.value, obs.interop_ns)
        impl = assoc.impl_ns or obs.interop_ns
        classes = set(_element_classes(obs, assoc, elements.values()))
        decl = assoc.decl(obs.interop_ns)
        if decl is not None and "ManagedElement" in decl.properties:
            classes.add(decl.properties["ManagedElement"].reference_class)
        classes.add("CIM_ManagedElement")
        for cls in sorted(classes, key=str.lower):
            want = {k: p for k, p in elements.items()
                    if obs.is_a(p.namespace or impl, p.classname, cls)}
            if not want:
                continue
            tried += 1
            out = obs.forward(assoc, prof, ResultClass=cls)
            j.see(out)
            if not out.ok:
                j.failed_call(f"AssociatorNames({prof.label}, ResultClass={cls})", out)
                continue
            _diff(j, f"AssociatorNames({prof.label}, ResultClass={cls})",
                  _keys(out.value, obs.interop_ns), want, out)
    if tried == 0 and not j.problems:
        return not_applicable("no elements reached from a profile to filter (see TR-1)")
    return j.verdict(f"ResultClass returns the elements for {tried} class filter(s)")


@check("RC-2")
def resultclass_from_element(obs, assoc):
    elements = _pairs_of_element(obs, assoc)
    if not elements:
        return not_applicable(f"{assoc.classname} has no managed elements to start from")
    j = Judge()
    for ek, (elem, profiles) in elements.items():
        out = obs.reverse(assoc, elem, ResultClass=RP)
        if len(j.evidence) < 12:
            j.see(out)
        if not out.ok:
            j.failed_call(f"AssociatorNames({elem}, ResultClass={RP})", out)
            continue
        got = _keys(out.value, obs.interop_ns)
        for pk, ppath in profiles.items():
            if pk not in got:
                j.fail(f"AssociatorNames({elem}, ResultClass={RP}) does not return {ppath}", out)
    return j.verdict(f"ResultClass={RP} returns the profile from each of "
                     f"{len(elements)} element(s)")


@check("RC-3")
def resultclass_filters(obs, assoc):
    profiles = _linked(obs, assoc)
    elements = _pairs_of_element(obs, assoc)
    if not profiles and not elements:
        return not_applicable(f"{assoc.classname} links nothing")
    j = Judge()
    tried = 0
    for prof in profiles:
        base = obs.forward(assoc, prof)
        if base.ok and any(obs.is_a(p.namespace or obs.interop_ns, p.classname, RP)
                           for p in base.value):
            continue  # the elements are profiles themselves: RP would match
        tried += 1
        out = obs.forward(assoc, prof, ResultClass=RP)
        j.see(out)
        if out.ok and out.value:
            j.fail(f"AssociatorNames({prof.label}, ResultClass={RP}) returns "
                   f"{len(out.value)} object(s), e.g. {out.value[0]}; the elements are not "
                   "registered profiles", out)
    for ek, (elem, profiles_of) in list(elements.items())[:SAMPLE]:
        if any(obs.is_a(p.namespace or obs.interop_ns, p.classname, elem.classname)
               for p in profiles_of.values()):
            continue
        tried += 1
        out = obs.reverse(assoc, elem, ResultClass=elem.classname)
        j.see(out)
        if out.ok and out.value:
            j.fail(f"AssociatorNames({elem}, ResultClass={elem.classname}) returns "
                   f"{out.value[0]}, which is not a {elem.classname}", out)
    if tried == 0:
        return not_applicable("no non-matching ResultClass to try")
    return j.verdict(f"{tried} non-matching ResultClass filter(s) return nothing")


def _missing_like(path, marker="wbemconform-no-such-instance"):
    """A path of the same class whose string keys no instance has."""
    out = path.copy()
    changed = False
    for name, value in path.keybindings.items():
        if isinstance(value, str):
            out.keybindings[name] = marker
            changed = True
    return out if changed else None


@check("ER-1")
def getinstance_of_nothing(obs, _subject):
    if not obs.all_profiles:
        return not_applicable("no registered profile to derive a nonexistent one from")
    j = Judge()
    probes = [_missing_like(obs.all_profiles[0].path)]
    for assoc in obs.associations:
        listing = obs.enumerate_names(assoc, obs.interop_ns) if assoc.decl(obs.interop_ns) else None
        if listing is not None and listing.ok and listing.value:
            path = listing.value[0].copy()
            me = path.keybindings.get("ManagedElement")
            fake = _missing_like(me) if isinstance(me, CIMInstanceName) else None
            if fake is not None:
                path.keybindings["ManagedElement"] = fake
                path.namespace = path.namespace or obs.interop_ns
                probes.append(path)
                break
    for probe in [p for p in probes if p is not None]:
        out = obs.op("GetInstance", probe)
        j.see(out)
        if out.ok:
            j.fail(f"GetInstance({probe}) returns an instance", out)
        elif out.status != CIM_ERR_NOT_FOUND:
            j.fail(f"GetInstance({probe}) fails with {out.error.status_code_name}, "
                   "not CIM_ERR_NOT_FOUND", out)
    return j.verdict("GetInstance of nonexistent instances fails with CIM_ERR_NOT_FOUND")


@check("ER-2")
def associators_of_nothing(obs, assoc):
    j = Judge()
    probes = []
    for prof in _linked(obs, assoc)[:1]:
        probes.append(_missing_like(prof.path))
    for _, (elem, _) in list(_pairs_of_element(obs, assoc).items())[:1]:
        probes.append(_missing_like(elem))
    probes = [p for p in probes if p is not None]
    if not probes:
        return not_applicable("no profile or element to derive a nonexistent one from")
    for probe in probes:
        for op, kw in (("AssociatorNames", {"AssocClass": assoc.classname}),
                       ("ReferenceNames", {"ResultClass": assoc.classname})):
            out = obs.op(op, probe, **kw)
            j.see(out)
            if out.ok and out.value:
                j.fail(f"{op}({probe}) returns {len(out.value)} object(s) for an object that "
                       "does not exist", out)
            elif not out.ok and out.status != CIM_ERR_NOT_FOUND:
                j.fail(f"{op}({probe}) fails with {out.error.status_code_name}, not "
                       "CIM_ERR_NOT_FOUND", out)
    return j.verdict("operations on nonexistent objects return nothing or CIM_ERR_NOT_FOUND")
