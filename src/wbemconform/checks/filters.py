"""ResultClass requirements (RC-*).

DSP0200 takes a ResultClass (and an AssocClass) as a class of the namespace
of the request, and a server may refuse a class that namespace does not
define (CIM_ERR_INVALID_PARAMETER or CIM_ERR_INVALID_CLASS): that is a
correct answer, never a failure of RC-1..RC-3, which only filter with
classes the request's namespace defines. Filtering across namespaces -- the
far ends live in another namespace, and the class may be defined only
there, as Win32_Process is in root\\cimv2 -- is what WMI's
MSFT_TargetNamespace exists for; it is its own requirement, RC-4.
"""

from __future__ import annotations

from ..observe import RP
from .registry import Judge, Verdict, check, not_applicable
from ._common import (EXACT_FAULT_CODES, SAMPLE, call_text, capability_reason, keyed, ns_key,
                      see_sampled)


def _local(obs, path):
    return ns_key(path.namespace or obs.interop_ns) == ns_key(obs.interop_ns)


def _filter_probes(obs, elements, request_ns, defined_here):
    """{class: {element key: path}}: the classes to filter a profile's elements
    with, and which elements each must return. ``defined_here`` picks classes
    the request namespace defines (RC-1) or classes defined only where the
    elements live (RC-4)."""
    classes = set()
    for path in elements.values():
        home = path.namespace or request_ns
        chain = obs.class_chain(home, path.classname) or [path.classname]
        if defined_here:
            nearest = obs.nearest_class_in(request_ns, home, path.classname)
            if nearest:
                classes.add(nearest)
            if obs.has_class(request_ns, "CIM_ManagedElement") and "cim_managedelement" in \
                    (c.lower() for c in chain):
                classes.add("CIM_ManagedElement")
        else:
            classes.update(c for c in chain if not obs.has_class(request_ns, c))
    out = {}
    for cls in sorted(classes, key=str.lower):
        want = {k: p for k, p in elements.items()
                if obs.is_a(p.namespace or request_ns, p.classname, cls)}
        if want:
            out[cls] = want
    return out


def _judge_filter(j, out, call, cls, want, ns, undetermined=None):
    j.see(out)
    if not out.ok and undetermined is not None and out.undetermined:
        undetermined.append(f"{call}: {out.error.status_description}")
        return
    if not out.ok:
        j.fail(f"{call} fails with {out.error_name}: {out.error.status_description}", out)
        return
    got = keyed(out.value, ns)
    for key in sorted(want.keys() - got.keys()):
        j.fail(f"{call} misses {want[key]}", out)
    for key in sorted(got.keys() - want.keys()):
        j.fail(f"{call} returns {got[key]}, which is not a {cls}", out)


def _from_profiles(obs, assoc, j, local, undetermined=None):
    """RC-1 (local elements, classes of the request namespace) and RC-4
    (elements elsewhere: every class of theirs) from each linked profile."""
    ns = obs.interop_ns
    tried = 0
    for prof in obs.linked_profiles(assoc):
        base = obs.forward(assoc, prof)
        j.see(base)
        if not base.ok or not base.value:
            continue  # TR-1 reports it
        elements = {k: p for k, p in keyed(base.value, ns).items() if _local(obs, p) == local}
        probes = {}
        if local:
            probes = _filter_probes(obs, elements, ns, defined_here=True)
        else:
            probes.update(_filter_probes(obs, elements, ns, defined_here=True))
            probes.update(_filter_probes(obs, elements, ns, defined_here=False))
        obs.prefetch([obs.forward_request(assoc, prof, ResultClass=cls) for cls in probes])
        for cls, want in probes.items():
            tried += 1
            out = obs.forward(assoc, prof, ResultClass=cls)
            _judge_filter(j, out, call_text("AssociatorNames", prof.label,
                                        AssocClass=obs.filter_class(assoc, ns),
                                        ResultClass=cls), cls, want, ns, undetermined)
    return tried


@check("RC-1")
def resultclass_from_profile(obs, assoc):
    if not obs.linked_profiles(assoc):
        return not_applicable(f"no registered profile refers to {assoc.classname}")
    j = Judge()
    tried = _from_profiles(obs, assoc, j, local=True)
    if tried == 0 and not j.problems:
        return not_applicable("no element in the interop namespace to filter (elements in "
                              "other namespaces: see RC-4)")
    return j.verdict(f"ResultClass returns the elements for {tried} class filter(s)")


