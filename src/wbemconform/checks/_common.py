"""What several checks share: how much evidence a check keeps where it asks
one operation per element, path helpers, the text of a call, the
MSFT_TargetNamespace of a property, and what a check needs of the target
(:data:`NEEDS`, :data:`JUDGED_WITHOUT`).

The checks import these from here, not through :mod:`wbemconform.observe`
(which gives them the observations themselves).
"""

from __future__ import annotations

from ..namespaces import target_namespace_qualifier
from ..observe.operations import (CLASS_RETRIEVAL, EXACT_FAULT_CODES, PULL_OPERATIONS,
                                  has_capability)
from ..paths import ns_key, path_key, with_namespace

__all__ = ["EVIDENCE_CAP", "SAMPLE", "see_sampled", "keyed", "call_text", "missing_like",
           "target_namespace", "ns_key", "path_key", "with_namespace", "NEEDS",
           "JUDGED_WITHOUT", "lacking", "capability_reason", "has_capability",
           "CLASS_RETRIEVAL", "EXACT_FAULT_CODES", "PULL_OPERATIONS", "uncertain_sides"]

#: requirement id -> (capability, why): requirements that are not-applicable,
#: before anything is sent, on a target that lacks the capability
#: (WS-Management targets lack some of what CIM-XML offers)
NEEDS = {
    "TR-6": (PULL_OPERATIONS, "it compares the pull operations (Open*/Pull*) with the classic "
             "ones; WS-Management has one enumeration mechanism"),
    "EC-1": (CLASS_RETRIEVAL, "where a class is declared is known only from its declaration "
             "(an enumeration that fails cannot tell an undefined class from a failing provider)"),
    "EC-3": (CLASS_RETRIEVAL, "MSFT_TargetNamespace is a qualifier of the class declaration"),
    "EC-4": (CLASS_RETRIEVAL, "MSFT_TargetNamespace is a qualifier of the class declaration"),
    "PR-4": (CLASS_RETRIEVAL, "Dynamic and Provider are qualifiers of the class declaration"),
    "PR-5": (CLASS_RETRIEVAL, "only a provider-backed class (its declaration says Dynamic) "
             "must refuse writes"),
    "SC-1": (CLASS_RETRIEVAL, "it asks for the declarations of CIM_ElementConformsToProfile and "
             "CIM_RegisteredProfile in the implementation namespace"),
    "RP-10": (CLASS_RETRIEVAL, "AdvertiseTypes' ValueMap and [Required] are in the class "
              "declaration"),
    "RP-11": (CLASS_RETRIEVAL, "RegisteredOrganization's ValueMap is in the class declaration"),
    "RP-15": (CLASS_RETRIEVAL, "RegisteredOrganization's Values are in the class declaration"),
    "CI-4": (CLASS_RETRIEVAL, "GetCentralInstances is judged where the profile's class declares "
             "the method"),
    "RC-1": (CLASS_RETRIEVAL, "its filter classes are the elements' classes and superclasses, "
             "as the namespaces declare them"),
    "RC-4": (CLASS_RETRIEVAL, "its filter classes are the elements' classes and superclasses, "
             "and which of them the request namespace defines"),
}
#: requirement id -> (capability, why): judged without the capability, but
#: never failed on what needs it -- where only that could fail, the verdict
#: is not-applicable, naming the capability
JUDGED_WITHOUT = {
    "ER-1": (EXACT_FAULT_CODES, "only CIM_ERR_NOT_FOUND is right, and a fault without a CIM "
             "status cannot be told from it"),
    "ER-2": (EXACT_FAULT_CODES, "only CIM_ERR_NOT_FOUND is right, and a fault without a CIM "
             "status cannot be told from it"),
    "PR-3": (EXACT_FAULT_CODES, "a refusal is CIM_ERR_NOT_SUPPORTED, and a fault without a CIM "
             "status cannot be told from it"),
    "CI-1": (EXACT_FAULT_CODES, "pywbem's get_central_instances tells a method that is not "
             "implemented by its CIM status"),
    "CI-2": (EXACT_FAULT_CODES, "a component profile may answer CIM_ERR_NOT_SUPPORTED"),
    "PR-1": (CLASS_RETRIEVAL, "the namespaces that declare the class are judged; where its "
             "enumeration fails without a CIM status, whether it is declared there is unknown"),
}


def uncertain_sides(obs, assoc):
    """The namespaces where it is unknown whether the association's class is
    declared (no class retrieval, and its enumeration failed without a CIM
    status): a failure there may be no failure."""
    if has_capability(obs.target, CLASS_RETRIEVAL):
        return []
    out = {}
    for ns in [*obs.conformance_namespaces, *assoc.element_ns]:
        if assoc.decl(ns) is None and obs.is_uncertain(ns, assoc.classname):
            out.setdefault(ns_key(ns), ns)
    return list(out.values())


def capability_reason(capability, why):
    """The not-applicable reason for a capability the target lacks."""
    return f"the target lacks {capability}: {why}"


def lacking(obs, req_id):
    """The reason a requirement of :data:`NEEDS` is not applicable to the
    target (it lacks the capability), or None."""
    need = NEEDS.get(req_id)
    if need is None or has_capability(obs.target, need[0]):
        return None
    return capability_reason(*need)

#: the operations a check keeps as evidence where it asks one per element
#: (the findings' own operations are kept whatever the count)
EVIDENCE_CAP = 12
#: elements probed where one call per element adds nothing new
SAMPLE = 10


def see_sampled(j, *outcomes):
    """``j.see(*outcomes)`` while the judge holds fewer than EVIDENCE_CAP
    operations: a check that asks one operation per element keeps the first
    ones as a sample."""
    if len(j.evidence) < EVIDENCE_CAP:
        j.see(*outcomes)
    return j


def keyed(paths, ns):
    """{path key: path} of paths, a path without a namespace being in ``ns``."""
    return {path_key(p, ns): p for p in paths or []}


def call_text(op, source, **kw):
    """An operation as messages name it: ``Op(source, Name=value, ...)``,
    the arguments that are None left out."""
    shown = ", ".join(f"{k}={v}" for k, v in kw.items() if v is not None)
    return f"{op}({source}{', ' + shown if shown else ''})"


def missing_like(path, marker="wbemconform-no-such-instance"):
    """A path of the same class whose string keys no instance has (None when
    it has no string key to change)."""
    out = path.copy()
    changed = False
    for name, value in path.keybindings.items():
        if isinstance(value, str):
            out.keybindings[name] = marker
            changed = True
    return out if changed else None


def target_namespace(prop):
    """(raw text, parsed TargetNamespace or None) of a property's
    MSFT_TargetNamespace; (None, None) when it has none. Read by
    :func:`wbemconform.namespaces.target_namespace_qualifier`."""
    return target_namespace_qualifier(prop, keep_invalid=True) or (None, None)
