"""Sensitivity and specificity: every zoo entry fails exactly the ids its manifest names."""

import pytest

import zoo
from wbemconform.catalog import catalog

ENTRIES = zoo.entries()


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_fails_exactly_its_requirements(name, record_property):
    expected = set(zoo.manifest(name)["fails"])
    results, _ = zoo.run(name)
    failed = zoo.failing_ids(results)
    record_property("zoo", [name, sorted(expected), sorted(failed)])  # conftest's table
    errors = {rid: s for rid in catalog() for s, r in results.records[rid].items()
              if r.verdict == "error"}
    assert not errors, f"{name}: infrastructure errors, not verdicts: {errors}"
    detail = {rid: [r.message for r in results.records[rid].values() if r.verdict == "fail"]
              for rid in failed ^ expected}
    assert failed == expected, (
        f"{name}: expected to fail {sorted(expected)}, failed {sorted(failed)}\n"
        f"reproduce: {zoo.command(name)}\n{detail}")


def test_zoo_covers_every_requirement_a_target_can_violate():
    covered = set()
    for name in ENTRIES:
        covered |= set(zoo.manifest(name)["fails"])
    missing = set(catalog()) - covered
    assert not missing, f"no zoo entry fails {sorted(missing)}"


def test_good_entries_pass_everything():
    goods = [n for n in ENTRIES if not zoo.manifest(n)["fails"]]
    assert goods, "the zoo needs correct baselines"
