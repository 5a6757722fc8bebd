"""Property-based checks: hypothesis draws what to ask from what discovery found.

Each function here is a check like the others (observations and a subject
in, a :class:`Verdict` out), registered with :func:`property_check` under the
requirement it probes. Inside, a hypothesis test runs with the session's
hypothesis settings (``--wbem-hypothesis-profile`` bounds how many
operations a real server sees); a falsifying example becomes a ``fail``
whose message names the smallest case hypothesis found.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from pywbem import CIMClass, CIMError, CIMInstance, CIMQualifier

from ..hypothesis_profiles import active
from ..hypothesis_profiles import seed as chosen_seed
from ..namespaces import parse_namespace
from ..observe import ECTP, ELEMENT_ROLE, PROFILE_ROLE, RP, Profile
from ..targets.base import ServerError
from .registry import Judge, check, not_applicable
from ._common import ns_key, path_key, see_sampled, with_namespace
from .profiles import unique_triple

__all__ = ["property_check", "VARIANT"]

VARIANT = "property-based"

#: classes of unrelated hierarchies a filter may name (those the request's
#: namespace defines are used)
UNRELATED = ("CIM_RegisteredProfile", "CIM_Namespace", "CIM_ObjectManager",
             "CIM_SoftwareIdentity", "CIM_Process", "CIM_ReferencedProfile")


def property_check(req_id):
    """Register a property-based check (the ``property-based`` variant)."""
    def register(fn):
        return check(req_id, VARIANT)(fn)
    return register


#: examples a property-based check runs when it runs inside another
#: hypothesis test (the project's own property tests run the whole engine per
#: generated target): nesting multiplies, so the inner check stays small
NESTED_EXAMPLES = 5


#: elements per share of the example budget of the filtering properties
ELEMENTS_PER_EXAMPLE_SHARE = 1000
#: the fewest examples a write-probing check runs on each subject
MIN_SHARED_EXAMPLES = 3


def _run(test, j, what, shared_by=1):
    """Run a hypothesis test; a falsifying example becomes a failure.

    ``shared_by``: the write probes (EC-4's class definitions, RP-3's added
    profiles) test the target's rules, not the subject's data, and every
    probe makes the target rebuild what it derived: their examples are a
    budget for the target, shared among its ``shared_by`` subjects (each
    still runs at least MIN_SHARED_EXAMPLES)."""
    inner = test.hypothesis.inner_test

    def abandon_on_transport_failure(*args, **kwargs):
        try:
            return inner(*args, **kwargs)
        except ServerError as exc:
            raise _Abandoned(exc) from None
    test.hypothesis.inner_test = abandon_on_transport_failure
    bound = {}
    if currently_in_test_context():
        bound = {"max_examples": NESTED_EXAMPLES}
    elif shared_by > 1:
        bound = {"max_examples": max(MIN_SHARED_EXAMPLES,
                                     active().max_examples // shared_by)}
    if chosen_seed() is not None:
        test = seed(chosen_seed())(test)
    try:
        settings(parent=active(), suppress_health_check=list(HealthCheck), database=None,
                 deadline=None, **bound)(test)()
    except AssertionError as exc:
        j.fail(f"{what}: {exc}")
    except _Abandoned as stop:
        raise stop.error from None
    return j


class _Abandoned(BaseException):
    """A transport failure (or the spent run budget) inside an example: not a
    falsifying example to shrink and replay -- every later operation fails the
    same way -- but the end of the check, as an error."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def _class_pool(obs, elements, local):
    """Classes to filter with, from the request (interop) namespace's point of
    view: the elements' classes and superclasses -- for local elements (RC-1)
    those the interop namespace defines; across namespaces (RC-4) also those
    defined only where the elements live -- and unrelated classes the interop
    namespace defines."""
    ns = obs.interop_ns
    pool = set()
    for path in elements:
        for cls in obs.class_chain(path.namespace or ns, path.classname):
            if obs.has_class(ns, cls) or not local:
                pool.add(cls)
    pool.update(c for c in UNRELATED if obs.has_class(ns, c))
    return sorted(pool, key=str.lower)


