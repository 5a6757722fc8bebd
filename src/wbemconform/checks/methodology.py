"""DSP1033's profile advertisement methodologies (CI-2, CI-3, CI-4).

A client finds the central instances of a registered profile in one of three
ways (pywbem's ``WBEMServer.get_central_instances`` tries them in order):

* the GetCentralInstances methodology (DSP1033 1.1): the extrinsic method of
  the CIM_RegisteredProfile instance returns them (optional);
* the central class methodology: CIM_ElementConformsToProfile links the
  registration to them -- what an autonomous profile implements;
* the scoping class methodology (component profiles): up CIM_ReferencedProfile
  to the scoping profile, to its central instances, then down the scoping
  path to the central class.

What a profile's central class, scoping class and scoping path are comes
from the profile knowledge base (:mod:`wbemconform.profiledefs`); a profile
it does not know is not-applicable here, never a failure.
"""

from __future__ import annotations

from pywbem import (CIM_ERR_METHOD_NOT_AVAILABLE, CIM_ERR_METHOD_NOT_FOUND, CIM_ERR_NOT_SUPPORTED,
                    CIMInstanceName)

from ..observe import ECTP, ELEMENT_ROLE, PROFILE_ROLE
from ..profiledefs import AUTONOMOUS, COMPONENT
from .registry import Judge, Verdict, check, not_applicable
from ._common import (EXACT_FAULT_CODES, JUDGED_WITHOUT, capability_reason, path_key,
                      see_sampled, with_namespace)

#: elements traversed back to their profile, scoping instances walked down from
SAMPLE = 25
KB_HINT = "add it with --wbem-profile-defs"


def _known(obs, profile):
    """(definition, None) or (None, not-applicable verdict)."""
    d = obs.definition(profile)
    if d is None:
        who = profile.label if profile.unique_label else \
            f"{profile.label} ({obs.organization_name(profile) or 'no organization'})"
        return None, not_applicable(f"{who} is not in the profile knowledge base ({KB_HINT})")
    if not d.central_class:
        return None, not_applicable(f"the knowledge base ({d.origin}) gives no central class "
                                    f"for {d.label}")
    return d, None


def kind_text(profile, kind):
    """'X is an autonomous profile' (or what is known of it)."""
    article = "an" if kind and kind[0] in "aeiou" else "a"
    return f"{profile.label} is " + (f"{article} {kind} profile" if kind else
                                     "not known to be a component profile (not in the "
                                     "knowledge base, not a CIM_RegisteredSubProfile)")


def _forward_text(obs, profile):
    return (f"AssociatorNames({profile.label}, AssocClass="
            f"{obs.conformance_filter(obs.interop_ns)}, Role={PROFILE_ROLE}, "
            f"ResultRole={ELEMENT_ROLE})")


def _elements(obs, out):
    return [with_namespace(p, obs.interop_ns) for p in (out.value or [])] if out.ok else []


def _is_central(obs, d, path):
    return obs.is_a_anywhere(path.classname, d.central_class, [path.namespace])


@check("CI-2")
def central_class_methodology(obs, profile):
    d, na = _known(obs, profile)
    if na:
        return na
    j = Judge()
    fwd = obs.central_forward(profile.path)
    j.see(fwd)
    call = _forward_text(obs, profile)
    if not fwd.ok:
        if fwd.undetermined and d.type != AUTONOMOUS:
            return Verdict("not-applicable", capability_reason(*JUDGED_WITHOUT["CI-2"])
                           + f" ({call}: {fwd.error.status_description})", [fwd.call])
        if fwd.status == CIM_ERR_NOT_SUPPORTED and d.type != AUTONOMOUS:
            return Verdict("not-applicable", f"{call} is not supported: a {d.type} profile "
                           "may leave its central instances to the scoping class methodology "
                           "(CI-3)", [fwd.call])
        j.failed_call(call, fwd)
        return j.verdict("")
    elements = _elements(obs, fwd)
    if not elements:
        if d.type != AUTONOMOUS:
            return Verdict("not-applicable", f"a {d.type} profile that CIM_ElementConformsTo"
                           "Profile links to nothing: its central instances are the scoping "
                           "class methodology's (CI-3)", [fwd.call])
        existing = {ns: out for ns, out in obs.central_class_instances(d.central_class).items()
                    if out.value}
        if not existing:
            return Verdict("not-applicable", f"an autonomous profile, and the server has no "
                           f"{d.central_class} instance for it to reach", [fwd.call])
        total = sum(len(out.value) for out in existing.values())
        ns, first = next(iter(existing.items()))
        j.fail(f"{call} returns nothing, but the server has {total} {d.central_class} "
               f"instance(s) (e.g. {first.value[0]} in {ns}): the central class methodology, "
               f"which an autonomous profile implements, reaches none of {d.label}'s central "
               "instances", fwd, *list(existing.values())[:3])
        return j.verdict("")
    central = [e for e in elements if _is_central(obs, d, e)]
    if not central:
        j.fail(f"{call} returns {len(elements)} element(s), none of them a {d.central_class} "
               f"(e.g. {elements[0]}); {d.label}'s central class is {d.central_class} "
               f"(knowledge base, {d.origin})", fwd)
    for elem in central[:SAMPLE]:
        rev = obs.central_reverse(elem)
        see_sampled(j, rev)
        back = (f"AssociatorNames({elem}, AssocClass={obs.conformance_filter(elem.namespace)}, "
                f"Role={ELEMENT_ROLE}, ResultRole={PROFILE_ROLE})")
        if not rev.ok:
            j.failed_call(back, rev)
        elif profile.key not in {path_key(p, obs.interop_ns) for p in rev.value}:
            j.fail(f"{back} does not reach {profile.label}: the central instance does not "
                   "lead back to its profile", rev)
    others = len(elements) - len(central)
    checked = min(len(central), SAMPLE)
    return j.verdict(f"{len(central)} {d.central_class} central instance(s) reached through "
                     f"{ECTP}" + (f" ({others} other element(s))" if others else "")
                     + f"; {checked} of them lead back to the profile")


