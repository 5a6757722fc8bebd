"""Traversal and error-path requirements (TR-*, ER-*).

Every traversal states its direction -- from a profile: Role =
ConformantStandard, ResultRole = ManagedElement; from an element, the
reverse -- so a link between two profiles (a profile as the ManagedElement)
is judged as what it is. Every filter names a class the request's namespace
defines (:meth:`Observations.filter_class`): where the association's own
class is not declared in that namespace, its nearest superclass that is
stands in, and the answer is then compared with every association of that
superclass, not only this one.
"""

from __future__ import annotations

from pywbem import CIM_ERR_NOT_FOUND, CIMInstanceName

from ..observe import ELEMENT_ROLE, FROM_ENUMERATION, PROFILE_ROLE
from .registry import Judge, Verdict, check, not_applicable
from ._common import (
    JUDGED_WITHOUT,
    SAMPLE,
    call_text,
    capability_reason,
    keyed,
    missing_like,
    ns_key,
    path_key,
    see_sampled,
)

NO_SUCH_ROLE = "WbemconformNoSuchRole"


def _diff(j, what, got, want, evidence, allowed=None, extra_text="which is not expected"):
    """Report what ``got`` misses of ``want`` and what it has beyond
    ``allowed`` (default: ``want``), in a stable order."""
    allowed = want if allowed is None else allowed
    for key in sorted(want.keys() - got.keys()):
        j.fail(f"{what} misses {want[key]}", evidence)
    for key in sorted(got.keys() - allowed.keys()):
        j.fail(f"{what} returns {got[key]}, {extra_text}", evidence)


def _allowed_profiles(obs, assoc, element):
    """{profile key: path} any association of the filter class links to an element."""
    ns = element.namespace or obs.interop_ns
    return obs.links_by_end(obs.filter_class(assoc, ns), ns, "element").get(path_key(element), {})


def _allowed_elements(obs, assoc, profile):
    ns = obs.interop_ns
    return obs.links_by_end(obs.filter_class(assoc, ns), ns, "profile").get(profile.key, {})


@check("TR-1")
def forward_traversal(obs, assoc):
    profiles = obs.linked_profiles(assoc)
    if not profiles:
        return not_applicable(f"no registered profile refers to {assoc.classname} (see EC-5)")
    j = Judge()
    ns = obs.interop_ns
    enumerated = bool(assoc.links)
    total = 0
    for (pk, _), link in sorted(assoc.links.items()):
        if obs.profile_by_key(pk) is None:
            j.fail(f"an instance names {link.profile} as ConformantStandard, which is not a "
                   f"registered profile in {ns}: its element {link.element} cannot be reached "
                   "from a profile")
    for prof in profiles:
        fwd = obs.forward(assoc, prof)
        j.see(fwd)
        if not fwd.ok:
            j.failed_call(call_text("AssociatorNames", prof.label,
                                AssocClass=obs.filter_class(assoc, ns), Role=PROFILE_ROLE,
                                ResultRole=ELEMENT_ROLE), fwd)
            continue
        total += len(fwd.value)
        for path in fwd.value:
            if not path.namespace:
                j.fail(f"{path} comes back without a namespace", fwd)
        if enumerated:
            _diff(j, f"AssociatorNames from {prof.label}", keyed(fwd.value, ns),
                  obs.expected_elements(assoc, prof), fwd,
                  allowed=_allowed_elements(obs, assoc, prof),
                  extra_text="which no association instance links to it")
    note = "" if enumerated else " (no enumeration to compare with; see PR-1)"
    j.examined("elements reached", total)
    j.examined("enumerated links", len(assoc.links))
    return j.verdict(f"{total} element(s) reached from {len(profiles)} profile(s), in "
                     f"{', '.join(assoc.element_ns) or ns}{note}",
                     nothing=f"no profile reaches an element through {assoc.classname}, and "
                     "no enumeration lists a link to compare with")


