"""The pytest plugin: options, collection rules, results JSON, gate, waivers."""

import json
import textwrap
from pathlib import Path

import pytest

from wbemconform.catalog import catalog

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
SUITES = REPO / "suites"
ZOO = REPO / "tests" / "defects"


def run_suites(pytester, *args):
    return pytester.runpytest_subprocess(
        str(SUITES), "-p", "no:cacheprovider", "--rootdir", str(REPO),
        "-c", str(REPO / "pyproject.toml"), *map(str, args))


def test_suites_on_the_embedded_mock_pass_and_report_every_id(pytester, tmp_path):
    out = tmp_path / "results.json"
    result = run_suites(pytester, "--conformance-json", out, "-rs")
    assert result.ret == 0, result.stdout.str()
    doc = json.loads(out.read_text())
    assert set(doc["requirements"]) == set(catalog())
    for rid, req in doc["requirements"].items():
        assert req["verdict"] in ("pass", "not-applicable"), (rid, req)
        for subject, rec in req["subjects"].items():
            if rec["verdict"] == "not-applicable":
                assert rec["message"], (rid, subject)
    assert doc["gate"]["passed"] is True
    assert doc["flavor"] == "wmi" and doc["interop_namespace"] == "root/interop"
    assert doc["operations"]["writes"] >= 1  # the mock allows PR-5's probes
    text = result.stdout.str()
    assert "conformance gate: PASSED" in text
    assert "RP-1   MUST   pass" in text
    # skips always carry a reason
    assert "SKIPPED" not in text or "not applicable:" in text


def test_test_ids_name_profile_and_association(pytester):
    result = run_suites(pytester, "--collect-only", "-q")
    text = result.stdout.str()
    assert ("test_forward_traversal[Process 1.0 -> root/cimv2:"
            "Microsoft_Process_ElementConformsToProfile_v1]") in text
    assert "test_required_properties[Software Inventory 1.0.1]" in text


def test_a_must_failure_fails_the_gate_and_a_should_failure_does_not(pytester, tmp_path):
    must = ZOO / "target-ns-missing-interop" / "defect.mof"
    should = ZOO / "bad-class-name" / "defect.mof"
    if not must.exists() or not should.exists():
        pytest.skip("defect zoo entries not present")
    result = run_suites(pytester, "--wbem-mock-mof", must)
    assert result.ret == 1
    assert "conformance gate: FAILED" in result.stdout.str()
    out = tmp_path / "should.json"
    result = run_suites(pytester, "--wbem-mock-mof", should, "--conformance-json", out, "-rs")
    assert result.ret == 0, result.stdout.str()
    doc = json.loads(out.read_text())
    assert doc["requirements"]["EC-2"]["verdict"] == "fail"
    assert doc["gate"]["passed"] is True
    # shown, but not as a failed test: a skipped one, saying what failed and why it passes
    assert "FAILED" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*SKIPPED*EC-2 [[]SHOULD[]]*the gate does not fail on it*"])


def test_waivers_turn_failures_into_xfail_and_report_expired_and_unused(pytester, tmp_path):
    mof = ZOO / "target-ns-missing-interop" / "defect.mof"
    if not mof.exists():
        pytest.skip("defect zoo entry not present")
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(textwrap.dedent("""
        [[waiver]]
        requirement = "EC-3"
        reason = "qualifier lands in release 2"
        expires = 2099-12-31

        [[waiver]]
        requirement = "RC-4"
        profile = "Process"
        reason = "same root cause as EC-3"
        expires = 2020-01-01

        [[waiver]]
        requirement = "TR-1"
        reason = "nothing fails here"
    """))
    out = tmp_path / "r.json"
    result = run_suites(pytester, "--wbem-mock-mof", mof, "--conformance-waivers", waivers,
                        "--conformance-json", out, "-rx")
    text = result.stdout.str()
    assert "waived: qualifier lands in release 2" in text
    assert "expired waiver: RC-4" in text
    assert "unused waiver (no failure matches it): TR-1" in text
    assert result.ret == 1  # RC-4's waiver expired: the failure counts
    doc = json.loads(out.read_text())
    ec3 = next(iter(doc["requirements"]["EC-3"]["subjects"].values()))
    assert ec3["waived"] is True and ec3["waiver"]["reason"] == "qualifier lands in release 2"
    assert doc["requirements"]["RC-4"]["verdict"] == "fail"
    assert {w["requirement"]: w["expired"] for w in doc["waivers"]} == \
        {"EC-3": False, "RC-4": True, "TR-1": False}