def _filters_equal_client_side(obs, assoc, local):
    """AssociatorNames from a profile with ResultClass (and AssocClass) equals
    the unfiltered traversal filtered by us with the class hierarchy."""
    ns = obs.interop_ns
    profiles = []
    for prof in obs.linked_profiles(assoc):
        base = obs.forward(assoc, prof)
        if base.ok and any((ns_key(p.namespace or ns) == ns_key(ns)) == local
                           for p in base.value):
            profiles.append(prof)
    if not profiles:
        where = "in the interop namespace" if local else "in another namespace"
        return not_applicable(f"no profile reaches an element {where} (see TR-1)")
    elements = [p for prof in profiles for p in obs.forward(assoc, prof).value
                if (ns_key(p.namespace or ns) == ns_key(ns)) == local]
    pool = _class_pool(obs, elements, local)
    assoc_classes = sorted({obs.filter_class(assoc, ns), ECTP}, key=str.lower)
    j = Judge()

    @given(profile=st.sampled_from(profiles),
           result_class=st.one_of(st.none(), st.sampled_from(pool)),
           assoc_class=st.sampled_from(assoc_classes))
    def test(profile, result_class, assoc_class):
        # the ground truth: the association's own traversal, filtered by us; a
        # broader AssocClass (a superclass) must return at least that
        base = obs.forward(assoc, profile)
        broader = assoc_class.lower() != obs.filter_class(assoc, ns).lower()
        assert base.ok, f"AssociatorNames({profile.label}) failed: {base.error}"
        want = {}
        for far in base.value:
            if (ns_key(far.namespace or ns) == ns_key(ns)) != local:
                continue
            if result_class is None or obs.is_a(far.namespace or ns, far.classname,
                                                result_class):
                want[path_key(far, ns)] = far
        kwargs = {k: v for k, v in dict(AssocClass=assoc_class, ResultClass=result_class,
                                        Role=PROFILE_ROLE, ResultRole=ELEMENT_ROLE).items()
                  if v}
        got = obs.op("AssociatorNames", profile.path, **kwargs)
        see_sampled(j, got)
        call = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        assert got.ok, (f"AssociatorNames({profile.label}, {call}) failed: "
                        f"{got.error_name}: {got.error.status_description}")
        have = {path_key(p, ns): p for p in got.value
                if (ns_key(p.namespace or ns) == ns_key(ns)) == local}
        missing = sorted(str(want[k]) for k in want.keys() - have.keys())
        extra = [] if broader else sorted(str(have[k]) for k in have.keys() - want.keys())
        assert not missing and not extra, (
            f"AssociatorNames({profile.label}, {call}) differs from client-side filtering: "
            f"missing {missing[:3]}, unexpected {extra[:3]}")

    # every (profile, class) pair is tried explicitly; hypothesis explores the rest
    for prof in profiles:
        for cls in pool:
            test = example(profile=prof, result_class=cls,
                           assoc_class=obs.filter_class(assoc, ns))(test)
    # each example asks for, and filters, every element: with thousands of
    # elements fewer examples cover as much (the explicit ones always run)
    _run(test, j, "ResultClass/AssocClass filtering" + ("" if local else " across namespaces"),
         shared_by=max(1, len(elements) // ELEMENTS_PER_EXAMPLE_SHARE))
    return j.verdict(f"server-side filters equal client-side filtering over "
                     f"{len(profiles)} profile(s) and {len(pool)} classes")


@property_check("RC-1")
def filters_equal_client_side_filtering(obs, assoc):
    """RC-1, generated: filters on links within the interop namespace."""
    return _filters_equal_client_side(obs, assoc, local=True)


@property_check("RC-4")
def filters_across_namespaces_equal_client_side_filtering(obs, assoc):
    """RC-4, generated: filters on links into other namespaces."""
    if not assoc.links_elsewhere:
        return not_applicable(f"{assoc.classname} links no element in another namespace")
    return _filters_equal_client_side(obs, assoc, local=False)


def _local_forms(draw_name):
    return st.one_of(
        draw_name.map(lambda n: n.replace("/", "\\")),
        draw_name,
        draw_name.map(lambda n: "\\\\.\\" + n.replace("/", "\\")),
        draw_name.map(lambda n: "//./" + n))


_NAMES = st.lists(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
                  min_size=1, max_size=3).map("/".join)
_HOSTS = st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,12}", fullmatch=True),
                   st.ip_addresses(v=4).map(str), st.just("localhost"))
_REMOTE = st.builds(lambda h, n, form: form(h, n), _HOSTS, _NAMES, st.sampled_from([
    lambda h, n: f"\\\\{h}\\" + n.replace("/", "\\"),
    lambda h, n: f"//{h}/{n}",
]))