# -- the scoping class methodology (CI-3) ------------------------------------------

def walk_down(obs, j, start, hops, notes):
    """{key: path} reached from ``start`` along hops [(association, far class)]:
    pywbem's scoping class traversal, AssociatorNames(AssocClass, ResultClass)
    hop by hop, in the namespace of each source. Where that namespace does not
    define the far class, DSP0200 lets the server refuse it as ResultClass:
    the hop is asked with AssocClass alone and the far class filtered here;
    where it does not define the association class, no such association starts
    there. Both are noted (``notes``), not failed; an operation that fails is a
    finding."""
    current = {path_key(start): start}
    for assoc_class, far_class in hops:
        nxt = {}
        for src in current.values():
            ns = src.namespace or obs.interop_ns
            if not obs.has_class(ns, assoc_class):
                notes.setdefault(f"{assoc_class} is not defined in {ns}, so no such "
                                 "association starts there", None)
                continue
            result_class = far_class if obs.has_class(ns, far_class) else None
            if result_class is None:
                notes.setdefault(f"{far_class} is not defined in {ns} (pywbem's "
                                 f"get_central_instances, which names it as ResultClass, "
                                 "is refused there)", None)
            out = obs.op("AssociatorNames", src, AssocClass=assoc_class, ResultClass=result_class)
            see_sampled(j, out)
            if not out.ok:
                j.failed_call(f"AssociatorNames({src}, AssocClass={assoc_class}"
                              + (f", ResultClass={result_class}" if result_class else "") + ")",
                              out)
                continue
            for path in out.value:
                path = with_namespace(path, ns)
                if result_class is None and not obs.is_a_anywhere(path.classname, far_class,
                                                                  [path.namespace]):
                    continue
                nxt[path_key(path)] = path
        current = nxt
    return current


def scoping_route(obs, j, profile, d):
    """(central instances found by the scoping class methodology {key: path},
    the scoping profiles' labels, scoping instances walked from, notes)."""
    found, labels, starts, notes = {}, [], 0, {}
    for spath, link in obs.scoping_profiles(profile):
        sprof = obs.profile_by_key(path_key(spath))
        if sprof is None:
            j.fail(f"its scoping profile {spath} (by {link.classname}) is not a registered "
                   "profile")
            continue
        labels.append(sprof.label)
        sfwd = obs.central_forward(sprof.path)
        j.see(sfwd)
        if not sfwd.ok:
            j.failed_call(_forward_text(obs, sprof), sfwd)
            continue
        if not sfwd.value:
            j.fail(f"its scoping profile {sprof.label} reaches no central instance through "
                   f"{ECTP}: the scoping class methodology has no scoping instance to go "
                   "down from", sfwd)
            continue
        for inst in _elements(obs, sfwd)[:SAMPLE]:
            starts += 1
            found.update(walk_down(obs, j, inst, d.down_hops, notes))
    return found, labels, starts, list(notes)


@check("CI-3")
def scoping_class_methodology(obs, profile):
    kind = obs.profile_type(profile)
    if kind != COMPONENT:
        return not_applicable(kind_text(profile, kind)
                              + ": the scoping class methodology is a component profile's")
    d, na = _known(obs, profile)
    if na:
        return na
    if d.down_hops is None:
        missing = "scoping path" if d.scoping_class else "scoping class and scoping path"
        return not_applicable(f"the knowledge base ({d.origin}) gives no {missing} for "
                              f"{d.label}")
    if not obs.scoping_profiles(profile):
        return not_applicable(f"no registered profile scopes {profile.label} through "
                              "CIM_ReferencedProfile, so there is no way down to check "
                              "(RP-13 judges that)")
    j = Judge().see(obs.referenced_profiles)
    found, labels, starts, notes = scoping_route(obs, j, profile, d)
    own = obs.central_forward(profile.path)
    j.see(own)
    path = " -> ".join([d.scoping_class] + [f"{a} -> {c}" for a, c in d.down_hops])
    mine = {path_key(e): e for e in _elements(obs, own) if _is_central(obs, d, e)}
    for key in sorted(mine.keys() - found.keys()):
        j.fail(f"{mine[key]}, a central instance {ECTP} links to {profile.label}, is not "
               f"reached from the central instances of {', '.join(labels)} along the scoping "
               f"path {path}", own)
    j.examined("central instances reached", len(found))
    j.examined(f"central instances {ECTP} links to the profile", len(mine))
    return j.verdict(f"from {starts} central instance(s) of {', '.join(labels)}, the scoping "
                     f"path {path} reaches {len(found)} {d.central_class}"
                     + (f", among them the {len(mine)} {ECTP} links to the profile"
                        if mine else "") + ("; " + "; ".join(notes) if notes else ""),
                     nothing=f"from {starts} central instance(s) of {', '.join(labels)}, the "
                     f"scoping path {path} reaches no {d.central_class}, and {ECTP} links "
                     f"none to {profile.label}: no central instance to find either way"
                     + ("; " + "; ".join(notes) if notes else ""))


