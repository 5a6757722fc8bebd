"""Pull operations (TR-6): each Open*Paths sequence gives what its classic
counterpart gives, one filter at a time, and a path that differs only in its
namespace is named as such."""

from __future__ import annotations

from pywbem import CIM_ERR_NOT_SUPPORTED

from ..observe import ELEMENT_ROLE, PROFILE_ROLE
from .registry import Judge, check, not_applicable
from ._common import SAMPLE, call_text, path_key


def _pull_pair(obs, j, what, pulled, classic, ns, key_of=None, unsupported=None,
               classic_name="the classic operation"):
    """Compare an Open*Paths sequence with its classic counterpart."""
    if not pulled.ok and (pulled.status == CIM_ERR_NOT_SUPPORTED or pulled.undetermined):
        unsupported.append(what)
        j.see(pulled)
        return False
    j.see(*pulled.calls)
    if not classic.ok:
        return False  # the classic operation's own requirement reports it
    if not pulled.ok:
        j.fail(f"{what} fails with {pulled.error_name}: {pulled.error.status_description}, "
               f"where the classic operation answers {len(classic.value)} object(s)", pulled,
               classic)
        return True
    key_of = key_of or (lambda p: path_key(p, ns))
    got = {key_of(p): p for p in pulled.value}
    want = {key_of(p): p for p in classic.value}
    if got.keys() != want.keys():
        extra = sorted(got.keys() - want.keys())
        missing = sorted(want.keys() - got.keys())
        extra, missing = _moved(j, what, got, want, extra, missing, classic_name,
                                (pulled, classic))
        if not extra and not missing:
            return True
        j.fail(f"{what} differs from the classic operation: {len(got)} path(s) against "
               f"{len(want)}, {len(extra)} unexpected, {len(missing)} missing"
               + (f"; e.g. unexpected {got[extra[0]]}" if extra else "")
               + (f"; e.g. missing {want[missing[0]]}" if missing else ""), pulled, classic)
    return True


def _moved(j, what, got, want, extra, missing, classic_name, evidence):
    """Name the paths that differ from the classic operation's only in their
    namespace (the same class and keys) -- "in namespace X where C says Y",
    once per pair of namespaces -- instead of an unexpected and a missing
    path one letter apart. Returns the (extra, missing) keys left to report."""
    missing_by_bare = {}
    for key in missing:
        missing_by_bare.setdefault(key[1:], key)
    left_extra, matched, moved = [], set(), {}
    for key in extra:
        twin = missing_by_bare.get(key[1:])
        if twin is None or twin in matched:
            left_extra.append(key)
            continue
        matched.add(twin)
        theirs, ours = got[key], want[twin]
        moved.setdefault((theirs.namespace, ours.namespace), []).append(theirs)
    for (there, here), paths in moved.items():
        j.fail(f"{what} returns {len(paths)} path(s) in namespace {there} where "
               f"{classic_name} says {here}: the same class and keys, another namespace "
               f"(e.g. {paths[0]})", *evidence)
    return left_extra, [k for k in missing if k not in matched]


@check("TR-6")
def pulls_agree(obs, assoc):
    """Each pull operation gives what its classic counterpart gives, one
    filter at a time (so the evidence says which filter is ignored)."""
    profiles = obs.linked_profiles(assoc)[:SAMPLE]
    elements = list(obs.element_pairs(assoc).items())[:3]
    j = Judge()
    ns = obs.interop_ns
    unsupported = []
    compared = 0
    for prof in profiles:
        base = obs.forward(assoc, prof)
        if not base.ok:
            continue
        filt = obs.filter_class(assoc, ns)
        result_class = _result_class_in(obs, ns, base.value)
        probes = [("AssocClass", {"AssocClass": filt})]
        if result_class:
            probes.append(("ResultClass", {"ResultClass": result_class}))
        probes += [("Role", {"Role": PROFILE_ROLE}), ("ResultRole", {"ResultRole": ELEMENT_ROLE})]
        reference_probes = [("ResultClass", {"ResultClass": filt}),
                            ("Role", {"Role": PROFILE_ROLE})]
        for open_op, classic_op, kinds in (
                ("OpenAssociatorInstancePaths", "AssociatorNames", probes),
                ("OpenReferenceInstancePaths", "ReferenceNames", reference_probes)):
            for name, kw in kinds:
                pulled = obs.pull(open_op, prof.path, **kw)
                classic = obs.op(classic_op, prof.path, **kw)
                compared += _pull_pair(
                    obs, j, call_text(open_op, prof.label, **kw) + f" (the {name} filter)",
                    pulled, classic, ns, unsupported=unsupported, classic_name=classic_op)
    for ek, (elem, _) in elements:
        filt = obs.filter_class(assoc, elem.namespace)
        pulled = obs.pull("OpenAssociatorInstancePaths", elem, AssocClass=filt)
        classic = obs.op("AssociatorNames", elem, AssocClass=filt)
        compared += _pull_pair(obs, j, call_text("OpenAssociatorInstancePaths", elem,
                                             AssocClass=filt) + " (the AssocClass filter)",
                               pulled, classic, ns, unsupported=unsupported,
                               classic_name="AssociatorNames")
    for side in assoc.sides:
        pulled = obs.pull("OpenEnumerateInstancePaths", assoc.classname, namespace=side)
        classic = obs.enumerate_names(assoc, side)
        compared += _pull_pair(obs, j, f"OpenEnumerateInstancePaths({assoc.classname}) in {side}",
                               pulled, classic, side, unsupported=unsupported,
                               classic_name="EnumerateInstanceNames")
    if not compared:
        if unsupported:
            return not_applicable("the server does not support pull operations "
                                  f"(CIM_ERR_NOT_SUPPORTED: {unsupported[0]})")
        return not_applicable("no classic operation answered to compare with")
    note = f"; not supported: {len(unsupported)}" if unsupported else ""
    return j.verdict(f"{compared} pull sequence(s) agree with the classic operations, filter "
                     f"by filter{note}")


def _result_class_in(obs, ns, paths):
    """A class the request namespace defines that the first far end is (its
    own class, or its nearest superclass defined there)."""
    for path in paths:
        cls = obs.nearest_class_in(ns, path.namespace or ns, path.classname)
        if cls:
            return cls
    return None