@check("TR-2")
def reverse_traversal(obs, assoc):
    elements = obs.element_pairs(assoc)
    if not elements:
        return not_applicable(f"{assoc.classname} has no managed elements to start from")
    j = Judge()
    obs.prefetch_reverse(assoc, [elem for elem, _ in elements.values()])
    for ek, (elem, profiles) in elements.items():
        rev = obs.reverse(assoc, elem)
        see_sampled(j, rev)
        if not rev.ok:
            j.failed_call(call_text("AssociatorNames", elem, AssocClass=obs.filter_class(
                assoc, elem.namespace), Role=ELEMENT_ROLE, ResultRole=PROFILE_ROLE), rev)
            continue
        got = keyed(rev.value, elem.namespace)
        for path in rev.value:
            if not path.namespace or ns_key(path.namespace) != ns_key(obs.interop_ns):
                j.fail(f"from {elem}: {path} is not in the interop namespace {obs.interop_ns}", rev)
        for pk in sorted(profiles):
            if pk not in got:
                j.fail(f"from {elem}: AssociatorNames does not reach its profile "
                       f"{profiles[pk]}", rev)
    j.examined("elements", len(elements))
    return j.verdict(f"each of {len(elements)} element(s) reaches its profile(s) in "
                     f"{obs.interop_ns}")


@check("TR-3")
def both_sides_agree(obs, assoc):
    profiles = obs.linked_profiles(assoc)
    elements = obs.element_pairs(assoc)
    if not assoc.links and not profiles and not elements:
        return not_applicable(f"{assoc.classname} links nothing")
    j = Judge()
    ns = obs.interop_ns
    forward, reverse = {}, {}
    for prof in profiles:
        fwd = obs.forward(assoc, prof)
        j.see(fwd)
        for path in (fwd.value or []) if fwd.ok else []:
            forward[(prof.key, path_key(path, ns))] = (prof.path, path)
    obs.prefetch_reverse(assoc, [elem for elem, _ in elements.values()])
    for ek, (elem, _) in elements.items():
        rev = obs.reverse(assoc, elem)
        see_sampled(j, rev)
        for path in (rev.value or []) if rev.ok else []:
            reverse[(path_key(path, ns), ek)] = (path, elem)
    # every enumerated pair is seen from both ends ...
    for key, link in sorted(assoc.links.items()):
        if key not in forward:
            j.fail(f"{link.how}, but not reached from the profile's side: "
                   f"{link.profile} -> {link.element}")
        if key not in reverse:
            j.fail(f"{link.how}, but not reached from the element's side: "
                   f"{link.element} -> {link.profile}")
    # ... and what either end reaches is a pair some association states
    if assoc.links:
        allowed_f = obs.links_under(obs.filter_class(assoc, ns), ns)
        for key in sorted(forward.keys() - allowed_f.keys()):
            p, e = forward[key]
            j.fail(f"seen from {ns} only, enumerated nowhere: {p} -> {e}")
        for key in sorted(reverse.keys()):
            p, e = reverse[key]
            if key not in _pairs_allowed_at(obs, assoc, e):
                j.fail(f"seen from {e.namespace} only, enumerated nowhere: {e} -> {p}")
    else:
        for key in sorted(forward.keys() - reverse.keys()):
            p, e = forward[key]
            j.fail(f"seen from {ns} only: {p} -> {e}")
        for key in sorted(reverse.keys() - forward.keys()):
            p, e = reverse[key]
            j.fail(f"seen from {e.namespace} only: {e} -> {p}")
    _enumerations_mirror(obs, assoc, j)
    seen = len(set(forward) | set(reverse))
    j.examined("(profile, element) pairs", seen)
    return j.verdict(f"{seen} (profile, element) pair(s), the same from both ends"
                     + (" and in both namespaces' enumerations" if assoc.links_elsewhere else ""),
                     nothing="neither end reaches the other and no enumeration lists a pair")


def _pairs_allowed_at(obs, assoc, element):
    ns = element.namespace or obs.interop_ns
    return obs.links_under(obs.filter_class(assoc, ns), ns)