# -- GetCentralInstances (CI-4) ------------------------------------------------------

METHOD = "GetCentralInstances"
#: what a server that does not implement the method answers: DSP1033 1.1's
#: CIM_ERR_NOT_SUPPORTED, and DSP0200's "the server cannot invoke the method"
NOT_IMPLEMENTED = (CIM_ERR_NOT_SUPPORTED, CIM_ERR_METHOD_NOT_AVAILABLE)


@check("CI-4")
def get_central_instances_method(obs, profile):
    decl = obs.op("GetClass", profile.path.classname, namespace=obs.interop_ns,
                  LocalOnly=False, IncludeQualifiers=True)
    methods = {m.lower() for m in decl.value.methods} if decl.ok else set()
    if METHOD.lower() not in methods:
        return Verdict("not-applicable", f"{profile.path.classname} declares no {METHOD} "
                       "method (DSP1033 1.1 added it to CIM_RegisteredProfile; the server's "
                       "schema has not)", [decl.call])
    call = f"InvokeMethod({METHOD}, {profile.path})"
    # a read (DSP1033 1.1): invoked on every target, writes allowed or not
    out = obs.op("InvokeMethod", METHOD, profile.path)
    j = Judge().see(decl, out)
    if not out.ok:
        if out.undetermined:  # not implemented, or a failure: the status would tell
            return Verdict("not-applicable", capability_reason(
                EXACT_FAULT_CODES, "a server that does not implement the method answers "
                "CIM_ERR_NOT_SUPPORTED, and a fault without a CIM status cannot be told from it")
                + f" ({call}: {out.error.status_description})", [out.call])
        if out.status in NOT_IMPLEMENTED:
            return Verdict("not-applicable", f"{call} answers {out.error_name}: the {METHOD} "
                           "methodology is not implemented (DSP1033 1.1 makes it optional)",
                           [out.call])
        hint = (f" although {profile.path.classname} declares the method"
                if out.status == CIM_ERR_METHOD_NOT_FOUND else "")
        j.fail(f"{call} fails with {out.error_name}{hint}: {out.error.status_description}; "
               "a server that does not implement the method answers CIM_ERR_NOT_SUPPORTED",
               out)
        return j.verdict("")
    ret, params = out.value
    if ret != 0:
        j.fail(f"{call} returns {ret}, not 0 (Completed with no error)", out)
        return j.verdict("")
    params = {k.lower(): v for k, v in (params or {}).items()}
    got = params.get("centralinstances") or []
    paths = {}
    for value in got:
        if not isinstance(value, CIMInstanceName):
            j.fail(f"{call}: CentralInstances holds {value!r}, not a reference", out)
            continue
        path = with_namespace(value, obs.interop_ns)
        paths[path_key(path)] = path
    expected, how = _expected_central(obs, profile)
    if expected is None:
        return j.verdict(f"{call} returns {len(paths)} central instance(s) (no other "
                         "methodology to compare with)")
    for key in sorted(expected.keys() - paths.keys()):
        j.fail(f"{call} misses {expected[key]}, which {how} finds", out)
    for key in sorted(paths.keys() - expected.keys()):
        j.fail(f"{call} returns {paths[key]}, which {how} does not find", out)
    return j.verdict(f"{call} returns the {len(paths)} central instance(s) {how} finds")


def _expected_central(obs, profile):
    """({key: path}, how) the other methodologies give, or (None, None)."""
    fwd = obs.central_forward(profile.path)
    if fwd.ok and fwd.value:
        return ({path_key(p): p for p in _elements(obs, fwd)},
                f"the central class methodology ({ECTP})")
    d = obs.definition(profile)
    if d is not None and d.central_class and d.down_hops is not None \
            and obs.profile_type(profile) == COMPONENT and obs.scoping_profiles(profile):
        quiet = Judge()
        found, _, _, _ = scoping_route(obs, quiet, profile, d)
        if not quiet.problems:
            return found, "the scoping class methodology"
    if fwd.ok and obs.profile_type(profile) != COMPONENT:
        return {}, f"the central class methodology ({ECTP}, reaching nothing)"
    return None, None
