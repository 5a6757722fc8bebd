"""Root causes (issue 22): failures one mistake explains are grouped under it
-- in the JSON (``causes``), the gate line, the terminal and the HTML --
and still counted; ``wbemconform check`` shows the run in requirement terms
(at most a screenful, discovery's phases, an operation counter) and never the
embedded mock's made-up ``//FakedUrl:5988/`` host."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import zoo
from wbemconform.catalog import _load
from wbemconform.causes import find_causes
from wbemconform.gate import decide
from wbemconform.mock import connect
from wbemconform.results import Results
from wbemconform.runner import run_session
from wbemconform.server import serve

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "tests" / "defects"
MAX_LINES = 40

# the two broken MOFs: the provider registered in root/interop only
# (PR-4 explains the rest), and one MSFT_TargetNamespace left out (EC-3)
ACCEPTANCE = {"provider-one-namespace": "PR-4", "target-ns-missing-implementation": "EC-3",
              "target-ns-missing-interop": "EC-3"}


def check(tmp_path, *args, timeout=180):
    """``wbemconform check`` as a user runs it: (exit status, stdout lines, JSON, HTML)."""
    out = subprocess.run([sys.executable, "-m", "wbemconform.cli", "check", *map(str, args)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=timeout)
    text = out.stdout + out.stderr
    doc_path, html_path = tmp_path / "reports" / "conformance.json", \
        tmp_path / "reports" / "conformance.html"
    doc = json.loads(doc_path.read_text()) if doc_path.exists() else None
    html = html_path.read_text() if html_path.exists() else ""
    return out.returncode, text.splitlines(), doc, html


@pytest.mark.parametrize("entry", sorted(ACCEPTANCE))
def test_one_mistake_is_one_cause_line_and_a_screenful(tmp_path, entry):
    status, lines, doc, html = check(
        tmp_path, "--wbem-mock-mof", ZOO / entry / "defect.mof",
        "--wbem-mock-include-root", ZOO / "_common")
    text = "\n".join(lines)
    assert status == 1, text
    assert len(lines) <= MAX_LINES, text
    causes = [line for line in lines if line.startswith("cause: ")]
    assert len(causes) == 1 and causes[0].startswith(f"cause: {ACCEPTANCE[entry]} "), text
    # the failing requirements are those the zoo's manifest names: none dropped
    manifest = tomllib.loads((ZOO / entry / "manifest.toml").read_text())
    failed = {rid for rid, req in doc["requirements"].items() if req["verdict"] == "fail"}
    assert failed == set(manifest["fails"])
    gating = {r["requirement"] for r in doc["gate"]["failures"]}
    assert gating == {rid for rid in failed if doc["requirements"][rid]["level"] == "MUST"}
    # the JSON names the cause and what it explains; the gate line leads with it
    [cause] = doc["causes"]
    assert cause["requirement"] == ACCEPTANCE[entry]
    explained = {e["requirement"] for e in cause["explains"]}
    assert explained and explained <= failed - {cause["requirement"]}
    gate = next(line for line in lines if line.startswith("conformance gate: FAILED"))
    assert gate.startswith(f"conformance gate: FAILED: MUST requirement(s) failed: "
                           f"{ACCEPTANCE[entry]} (the cause of "), gate
    # each explained failure is shown under the cause, indented
    at = lines.index(causes[0])
    under = [line.split()[0] for line in lines[at + 2:at + 2 + len(cause["explains"])]]
    assert sorted(under) == sorted(e["requirement"] for e in cause["explains"]), text
    # the HTML leads with the cause: its section comes before the failure lists
    assert 0 < html.index('id="causes"') < html.index('id="failures"')
    # requirement terms, not pytest's: no node ids, no header, no FakedUrl
    for noise in ("FakedUrl", "rootdir:", "configfile:", "site-packages", "::test_",
                  "plugin.py:", "FAILURES"):
        assert noise not in text, noise
    assert "FakedUrl" not in json.dumps(doc) and "FakedUrl" not in html
    assert any(line.startswith("discovering: registered profiles ... 1 found")
               for line in lines), text


def test_not_applicable_reasons_are_shown_beside_their_requirement(tmp_path):
    status, lines, doc, _ = check(tmp_path, "--wbem-mock-mof",
                                  ZOO / "provider-one-namespace" / "defect.mof",
                                  "--wbem-mock-include-root", ZOO / "_common")
    na = [line for line in lines if line.startswith("n/a ")]
    assert any(re.match(r"n/a (RP-\d+, )*RP-9(, RP-\d+)*: no CIM_ReferencedProfile", line)
               for line in na), na


def test_a_failure_without_a_failed_cause_is_no_catalog_group():
    """roles-swapped fails TR-1, TR-2, TR-3 and RC-2 on their own: no requirement
    whose catalog entry explains them failed, so there is no catalog cause. What
    groups three of them is the one observation they share: from the profile
    (now a ManagedElement), AssociatorNames answers nothing (TR-1, TR-3,
    RC-2); TR-2's finding names no silent object, so it stands alone."""
    session = run_session(zoo.options("roles-swapped"))
    failed = {rid for rid, recs in session.results.records.items()
              if any(r.verdict == "fail" for r in recs.values())}
    assert {"TR-1", "TR-2", "RC-2"} <= failed
    causes = find_causes(session.results)
    assert [type(c).__name__ for c in causes] == ["Finding"]
    assert causes[0].requirement == "TR-1"
    assert {rid for rid, _, _ in causes[0].explains} == {"TR-3", "RC-2"}
    assert causes[0].sources == ['root/interop:ZooProcessProfile.InstanceID="Zoo:Process"']
    doc = session.document()
    assert [c.get("kind") for c in doc["causes"]] == ["shared-finding"]