def _enumerations_mirror(obs, assoc, j):
    """A link that crosses namespaces is enumerated on both sides (by some
    CIM_ElementConformsToProfile class: the server may use a different class
    on each side; whether it should is EC-1's business, for WMI)."""
    by_ns = obs.pairs_by_namespace()
    interop = ns_key(obs.interop_ns)
    for key, link in sorted(assoc.links.items()):
        elem_ns = ns_key(link.element.namespace)
        if elem_ns == interop or link.source != FROM_ENUMERATION:
            continue  # local, or listed by no enumeration at all (PR-1 says so)
        for side in (interop, elem_ns):
            if side not in by_ns:
                continue  # no CIM_ElementConformsToProfile class there to enumerate
            pairs, listing = by_ns[side]
            if key not in pairs:
                other = elem_ns if side == interop else interop
                j.fail(f"enumerated in {obs.spelling(other)} only, not in {obs.spelling(side)}: "
                       f"{link.profile} -> {link.element}", listing)


@check("TR-4")
def strategies_agree(obs, assoc):
    profiles = obs.linked_profiles(assoc)
    if not profiles:
        return not_applicable(f"no registered profile refers to {assoc.classname}")
    j = Judge()
    ns = obs.interop_ns
    filt = obs.filter_class(assoc, ns)
    compared = 0
    for prof in profiles:
        base = obs.forward(assoc, prof)
        j.see(base)
        if not base.ok:
            continue  # TR-1 reports it
        want = keyed(base.value, ns)
        roles = {"Role": PROFILE_ROLE, "ResultRole": ELEMENT_ROLE}
        obs.prefetch([("Associators", (prof.path,), dict(AssocClass=filt, **roles))]
                     + [(op, (prof.path,), {"ResultClass": filt, "Role": PROFILE_ROLE})
                        for op in ("ReferenceNames", "References")]
                     + [("AssociatorNames", (prof.path,), {})])
        out = obs.op("Associators", prof.path, AssocClass=filt, **roles)
        strategies = {"Associators": (out, [i.path for i in out.value] if out.ok else None)}
        for op in ("ReferenceNames", "References"):
            out = obs.op(op, prof.path, ResultClass=filt, Role=PROFILE_ROLE)
            paths = None
            if out.ok:
                paths = [(i.get(ELEMENT_ROLE) if op == "References"
                          else i.keybindings.get(ELEMENT_ROLE)) for i in out.value]
            strategies[op] = (out, paths)
        for label, (out, paths) in strategies.items():
            j.see(out)
            compared += 1
            if paths is None:
                j.failed_call(f"{label} from {prof.label}", out)
                continue
            _diff(j, f"{label} from {prof.label} (vs AssociatorNames)",
                  keyed([p for p in paths if isinstance(p, CIMInstanceName)], ns), want, out)
        unfiltered = obs.op("AssociatorNames", prof.path)
        j.see(unfiltered)
        if unfiltered.ok:
            every = keyed(unfiltered.value, ns)
            for key in sorted(want.keys() - every.keys()):
                j.fail(f"unfiltered AssociatorNames from {prof.label} misses {want[key]}, "
                       "which the filtered call returns", unfiltered)
    for ek, (elem, _) in list(obs.element_pairs(assoc).items())[:SAMPLE]:
        rev = obs.reverse(assoc, elem)
        if not rev.ok:
            continue  # TR-2 reports it
        refs = obs.op("ReferenceNames", elem, ResultClass=obs.filter_class(assoc, elem.namespace),
                      Role=ELEMENT_ROLE)
        compared += 1
        if not refs.ok:
            j.failed_call(f"ReferenceNames from {elem}", refs)
            continue
        _diff(j, f"ReferenceNames from {elem} (vs AssociatorNames)",
              keyed([r.keybindings.get(PROFILE_ROLE) for r in refs.value], ns),
              keyed(rev.value, ns), refs)
    if not compared:
        return not_applicable("no traversal answered to compare with (see TR-1, TR-2)")
    return j.verdict("Associators, References and ReferenceNames agree with AssociatorNames, "
                     "from both ends")