@property_check("EC-4")
def remote_target_namespaces_rejected(obs, assoc):
    """On a target that accepts class definitions (the mock): a class whose
    MSFT_TargetNamespace names a remote machine is rejected, a local one is not."""
    if not obs.target.can("class-definitions"):
        return not_applicable("the target does not accept class definitions from us "
                              "(only the embedded mock does)")
    decl = assoc.decl(obs.interop_ns) or next(iter(assoc.decls.values()))
    me = decl.properties.get("ManagedElement")
    if me is None:
        return not_applicable(f"{assoc.classname} has no ManagedElement reference")
    j = Judge()
    counter = [0]

    @given(text=st.one_of(_local_forms(_NAMES), _REMOTE))
    def test(text):
        counter[0] += 1
        local = parse_namespace(text).is_local
        probe = CIMClass(f"{assoc.classname}_NsProbe{counter[0]}", superclass=ECTP)
        prop = me.copy()
        prop.propagated = False
        prop.class_origin = None
        prop.qualifiers = {"MSFT_TargetNamespace": CIMQualifier("MSFT_TargetNamespace", text)}
        probe.properties["ManagedElement"] = prop
        try:
            obs.target.call("CreateClass", probe, namespace=obs.interop_ns)
            accepted = True
        except CIMError:
            accepted = False
        if accepted:
            obs.target.call("DeleteClass", probe.classname, namespace=obs.interop_ns)
        assert accepted == local, (
            f"MSFT_TargetNamespace({text!r}) is {'local' if local else 'remote'} but the "
            f"class was {'accepted' if accepted else 'rejected'}")

    _run(test, j, "remote MSFT_TargetNamespace", shared_by=len(obs.associations))
    return j.verdict(f"{counter[0]} generated namespaces: remote ones rejected, local accepted")


@property_check("RP-3")
def duplicates_flagged(obs, profile):
    """On a target we may write to (the mock): adding a profile that repeats an
    existing triple makes RP-3 flag exactly the duplicates."""
    if not obs.target.can("scratch-instances"):
        return not_applicable("adding profiles needs a throwaway target (the embedded mock)")
    base = profile.instance
    if base.get("RegisteredVersion") is None:
        return not_applicable("the profile has no RegisteredVersion to repeat or vary "
                              "(see RP-2)")
    j = Judge()
    counter = [0]
    # a provider-backed profile class takes no new instances from us: where
    # the class is (or may be) one, the probes are static CIM_RegisteredProfile
    # instances (RP-3 compares the triples of every profile, whatever its class)
    decl = obs.get_class(obs.interop_ns, profile.path.classname)
    static = decl is not None and not (decl.qualifiers.get("Dynamic") is not None and
                                       decl.qualifiers["Dynamic"].value)
    probe_class = profile.path.classname if static else RP

    @given(duplicate=st.booleans(),
           version=st.from_regex(r"[0-9]\.[0-9]{1,2}\.[0-9]", fullmatch=True))
    def test(duplicate, version):
        counter[0] += 1
        new = CIMInstance(probe_class)
        for name in ("RegisteredName", "RegisteredOrganization", "OtherRegisteredOrganization"):
            if name in base:
                new.properties[name] = base.properties[name].copy()
        new["InstanceID"] = f"wbemconform:probe:{counter[0]}"
        new["RegisteredVersion"] = base.get("RegisteredVersion") if duplicate \
            else f"{base.get('RegisteredVersion')}-{version}"
        path = obs.target.call("CreateInstance", new, namespace=obs.interop_ns)
        if not path.namespace:
            path = with_namespace(path, obs.interop_ns)
        try:
            # RP-3 judges the added profile (as the target returns it) against
            # the listing discovery made -- the target's listing but for it --
            # not a fresh listing per example: that would make the examples of
            # N profiles cost N x N instances
            probe = Profile(path, obs.target.call("GetInstance", path))
            flagged = unique_triple(obs, probe).status == "fail"
            assert flagged == duplicate, (
                f"a profile {'repeating' if duplicate else 'not repeating'} the triple of "
                f"{profile.label} was {'flagged' if flagged else 'not flagged'} by RP-3")
        finally:
            obs.target.call("DeleteInstance", path)

    _run(test, j, "RP-3 on generated profiles", shared_by=len(obs.profiles))
    return j.verdict(f"{counter[0]} generated profiles: RP-3 flags exactly the duplicates")

