"""The profile graph: CIM_ReferencedProfile direction, scoping profiles,
cycles (RP-12, RP-13, RP-14).

Which end of a CIM_ReferencedProfile is which depends on who wrote the
rules the profiles follow (pywbem's ``get_central_instances`` documents it):

* DMTF (DSP1033, DSP1001): Antecedent = the referenced profile (a component
  profile), Dependent = the referencing one (its scoping profile);
* SNIA SMI-S (Profile Registration profile): Antecedent = the autonomous
  (scoping) profile, Dependent = the component profile (subprofile);
* a CIM_SubProfileRequiresProfile, whatever the organization: the schema
  says its Antecedent is the scoping profile of its Dependent.

A plain reference between two profiles (e.g. a profile that references
Profile Registration) has no scoping meaning the suite could check. So the
direction is judged only where the knowledge base shows one end scoping the
other: a component profile whose scoping class is (a superclass of) the
other end's central class, or an autonomous and a component profile joined
by a CIM_SubProfileRequiresProfile. The convention is that of the
organization of the scoping (referencing) profile.
"""

from __future__ import annotations

from ..profiledefs import AUTONOMOUS, COMPONENT
from .registry import Judge, check, not_applicable
from ._common import path_key
from .methodology import kind_text

MAX_CYCLES = 5


def _references(obs):
    """(the CIM_ReferencedProfile enumeration, a not-applicable verdict when
    it lists nothing)."""
    out = obs.referenced_profiles
    if not out.ok or not out.value:
        return out, not_applicable("no CIM_ReferencedProfile instances"
                                   + ("" if out.ok else f" ({out.error_name})"))
    return out, None


def _end(obs, ref):
    return obs.profile_by_key(path_key(ref)) if ref is not None else None


def _can_scope(obs, scoping, component):
    """Why ``scoping`` can scope ``component`` by the knowledge base, or None."""
    dc, ds = obs.definition(component), obs.definition(scoping)
    if dc is None or ds is None or dc.type != COMPONENT or not dc.scoping_class \
            or not ds.central_class:
        return None
    if not obs.is_a_anywhere(ds.central_class, dc.scoping_class):
        return None
    return (f"{component.label}'s scoping class {dc.scoping_class} is "
            + ("" if ds.central_class.lower() == dc.scoping_class.lower() else "a superclass of ")
            + f"{scoping.label}'s central class {ds.central_class}")


def scoping_end(obs, link, ante, dep):
    """(scoping profile, scoped profile, why) of a link, when the knowledge
    base tells which end scopes the other; None otherwise."""
    ad, da = _can_scope(obs, ante, dep), _can_scope(obs, dep, ante)
    if ad and not da:
        return ante, dep, ad
    if da and not ad:
        return dep, ante, da
    if link.subprofile:
        ta, td = obs.profile_type(ante), obs.profile_type(dep)
        if {ta, td} == {AUTONOMOUS, COMPONENT}:
            auto, comp = (ante, dep) if ta == AUTONOMOUS else (dep, ante)
            return auto, comp, (f"{auto.label} is an autonomous profile and {comp.label} a "
                                "component profile, joined by a CIM_SubProfileRequiresProfile")
    return None


@check("RP-12")
def reference_direction(obs, _subject):
    out, na = _references(obs)
    if na:
        return na
    j = Judge().see(out)
    judged, unjudged = [], []
    for link in obs.reference_links:
        ante, dep = _end(obs, link.antecedent), _end(obs, link.dependent)
        if ante is None or dep is None or ante.key == dep.key:
            continue  # RP-9 judges links that do not join two registered profiles
        found = scoping_end(obs, link, ante, dep)
        if found is None:
            unjudged.append(link)
            continue
        scoping, scoped, why = found
        if link.subprofile:
            want_ante = True
            rule = f"the definition of {link.classname} (Antecedent = the scoping profile)"
        else:
            direction = obs.direction_of(scoping)
            if direction is None:
                unjudged.append(link)
                continue
            want_ante = direction == "snia"
            d = obs.definition(scoping)
            follows = ("as its knowledge base entry says" if d is not None and
                       d.reference_direction else
                       f"as a {obs.organization_name(scoping)} profile")
            rule = (("SNIA SMI-S's direction (Antecedent = the scoping, autonomous profile)"
                     if want_ante else "DMTF's direction (DSP1033: Antecedent = the referenced "
                     "component profile, Dependent = the referencing one)")
                    + f", which {scoping.label} follows {follows}")
        judged.append(link)
        is_ante = scoping.key == ante.key
        if is_ante != want_ante:
            j.fail(f"{link.classname} Antecedent={ante.label}, Dependent={dep.label}: "
                   f"{scoping.label} scopes {scoped.label} ({why}); by {rule} it is the "
                   f"{'Antecedent' if want_ante else 'Dependent'}, here the "
                   f"{'Antecedent' if is_ante else 'Dependent'}: the direction is reversed")
    if not judged:
        return not_applicable(f"none of the {len(out.value)} CIM_ReferencedProfile link(s) "
                              "joins a component profile and a profile the knowledge base "
                              "shows can scope it")
    return j.verdict(f"{len(judged)} link(s) between a component profile and its scoping "
                     "profile have their organization's direction"
                     + (f"; {len(unjudged)} other link(s) not judged (the knowledge base "
                        "does not show which end scopes the other)" if unjudged else ""))