@check("TR-5")
def roles_filter(obs, assoc):
    """Role and ResultRole filter: the roles as declared select the far ends,
    the reverse roles select none (unless the source is linked both ways), an
    unknown role gives nothing, and Role = ResultRole is a legal request --
    each asked with the association class as AssocClass and without it (a
    server may handle the filters in its own code when no class is named).
    A source whose traversal reaches nothing is still asked (an error is a
    finding) but is not counted as examined: it cannot tell a filter that
    works from one that is ignored."""
    profiles = obs.linked_profiles(assoc)[:SAMPLE]
    elements = list(obs.element_pairs(assoc).items())[:SAMPLE]
    if not profiles and not elements:
        return not_applicable(f"{assoc.classname} links nothing")
    j = Judge()
    ns = obs.interop_ns
    answered = 0
    for prof in profiles:
        base = obs.forward(assoc, prof)
        if not base.ok:
            continue  # TR-1 reports it
        answered += 1
        filt = obs.filter_class(assoc, ns)
        want = keyed(base.value, ns)
        j.examined("sources reaching something", bool(want))
        as_element = _allowed_profiles(obs, assoc, prof.path)
        probes = [
            ({"AssocClass": filt, "Role": PROFILE_ROLE}, want, "the declared Role alone"),
            ({"AssocClass": filt, "ResultRole": ELEMENT_ROLE}, want,
             "the declared ResultRole alone"),
            ({"AssocClass": filt, "Role": ELEMENT_ROLE, "ResultRole": PROFILE_ROLE}, as_element,
             "the reverse roles (the profile as a ManagedElement)"),
        ] + _role_errors(filt, PROFILE_ROLE)
        obs.prefetch([("AssociatorNames", (prof.path,), kw) for kw, _expect, _what in probes]
                     + [("ReferenceNames", (prof.path,),
                         {"ResultClass": filt, "Role": NO_SUCH_ROLE})])
        for kw, expect, what in probes:
            out = obs.op("AssociatorNames", prof.path, **kw)
            _judge_role_probe(j, out, call_text("AssociatorNames", prof.label, **kw), what,
                              expect, ns)
        refs = obs.op("ReferenceNames", prof.path, ResultClass=filt, Role=NO_SUCH_ROLE)
        _judge_role_probe(j, refs, call_text("ReferenceNames", prof.label, ResultClass=filt,
                                         Role=NO_SUCH_ROLE), "an unknown Role", {}, ns)
    for ek, (elem, profs) in elements:
        base = obs.reverse(assoc, elem)
        if not base.ok:
            continue  # TR-2 reports it
        answered += 1
        filt = obs.filter_class(assoc, elem.namespace)
        want = keyed(base.value, ns)
        j.examined("sources reaching something", bool(want))
        probes = [({"AssocClass": filt, "Role": ELEMENT_ROLE}, want, "the declared Role alone")]
        probes += _role_errors(filt, ELEMENT_ROLE)
        obs.prefetch([("AssociatorNames", (elem,), kw) for kw, _expect, _what in probes])
        for kw, expect, what in probes:
            out = obs.op("AssociatorNames", elem, **kw)
            _judge_role_probe(j, out, call_text("AssociatorNames", elem, **kw), what, expect, ns)
    if not answered:
        return not_applicable("no traversal answered to filter (see TR-1, TR-2)")
    reaching = j.counts.get("sources reaching something", 0)
    return j.verdict(f"Role and ResultRole filter as declared from {reaching} "
                     "source(s), with and without AssocClass; unknown roles and Role = "
                     "ResultRole give empty results",
                     nothing=f"every traversal from the {answered} source(s) that answered "
                     "reaches nothing, so no filter could be seen to select (the probes that "
                     "must return nothing did)")


def _role_errors(filt, role):
    """The probes every source must answer with nothing -- an unknown Role,
    an unknown ResultRole, Role = ResultRole (one association cannot name two
    references alike, so nothing plays both) -- with AssocClass and without."""
    probes = []
    for assoc_filter in ({"AssocClass": filt}, {}):
        how = "" if assoc_filter else ", no AssocClass"
        probes += [
            ({**assoc_filter, "Role": NO_SUCH_ROLE}, {}, f"an unknown Role{how}"),
            ({**assoc_filter, "ResultRole": NO_SUCH_ROLE}, {}, f"an unknown ResultRole{how}"),
            ({**assoc_filter, "Role": role, "ResultRole": role}, {}, f"Role = ResultRole{how}"),
        ]
    return probes