def test_yaml_waivers_and_bad_waiver_files(pytester, tmp_path):
    mof = ZOO / "bad-class-name" / "defect.mof"
    if not mof.exists():
        pytest.skip("defect zoo entry not present")
    good = tmp_path / "w.yaml"
    good.write_text("waivers:\n  - requirement: EC-2\n    reason: legacy name\n")
    result = run_suites(pytester, "--wbem-mock-mof", mof, "--conformance-waivers", good)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*xfailed*"])
    bad = tmp_path / "bad.toml"
    bad.write_text('[[waiver]]\nrequirement = "XX-9"\nreason = "?"\n')
    result = run_suites(pytester, "--conformance-waivers", bad)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{bad}:2: waiver #1: requirement 'XX-9' is not in the catalog" in result.stderr.str()


def test_junit_carries_requirement_and_subject(pytester, tmp_path):
    junit = tmp_path / "junit.xml"
    result = run_suites(pytester, "--junitxml", junit, "-k", "forward_traversal")
    assert result.ret == 2  # a partial run (-k) is aborted, and JUnit says so
    xml = junit.read_text()
    assert '<property name="wbemconform_gate" value="aborted"' in xml
    assert '<property name="requirement" value="TR-1"' in xml
    assert '<property name="level" value="MUST"' in xml
    assert 'name="subject" value="Process 1.0 -&gt; root/cimv2:' in xml


def test_a_conformance_test_without_a_known_requirement_is_a_collection_error(pytester):
    suites = pytester.mkdir("suites")
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nwbemconform_suites = ["suites"]\n')
    (suites / "test_x.py").write_text("def test_unmarked(verdict):\n    verdict.expect()\n")
    result = pytester.runpytest_subprocess("suites", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "needs exactly one @pytest.mark.requirement" in result.stderr.str()
    (suites / "test_x.py").write_text(
        "import pytest\n@pytest.mark.requirement('ZZ-1')\ndef test_x(verdict):\n"
        "    verdict.expect()\n")
    result = pytester.runpytest_subprocess("suites", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "requirement 'ZZ-1' is not in the catalog" in result.stderr.str()


def test_profile_filter_limits_the_subjects(pytester):
    result = run_suites(pytester, "--wbem-profile", "Software Inventory:1.0.1",
                        "--collect-only", "-q")
    text = result.stdout.str()
    assert "Software Inventory 1.0.1" in text
    assert "[Process 1.0" not in text


def test_broken_mof_is_one_clear_error_line(pytester, tmp_path):
    mof = tmp_path / "broken.mof"
    mof.write_text("class Broken : No_Such_Class { };\n")
    result = run_suites(pytester, "--wbem-mock-mof", mof)
    assert result.ret != 0
    text = result.stdout.str()
    assert f"wbemconform: ERROR: {mof}:1: " in text
    assert "Traceback" not in text + result.stderr.str()


@pytest.mark.parametrize("case, expected", [
    ("verbatim", set()),
    ("no-interop-qualifier", {"EC-3", "RC-4"}),
    ("duplicate-triple", {"RP-3"}),
])
def test_the_spec_mof_through_the_suites(pytester, spec_mof, tmp_path, case, expected):
    """The spec's MOF blocks, verbatim: all pass; without the interop side's
    MSFT_TargetNamespace: EC-3 and RC-4 (ResultClass across namespaces) fail,
    nothing else; with a duplicate profile triple: RP-3 only."""
    dup = ('\n#pragma namespace("\\\\\\\\.\\\\root\\\\interop")\n'
           'instance of ProcessProfile { InstanceID = "Process2"; RegisteredName = "Process";\n'
           ' RegisteredOrganization = 1; OtherRegisteredOrganization = "Microsoft";\n'
           ' RegisteredVersion = "1.0"; };\n')
    edits = {"verbatim": None,
             "no-interop-qualifier": lambda m: m.replace(
                 '[MSFT_TargetNamespace("root\\\\cimv2")]', "", 1),
             "duplicate-triple": lambda m: m + "\n"}
    path = spec_mof(edit=edits[case])
    if case == "duplicate-triple":
        path.write_text(path.read_text() + dup)
    out = tmp_path / "r.json"
    result = run_suites(pytester, "--wbem-mock-mof", path, "--conformance-json", out)
    doc = json.loads(out.read_text())
    failed = {rid for rid, r in doc["requirements"].items() if r["verdict"] in ("fail", "error")}
    assert failed == expected, result.stdout.str()
    assert result.ret == (0 if not expected else 1)