@check("RP-13")
def one_scoping_profile(obs, profile):
    """A component profile's central instances can be found: a registered
    profile scopes it (the scoping class methodology), or
    CIM_ElementConformsToProfile reaches them (the central class
    methodology). Several scoping profiles are allowed: SMI-S shares one
    subprofile registration among the profiles that use it, and the scoping
    class methodology then takes what each finds (CI-3 walks each)."""
    kind = obs.profile_type(profile)
    if kind != COMPONENT:
        return not_applicable(kind_text(profile, kind) + ": only a component profile has a "
                              "scoping profile")
    j = Judge().see(obs.referenced_profiles)
    scoping = obs.scoping_profiles(profile)
    shown = [f"{_label(obs, path)} (by {link.classname})" for path, link in scoping]
    if len(scoping) > 1:
        return j.verdict(f"scoped by {len(scoping)} profiles: " + ", ".join(shown)
                         + " (one registration shared by its scoping profiles, as SMI-S "
                         "servers do; the scoping class methodology walks down from each. "
                         "pywbem's get_central_instances follows only one, and raises "
                         "ModelError for several when it falls back to that methodology)")
    if scoping:
        return j.verdict(f"scoped by {shown[0]}")
    fwd = obs.central_forward(profile.path)
    j.see(fwd)
    if fwd.ok and fwd.value:
        return j.verdict(f"no profile scopes it, but CIM_ElementConformsToProfile reaches its "
                         f"{len(fwd.value)} central instance(s) (the central class methodology)")
    direction = obs.direction_of(profile)
    how = ("as the Dependent of a CIM_SubProfileRequiresProfile"
           + (f" or in the {direction.upper()} direction of a CIM_ReferencedProfile"
              if direction else ""))
    j.fail(f"no registered profile scopes {profile.label} ({how}) and CIM_ElementConformsToProfile "
           + ("reaches nothing" if fwd.ok else f"traversal fails ({fwd.error_name})")
           + ": neither the scoping class nor the central class methodology can find its "
           "central instances", fwd)
    return j.verdict("")


def _label(obs, path):
    prof = obs.profile_by_key(path_key(path))
    return prof.label if prof is not None else str(path)


@check("RP-14")
def no_reference_cycles(obs, _subject):
    out, na = _references(obs)
    if na:
        return na
    j = Judge().see(out)
    edges, names = {}, {}
    for link in obs.reference_links:
        if link.antecedent is None or link.dependent is None:
            continue
        a, d = path_key(link.antecedent), path_key(link.dependent)
        if a == d:
            continue  # a profile referencing itself is RP-9's finding
        names[a], names[d] = _label(obs, link.antecedent), _label(obs, link.dependent)
        edges.setdefault(a, set()).add(d)
    cycles = find_cycles(edges)
    for cycle in cycles[:MAX_CYCLES]:
        j.fail("CIM_ReferencedProfile links form a cycle (Antecedent to Dependent): "
               + " -> ".join(names[k] for k in cycle + [cycle[0]]))
    return j.verdict(f"{sum(len(v) for v in edges.values())} reference(s) between "
                     f"{len(names)} profiles form no cycle")


def find_cycles(edges) -> list:
    """Elementary cycles reachable in a directed graph {node: {successors}},
    each once (rotated to start at its smallest node), found by an iterative
    depth-first search that reports the cycle of every back edge."""
    seen, cycles, done = set(), [], set()
    for start in sorted(edges):
        if start in done:
            continue
        stack, on_path, index = [(start, iter(sorted(edges.get(start, ()))))], [start], {start}
        while stack:
            node, successors = stack[-1]
            nxt = next(successors, None)
            if nxt is None:
                stack.pop()
                on_path.pop()
                index.discard(node)
                done.add(node)
                continue
            if nxt in index:
                cycle = on_path[on_path.index(nxt):]
                low = cycle.index(min(cycle))
                canon = tuple(cycle[low:] + cycle[:low])
                if canon not in seen:
                    seen.add(canon)
                    cycles.append(list(canon))
            elif nxt not in done:
                stack.append((nxt, iter(sorted(edges.get(nxt, ())))))
                on_path.append(nxt)
                index.add(nxt)
    return cycles