def _judge_role_probe(j, out, call, what, expect, ns):
    if not out.ok:
        j.fail(f"{call} ({what}) fails with {out.error_name}: {out.error.status_description}; "
               "a role filter is not an error", out)
        return
    got = keyed(out.value, ns)
    if got.keys() != expect.keys():
        extra = sorted(got.keys() - expect.keys())
        missing = sorted(expect.keys() - got.keys())
        j.fail(f"{call} ({what}) returns {len(got)} object(s), expected {len(expect)}"
               + (f"; unexpected {got[extra[0]]}" if extra else "")
               + (f"; missing {expect[missing[0]]}" if missing else ""), out)
    else:
        j.see(out)


# -- error paths ----------------------------------------------------------------------

@check("ER-1")
def getinstance_of_nothing(obs, _subject):
    if not obs.all_profiles:
        return not_applicable("no registered profile to derive a nonexistent one from")
    j = Judge()
    probes = [missing_like(obs.all_profiles[0].path)]
    for assoc in obs.associations:
        if assoc.decl(obs.interop_ns) is None:
            continue
        listing = obs.enumerate_names(assoc, obs.interop_ns)
        if listing.ok and listing.value:
            path = listing.value[0].copy()
            me = path.keybindings.get(ELEMENT_ROLE)
            fake = missing_like(me) if isinstance(me, CIMInstanceName) else None
            if fake is not None:
                path.keybindings[ELEMENT_ROLE] = fake
                path.namespace = path.namespace or obs.interop_ns
                probes.append(path)
                break
    undetermined = []
    for probe in [p for p in probes if p is not None]:
        out = obs.op("GetInstance", probe)
        j.see(out)
        if out.ok:
            j.fail(f"GetInstance({probe}) returns an instance", out)
        elif out.undetermined:
            undetermined.append(out)
        elif out.status != CIM_ERR_NOT_FOUND:
            j.fail(f"GetInstance({probe}) fails with {out.error_name}, not CIM_ERR_NOT_FOUND",
                   out)
    if undetermined and not j.problems:
        return _undetermined("ER-1", undetermined)
    return j.verdict("GetInstance of nonexistent instances fails with CIM_ERR_NOT_FOUND")


@check("ER-2")
def associators_of_nothing(obs, assoc):
    j = Judge()
    probes = []
    for prof in obs.linked_profiles(assoc)[:1]:
        probes.append(missing_like(prof.path))
    for _, (elem, _) in list(obs.element_pairs(assoc).items())[:1]:
        probes.append(missing_like(elem))
    probes = [p for p in probes if p is not None]
    if not probes:
        return not_applicable("no profile or element to derive a nonexistent one from")
    undetermined = []
    for probe in probes:
        filt = obs.filter_class(assoc, probe.namespace or obs.interop_ns)
        for op, kw in (("AssociatorNames", {"AssocClass": filt}),
                       ("ReferenceNames", {"ResultClass": filt})):
            out = obs.op(op, probe, **kw)
            j.see(out)
            if out.ok and out.value:
                j.fail(f"{op}({probe}) returns {len(out.value)} object(s) for an object that "
                       "does not exist", out)
            elif not out.ok and out.undetermined:
                undetermined.append(out)
            elif not out.ok and out.status != CIM_ERR_NOT_FOUND:
                j.fail(f"{op}({probe}) fails with {out.error_name}, not CIM_ERR_NOT_FOUND", out)
    if undetermined and not j.problems:
        return _undetermined("ER-2", undetermined)
    return j.verdict("operations on nonexistent objects return nothing or CIM_ERR_NOT_FOUND")


def _undetermined(req_id, outcomes):
    """Not applicable: the faults the verdict hinges on came without a CIM status."""
    return Verdict("not-applicable", capability_reason(*JUDGED_WITHOUT[req_id])
                   + f" ({len(outcomes)} fault(s) without one, e.g. {outcomes[0].call.operation}"
                   f": {outcomes[0].error.status_description})",
                   [o.call for o in outcomes if o.call is not None])
