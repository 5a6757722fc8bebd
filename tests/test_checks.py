"""Every check, with a passing and a failing observation.

The passing observation is a correct target (a zoo baseline where the check
passes, not merely not-applicable); the failing one is a zoo entry whose
manifest says it violates the requirement.
"""

import pytest

import zoo
from wbemconform.catalog import catalog
from wbemconform.checks import CHECKS

IDS = list(catalog())


def test_every_requirement_has_a_check_and_back():
    assert set(CHECKS) == set(catalog())


def _verdicts(name, rid):
    results, _ = zoo.run(name)
    return {s: r for s, r in results.records[rid].items()}


#: requirements whose passing baseline may be out of reach of a clone: their
#: positive control is the named unit test (as well)
POSITIVE_CONTROLS_ELSEWHERE = {
    # the zoo's CI-4 baseline (good-dmtf-schema-include: the mock implements
    # GetCentralInstances, which DMTF's CIM_RegisteredProfile declares) needs
    # DMTF's schema zip, which only CI has beside the clone
    "CI-4": ("test_profile_methodology", "test_get_central_instances_implemented_passes"),
}


@pytest.mark.parametrize("rid", IDS)
def test_check_passes_on_a_correct_target(rid):
    if rid in POSITIVE_CONTROLS_ELSEWHERE:
        module, test = POSITIVE_CONTROLS_ELSEWHERE[rid]
        assert callable(getattr(__import__(module), test, None)), \
            f"{rid}: its positive control {module}.{test} is missing"
        return
    goods = [n for n in zoo.entries() if zoo.is_baseline(n)
             and rid not in zoo.manifest(n).get("mock_limits", [])]
    seen = {}
    for name in goods:
        verdicts = _verdicts(name, rid)
        seen[name] = sorted({r.verdict for r in verdicts.values()})
        if verdicts and all(r.verdict in ("pass", "not-applicable") for r in verdicts.values()) \
                and any(r.verdict == "pass" for r in verdicts.values()):
            return
    pytest.fail(f"no correct zoo baseline passes {rid}: {seen}")


@pytest.mark.parametrize("rid", IDS)
def test_check_fails_on_a_defect(rid):
    bad = [n for n in zoo.entries() if rid in zoo.manifest(n)["fails"]]
    assert bad, f"no zoo entry violates {rid}"
    for name in bad:
        verdicts = _verdicts(name, rid)
        failing = [(s, r) for s, r in verdicts.items() if r.verdict == "fail"]
        assert failing, f"{name}: {rid} did not fail: {verdicts}"
        for subject, record in failing:
            assert record.message, f"{name}: {rid} fails without a message"
            assert record.problems or record.message