def test_failures_that_share_no_silent_object_are_not_grouped():
    silent = {"operation": "AssociatorNames", "arguments": {"arg0": "ns:A.k=1"},
              "outcome": "ok", "result": "0 object(s): []"}
    other = {**silent, "arguments": {"arg0": "ns:B.k=2"}}
    results = _results([
        ("TR-2", "s", "fail", ["from ns:A.k=1: does not reach its profile"], [silent]),
        ("RC-2", "s", "fail", ["AssociatorNames(ns:B.k=2, ResultClass=X) misses P"], [other]),
        # the same silent object, but not named by the finding: no evidence of a share
        ("TR-3", "s", "fail", ["seen from one side only: P -> E"], [silent]),
    ])
    assert find_causes(results) == []
    results = _results([
        ("TR-2", "s", "fail", ["from ns:A.k=1: does not reach its profile"], [silent]),
        ("RC-2", "t", "fail", ["AssociatorNames(ns:A.k=1, ResultClass=X) misses P"], [silent]),
    ])
    (finding,) = find_causes(results)
    assert (finding.requirement, [r for r, _, _ in finding.explains]) == ("TR-2", ["RC-2"])


def _failed(operation, arg0, status, namespace=None):
    args = {"arg0": arg0, **({"namespace": namespace} if namespace else {})}
    return {"operation": operation, "arguments": args, "outcome": "cim-error",
            "result": f"{status}: the provider says no"}


def test_failures_from_one_failed_call_are_one_shared_error():
    """Failures no catalog cause explains, whose findings name the class of
    one failed call (operation, class, namespace, CIM status), are grouped;
    a call the findings do not name, or another status, is not a share."""
    get = _failed("GetInstance", 'root/a:X_Link.A="1",B="2"', "CIM_ERR_FAILED")
    get2 = _failed("GetInstance", 'root/a:X_Link.A="3",B="4"', "CIM_ERR_FAILED")
    results = _results([
        ("ER-1", "target", "fail", ['GetInstance(root/a:X_Link.A="1",B="2") failed'], [get]),
        ("PR-2", "P -> root/a:X_Link", "fail", ["GetInstance of 2 X_Link paths failed"],
         [get2, _failed("EnumerateInstances", "Y_Other", "CIM_ERR_NOT_FOUND", "root/b")]),
    ])
    (shared,) = find_causes(results)
    assert type(shared).__name__ == "SharedError"
    assert (shared.requirement, shared.explained_ids()) == ("PR-2", ["ER-1"])
    assert shared.summary == "X_Link answers CIM_ERR_FAILED to GetInstance in root/a"
    assert shared.as_dict()["kind"] == "shared-error"
    # the shared call is not named by one of the findings: no evidence of a share
    assert find_causes(_results([
        ("ER-1", "target", "fail", ["a nonexistent instance was returned"], [get]),
        ("PR-2", "s", "fail", ["GetInstance of 2 X_Link paths failed"], [get2])])) == []
    # another CIM status, another namespace: other calls
    other = _failed("GetInstance", 'root/a:X_Link.A="1",B="2"', "CIM_ERR_NOT_FOUND")
    far = _failed("GetInstance", 'root/b:X_Link.A="1",B="2"', "CIM_ERR_FAILED")
    for call in (other, far):
        assert find_causes(_results([
            ("ER-1", "target", "fail", ["GetInstance of X_Link failed"], [call]),
            ("PR-2", "s", "fail", ["GetInstance of 2 X_Link paths failed"], [get2])])) == []


def test_a_failed_traversal_is_its_association_class_s_call():
    """OMI: AssociatorNames from the Fan profile with ResultClass fails with
    CIM_ERR_NOT_SUPPORTED in RC-3 and RC-4, whose findings name the
    operation and the status (and the profile by its label): one shared
    error of the association class whose provider answers."""
    traversal = {"operation": "AssociatorNames",
                 "arguments": {"arg0": 'interop:X_Profile.InstanceID="P"',
                               "AssocClass": "X_Link", "ResultClass": "CIM_RegisteredProfile"},
                 "outcome": "cim-error", "result": "CIM_ERR_NOT_SUPPORTED: no"}
    results = _results([
        ("RC-3", "P -> root/a:X_Link", "fail",
         ["AssociatorNames(P, ResultClass=CIM_RegisteredProfile) fails with "
          "CIM_ERR_NOT_SUPPORTED: no"], [traversal]),
        ("RC-4", "P -> root/a:X_Link [property-based]", "fail",
         ["AssociatorNames(P, ...) failed: CIM_ERR_NOT_SUPPORTED: no"], [traversal]),
    ])
    (shared,) = find_causes(results)
    assert (shared.requirement, shared.explained_ids()) == ("RC-3", ["RC-4"])
    assert shared.summary == "X_Link answers CIM_ERR_NOT_SUPPORTED to AssociatorNames in interop"
    # a finding that names neither the class nor the operation with its status: no share
    assert find_causes(_results([
        ("RC-3", "s", "fail", ["AssociatorNames(P) fails with CIM_ERR_NOT_SUPPORTED"],
         [traversal]),
        ("RC-4", "s", "fail", ["the filter was ignored"], [traversal])])) == []


