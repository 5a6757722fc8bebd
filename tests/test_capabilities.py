"""A target that lacks what WS-Management lacks gets the verdicts of a full
CIM-XML-like target, except the documented capability not-applicables.

The embedded mock is wrapped so that it has no pull operations (Open*/Pull*),
no class retrieval (GetClass), no class enumeration (EnumerateClassNames) and
no exact fault codes (every CIM error arrives without its status, as a
CIMError marked ``undetermined``), and declares so. Every defect-zoo entry is
run through it and compared, record by record, with the full run
(tests/test_defect_zoo.py's): the same subjects, the same verdict -- except
the requirements the checks document (checks/_common.py: NEEDS, which are
not-applicable naming the capability, and JUDGED_WITHOUT, which may become
not-applicable naming it; and DISCOVERY_LIMITS, two entries whose association
only class knowledge reveals) -- and no new fail anywhere. Nothing the target
lacks is ever sent.
"""

import pytest
from pywbem import CIM_ERR_NOT_SUPPORTED, CIMError, WBEMConnection

import zoo
from wbemconform.checks._common import JUDGED_WITHOUT, NEEDS
from wbemconform.observe.operations import (CLASS_ENUMERATION, CLASS_RETRIEVAL,
                                            EXACT_FAULT_CODES, NEEDED_FOR, PULL_OPERATIONS)
from wbemconform.runner import run_session
from wbemconform.targets import open_target
from wbemconform.targets.base import (CAPABILITIES, PROTOCOL_CAPABILITIES, Target,
                                     UndeterminedCIMError)

WSMAN_LACKS = (PULL_OPERATIONS, CLASS_RETRIEVAL, CLASS_ENUMERATION, EXACT_FAULT_CODES)

#: zoo entries whose association is known only from class knowledge: without
#: it, the requirements on that association are not applicable (no subject,
#: or no profile it refers to) -- never another verdict
DISCOVERY_LIMITS = {
    "roles-swapped": (CLASS_RETRIEVAL, "its instances name no registered profile as "
                      "ConformantStandard; only the class's default value of ConformantStandard "
                      "(its declaration) says which profile it is for"),
    "supportsenumeration-false": (CLASS_ENUMERATION, "its provider refuses enumeration: only "
                                  "EnumerateClassNames finds the class"),
}


class LimitedConnection(WBEMConnection):
    """A mock connection without the operations a capability gives (refused
    with CIM_ERR_NOT_SUPPORTED, should one be sent) and, without exact fault
    codes, every CIM error turned into an undetermined CIM_ERR_FAILED. A
    WBEMConnection by type (pywbem's WBEMServer, behind CI-1, checks it);
    everything is the wrapped connection's."""

    def __init__(self, conn, hidden):  # nothing of WBEMConnection.__init__ is used
        object.__setattr__(self, "_limited", (conn, frozenset(hidden)))

    def __getattribute__(self, name):
        if name in ("_limited", "__class__", "__dict__"):
            return object.__getattribute__(self, name)
        conn, hidden = object.__getattribute__(self, "_limited")
        return _limited_attribute(conn, hidden, name)


def _limited_attribute(conn, hidden, name):
    attr = getattr(conn, name)
    if not (callable(attr) and name[:1].isupper()):
        return attr
    if NEEDED_FOR.get(name) in hidden:
        def refused(*args, **kwargs):
            raise CIMError(CIM_ERR_NOT_SUPPORTED, f"{name}: no such operation here")
        return refused
    if EXACT_FAULT_CODES not in hidden:
        return attr

    def vague(*args, **kwargs):
        try:
            return attr(*args, **kwargs)
        except CIMError as exc:
            raise UndeterminedCIMError(f"a fault ({exc.status_description})") from None
    return vague


class LimitedTarget(Target):
    """The opened mock, declaring that it lacks ``hidden``."""

    def __init__(self, full, hidden):
        super().__init__(LimitedConnection(full.conn, hidden),
                         f"{full.description} without {', '.join(hidden)}",
                         capabilities=full.capabilities - set(hidden), options=full.options,
                         tls_description=full.tls_description,
                         load_failures=full.load_failures, load_warnings=full.load_warnings)


def limited_run(name, hidden=WSMAN_LACKS):
    return run_session(target=LimitedTarget(open_target(zoo.options(name)), hidden))


def documented(rid, hidden):
    """The capability a requirement's verdict may be not-applicable for, or None."""
    for table in (NEEDS, JUDGED_WITHOUT):
        if rid in table and table[rid][0] in hidden:
            return table[rid][0]
    return None


def compare(name, session, hidden):
    """What differs beyond the documented list: per subject where discovery
    found the same subjects, else per requirement (the overall verdict)."""
    full, _ = zoo.run(name)
    problems = []
    for rid, recs in full.records.items():
        mine = session.results.records[rid]
        cap = documented(rid, hidden)
        pairs = [(s, recs[s], mine[s]) for s in recs] if mine.keys() == recs.keys() else \
            [("overall", full.overall(rid), session.results.overall(rid))]
        for subject, want, got in pairs:
            want_v, got_v = getattr(want, "verdict", want), getattr(got, "verdict", got)
            message = getattr(got, "message", "")
            if got_v == want_v and (got_v != "not-applicable" or not cap or rid not in NEEDS
                                    or cap in message or message == getattr(want, "message", "")):
                continue
            if cap and got_v == "not-applicable" and (cap in message or subject == "overall"):
                continue
            if got_v == "not-applicable" and DISCOVERY_LIMITS.get(name, ("",))[0] in hidden:
                continue
            problems.append(f"{rid} [{subject}]: {want_v} -> {got_v}: {message}")
        for subject, got in mine.items():
            if got.verdict == "fail" and full.overall(rid) != "fail":
                problems.append(f"{rid} [{subject}]: a new fail: {got.message}")
    return problems


@pytest.mark.parametrize("name", zoo.entries())
def test_entry_without_wsman_capabilities_has_the_full_verdicts(name):
    session = limited_run(name)
    assert session.results.setup_error is None if hasattr(session.results, "setup_error") \
        else True
    problems = compare(name, session, WSMAN_LACKS)
    assert not problems, f"{name}: verdicts differ beyond the documented list:\n" \
        + "\n".join(problems)
    sent = sorted({c.operation for c in session.target.calls if c.operation in NEEDED_FOR})
    assert not sent, f"{name}: sent what the target lacks: {sent}"


@pytest.mark.parametrize("hidden", [(c,) for c in WSMAN_LACKS], ids=list(WSMAN_LACKS))
@pytest.mark.parametrize("name", ["good-spec-process", "good-dmtf-profile-graph",
                                  "target-ns-wrong", "cimom-pull-ignores-assocclass"])
def test_one_capability_missing(name, hidden):
    session = limited_run(name, hidden)
    problems = compare(name, session, hidden)
    assert not problems, f"{name} without {hidden}:\n" + "\n".join(problems)


def test_the_capability_names_are_the_target_layer_s():
    assert set(WSMAN_LACKS) == set(PROTOCOL_CAPABILITIES) <= set(CAPABILITIES)
    assert set(WSMAN_LACKS) <= open_target(zoo.options("good-spec-process")).capabilities


def test_the_documented_capabilities_are_known():
    for table in (NEEDS, JUDGED_WITHOUT):
        for rid, (cap, why) in table.items():
            assert cap in WSMAN_LACKS and why, rid