@check("RC-2")
def resultclass_from_element(obs, assoc):
    elements = obs.element_pairs(assoc)
    if not elements:
        return not_applicable(f"{assoc.classname} has no managed elements to start from")
    j = Judge()
    tried = 0
    obs.prefetch_reverse(assoc, [e for e, _ in elements.values() if obs.has_class(e.namespace, RP)],
                         ResultClass=RP)
    for ek, (elem, profiles) in elements.items():
        if not obs.has_class(elem.namespace, RP):
            continue  # a class the request namespace does not define: see RC-4
        tried += 1
        out = obs.reverse(assoc, elem, ResultClass=RP)
        see_sampled(j, out)
        if not out.ok:
            j.failed_call(call_text("AssociatorNames", elem, ResultClass=RP), out)
            continue
        got = keyed(out.value, obs.interop_ns)
        for pk in sorted(profiles):
            if pk not in got:
                j.fail(f"AssociatorNames({elem}, ResultClass={RP}) does not return "
                       f"{profiles[pk]}", out)
    if not tried:
        return not_applicable(f"{RP} is not defined where the elements live (see RC-4)")
    return j.verdict(f"ResultClass={RP} returns the profile from each of {tried} element(s)")


@check("RC-3")
def resultclass_filters(obs, assoc):
    profiles = obs.linked_profiles(assoc)
    elements = obs.element_pairs(assoc)
    if not profiles and not elements:
        return not_applicable(f"{assoc.classname} links nothing")
    j = Judge()
    tried = 0
    ns = obs.interop_ns
    for prof in profiles:
        base = obs.forward(assoc, prof)
        if not base.ok or not base.value:
            continue  # nothing to filter out: the probe would prove nothing
        if any(obs.is_a(p.namespace or ns, p.classname, RP) for p in base.value):
            continue  # the elements are profiles themselves: RP would match
        tried += 1
        out = obs.forward(assoc, prof, ResultClass=RP)
        _expect_nothing(j, out, call_text("AssociatorNames", prof.label, ResultClass=RP),
                        "the elements are not registered profiles")
    for ek, (elem, profiles_of) in list(elements.items())[:SAMPLE]:
        base = obs.reverse(assoc, elem)
        if not base.ok or not base.value:
            continue
        if any(obs.is_a(p.namespace or ns, p.classname, elem.classname) for p in base.value):
            continue
        tried += 1
        out = obs.reverse(assoc, elem, ResultClass=elem.classname)
        _expect_nothing(j, out, call_text("AssociatorNames", elem, ResultClass=elem.classname),
                        f"no profile is a {elem.classname}")
    if tried == 0:
        return not_applicable("no traversal returned anything a non-matching ResultClass "
                              "could filter out")
    return j.verdict(f"{tried} non-matching ResultClass filter(s) return nothing")


def _expect_nothing(j, out, call, why):
    j.see(out)
    if not out.ok:
        j.fail(f"{call} fails with {out.error_name}: {out.error.status_description}; an "
               f"empty result is expected ({why})", out)
    elif out.value:
        j.fail(f"{call} returns {len(out.value)} object(s), e.g. {out.value[0]}; {why}", out)


@check("RC-4")
def resultclass_across_namespaces(obs, assoc):
    """ResultClass where the far ends live in another namespace: from a
    profile, each class of the elements (also one defined only where they
    live); from an element, the profile's own class."""
    if not assoc.links_elsewhere:
        return not_applicable(f"{assoc.classname} links no element in another namespace")
    j = Judge()
    undetermined = []  # a refused filter fails RC-4, but a fault without a status may be no refusal
    tried = _from_profiles(obs, assoc, j, local=False, undetermined=undetermined)
    for ek, (elem, profiles) in list(obs.element_pairs(assoc).items())[:SAMPLE]:
        if _local(obs, elem):
            continue
        base = obs.reverse(assoc, elem)
        if not base.ok or not base.value:
            continue  # TR-2 reports it
        by_class = {}
        for pk, ppath in sorted(profiles.items()):
            by_class.setdefault(ppath.classname, {})[pk] = ppath
        for cls, want in sorted(by_class.items()):
            if obs.has_class(elem.namespace, cls):
                continue  # defined where the element lives: RC-2's kind of filter
            tried += 1
            out = obs.reverse(assoc, elem, ResultClass=cls)
            _judge_filter(j, out, call_text("AssociatorNames", elem, ResultClass=cls), cls,
                          want, obs.interop_ns, undetermined)
    if undetermined and not j.problems:
        return Verdict("not-applicable", capability_reason(
            EXACT_FAULT_CODES, "a refusal of the class is judged by its CIM status")
            + f" ({'; '.join(undetermined[:3])})", j.evidence)
    if tried == 0 and not j.problems:
        return not_applicable("no traversal across namespaces answered to filter "
                              "(see TR-1, TR-2)")
    return j.verdict(f"{tried} ResultClass filter(s) across namespaces return the far ends")