def test_a_failure_sharing_a_failed_call_with_a_cause_joins_it():
    """supportsget-false: PR-4 (SupportsGet is FALSE) explains PR-2 by the
    catalog; ER-1's GetInstance of a nonexistent link fails with the same
    CIM_ERR_NOT_SUPPORTED from the same provider, so it goes under PR-4 too."""
    session = run_session(zoo.options("supportsget-false"))
    (cause,) = find_causes(session.results)
    assert (cause.requirement, cause.explained_ids()) == ("PR-4", ["PR-2", "ER-1"])


def _results(records):
    results = Results()
    for rid, subject, verdict, problems, evidence in records:
        results.add(rid, subject, verdict, problems[0] if problems else "", problems,
                    [], test=None)
        results.records[rid][subject].evidence = evidence
    return results


def _cim_error(ns):
    return {"operation": "EnumerateInstances", "arguments": {"arg0": "X", "namespace": ns},
            "outcome": "cim-error", "result": "CIM_ERR_FAILED: no"}


def test_the_evidence_must_agree_with_the_catalog():
    """A declared dependent is grouped only on the cause's subject and when it
    names a namespace the cause names."""
    subject, other = "P -> root/a:Assoc", "Q -> root/b:Assoc"
    cause = ("PR-4", subject, "fail", ["provider 'X' is not registered in root/a"],
             [_cim_error("root/a"), _cim_error("root/b")])
    grouped = _results([cause, ("PR-1", subject, "fail", ["enumeration in root/a failed"],
                                [_cim_error("root/a")])])
    [found] = find_causes(grouped)
    assert (found.requirement, found.explained_ids()) == ("PR-4", ["PR-1"])
    # another subject, or another namespace: not explained
    assert find_causes(_results([cause, ("PR-1", other, "fail", ["in root/a failed"],
                                         [_cim_error("root/a")])])) == []
    assert find_causes(_results([cause, ("PR-1", subject, "fail", ["in root/b failed"],
                                         [_cim_error("root/b")])])) == []
    # a requirement the catalog does not say PR-4 explains: not grouped
    assert find_causes(_results([cause, ("EC-2", subject, "fail", ["root/a naming"],
                                         [])])) == []
    # still counted: the gate lists every MUST failure, the cause first
    gate = decide(grouped, None, [])
    assert gate.reasons == ["MUST requirement(s) failed: PR-4 (the cause of PR-1), PR-1"]
    assert len(gate.failures) == 2


def test_the_catalog_refuses_an_unknown_or_circular_explains():
    entry = ('[[requirement]]\nid = "{id}"\nlevel = "MUST"\nflavor = "dmtf"\n'
             'subject = "target"\nstatement = "s"\nsource = "x"\nexplains = [{ex}]\n')
    with pytest.raises(ValueError, match="A-1: explains \\['Z-9'\\]"):
        _load(entry.format(id="A-1", ex='"Z-9"'), "cat.toml")
    with pytest.raises(ValueError, match="explains goes round"):
        _load(entry.format(id="A-1", ex='"A-2"') + entry.format(id="A-2", ex='"A-1"'),
              "cat.toml")


def test_a_slow_server_shows_phases_and_an_operation_counter(tmp_path):
    """0.1 s per operation: discovery alone takes seconds; the terminal says
    what it is doing (phase lines, then a counter with its rate), not nothing."""
    with serve(connect(), fault="delay:0.1") as server:
        status, lines, _, _ = check(tmp_path, "--wbem-url", server.url,
                                    "-k", "forward_traversal", timeout=120)
    text = "\n".join(lines)
    phases = [line for line in lines if line.startswith("discovering: ")]
    assert [p.split(" ...")[0] for p in phases if "operations" not in p][:3] == [
        "discovering: interop namespace", "discovering: registered profiles",
        "discovering: associations"], text
    assert any(re.search(r"\.\.\. \d+ operations \(\d+/s\)", line) for line in lines), text


def test_the_embedded_mock_host_is_in_no_text():
    session = run_session(zoo.options("target-ns-missing-interop"))
    text = json.dumps(session.document())
    assert "root/cimv2:Win32_Process.Handle" in text  # paths are there ...
    assert "FakedUrl" not in text  # ... without pywbem_mock's made-up host
