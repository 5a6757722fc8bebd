"""The gate never lies: runs that stop early say ABORTED, checks that could
not run are errors nobody can waive, and every way in goes through one engine.

Each test reproduces a misbehaviour observed before the run engine existed
(exit 0 or "CONFORMANT" for a run that checked nothing or crashed).
"""

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from wbemconform.mock import connect
from wbemconform.server import serve

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "tests" / "defects"


def run_suites(pytester, *args, timeout=300):
    return pytester.runpytest_subprocess(
        str(REPO / "suites"), "-p", "no:cacheprovider", "--rootdir", str(REPO),
        "-c", str(REPO / "pyproject.toml"), *map(str, args), timeout=timeout)


def outputs(tmp_path):
    return ["--conformance-json", tmp_path / "r.json", "--conformance-report",
            tmp_path / "r.html", "--junitxml", tmp_path / "j.xml"]


def assert_aborted(result, tmp_path, reason):
    """Exit status non-zero; JSON, HTML and terminal say ABORTED and why."""
    assert result.ret != 0
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["gate"]["passed"] is False and doc["gate"]["status"] == "aborted"
    assert any(reason in r for r in doc["gate"]["reasons"]), doc["gate"]["reasons"]
    html = (tmp_path / "r.html").read_text()
    assert "ABORTED: no conformance verdict" in html and 'data-gate="aborted"' in html
    assert "CONFORMANT (MUST" not in html
    out = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in out
    assert "conformance gate: PASSED" not in out
    return doc, out


@pytest.mark.parametrize("option, value, reason", [
    ("--wbem-url", "http://127.0.0.1:abc", "--wbem-url 'http://127.0.0.1:abc'"),
    ("--wbem-timeout", "0", "--wbem-timeout '0': expected a number of seconds > 0"),
    ("--wbem-timeout", "nan", "--wbem-timeout 'nan': expected a number of seconds > 0"),
    ("--wbem-timeout", "-3", "--wbem-timeout '-3': expected a number of seconds > 0"),
    ("--wbem-run-timeout", "inf", "--wbem-run-timeout 'inf': expected a number of seconds > 0"),
])
def test_a_bad_option_is_one_error_line_and_an_aborted_run(pytester, tmp_path, option, value,
                                                          reason):
    result = run_suites(pytester, option, value, *outputs(tmp_path))
    doc, out = assert_aborted(result, tmp_path, reason)
    error_lines = [line for line in out.splitlines() if line.startswith("ERROR:")]
    assert len(error_lines) == 1 and reason in error_lines[0]


def test_no_test_selected_is_aborted(pytester, tmp_path):
    result = run_suites(pytester, "-k", "no_test_is_called_this", *outputs(tmp_path))
    _, out = assert_aborted(result, tmp_path, "no conformance test was selected")
    assert "conformance gate: ABORTED" in out


def test_a_profile_filter_matching_nothing_is_aborted(pytester, tmp_path):
    result = run_suites(pytester, "--wbem-profile", "DoesNotExist", *outputs(tmp_path))
    _, out = assert_aborted(result, tmp_path, "--wbem-profile 'DoesNotExist': matches no "
                                              "registered profile")
    assert "registered: Process:1.0, Software Inventory:1.0.1" in out


def test_a_mof_include_chain_too_deep_is_aborted_not_a_traceback(pytester, tmp_path):
    for i in range(120):
        (tmp_path / f"m{i}.mof").write_text(f'#pragma include("m{i + 1}.mof")\n')
    (tmp_path / "m120.mof").write_text("// the end\n")
    result = run_suites(pytester, "--wbem-mock-mof", tmp_path / "m0.mof", *outputs(tmp_path))
    doc, out = assert_aborted(result, tmp_path, "the target could not be used")
    assert "RecursionError" not in out
    assert "wbemconform: ERROR: " in out


def test_an_unreachable_target_is_aborted(pytester, tmp_path):
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run_suites(pytester, "--wbem-url", f"http://127.0.0.1:{port}", *outputs(tmp_path))
    assert_aborted(result, tmp_path, "the target could not be used")


class _Slow:
    """The mock, answering nothing for 20 s once asked (a server that hangs)."""

    def __init__(self, conn):
        self._conn = conn
        self.asked = threading.Event()

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def _mock_imethodcall(self, method, namespace, **params):
        self.asked.set()
        time.sleep(20)
        return self._conn._mock_imethodcall(method, namespace, **params)


def test_ctrl_c_during_discovery_writes_an_aborted_result(tmp_path):
    """SIGINT while the first operation waits on a slow server."""
    slow = _Slow(connect())
    with serve(slow) as server:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", str(REPO / "suites"), "-q", "-p",
             "no:cacheprovider", "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
             "--wbem-url", server.url, *map(str, outputs(tmp_path))],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
        assert slow.asked.wait(60), "the suites never reached the server"
        time.sleep(0.5)  # discovery waits for the server's first answer
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0, out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["gate"]["status"] == "aborted"
    assert any("interrupted" in r for r in doc["gate"]["reasons"]), doc["gate"]
    assert "ABORTED" in (tmp_path / "r.html").read_text()


class _Answers:
    """A mock connection whose answers to some operations are replaced (a
    server we did not write): ``replace[(method, source class)] = callable``."""

    def __init__(self, conn, replace):
        self._conn = conn
        self._replace = replace

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def _mock_imethodcall(self, method, namespace, **params):
        source = params.get("ObjectName") or params.get("InstanceName")
        hook = self._replace.get((method, getattr(source, "classname", None)))
        if hook is not None:
            return hook(self._conn, method, namespace, **params)
        return self._conn._mock_imethodcall(method, namespace, **params)


def _unreadable_pull(conn, method, namespace, **params):
    """Not at the end of the sequence, and no context to go on with: pywbem
    cannot read the answer (the server misbehaves)."""
    return [("IRETURNVALUE", {}, []), ("EndOfSequence", {}, False),
            ("EnumerationContext", {}, None)]


def test_a_crashed_check_is_an_error_that_no_waiver_hides(pytester, tmp_path):
    """A server answers one pull operation with something no client can read.
    Before, such a check crashed, showed as a skip and the run passed with
    waivers; now it is an error, in every output, and the gate fails."""
    conn = _Answers(connect(), {("OpenAssociatorInstancePaths", "ProcessProfile"):
                                _unreadable_pull})
    waivers = tmp_path / "waivers.toml"
    # a waiver for every catalog id: errors are not failures, none is waived
    from wbemconform.catalog import catalog
    waivers.write_text("".join(f'[[waiver]]\nrequirement = "{rid}"\nreason = "accepted"\n\n'
                               for rid in catalog()))
    with serve(conn) as server:
        result = run_suites(pytester, "--wbem-url", server.url, "--conformance-waivers", waivers,
                            *outputs(tmp_path))
    assert result.ret != 0
    text = result.stdout.str()
    assert "Traceback" not in text
    doc = json.loads((tmp_path / "r.json").read_text())
    errors = {(rid, s): rec for rid, req in doc["requirements"].items()
              for s, rec in req["subjects"].items() if rec["verdict"] == "error"}
    tr6 = [rec for (rid, s), rec in errors.items() if rid == "TR-6" and "Process" in s]
    assert tr6, sorted(errors)
    rec = tr6[0]
    assert "OpenAssociatorInstancePaths failed: CIMXMLParseError" in rec["message"]
    assert rec["evidence"][-1]["operation"] == "OpenAssociatorInstancePaths"
    assert doc["gate"]["status"] == "failed"
    assert any("errors cannot be waived" in r for r in doc["gate"]["reasons"])
    assert not any(rec.get("waived") for rec in errors.values())
    assert "wbemconform: ERROR: TR-6" in text
    html = (tmp_path / "r.html").read_text()
    assert "NOT CONFORMANT" in html and "could not run" in html
    cases = ET.parse(tmp_path / "j.xml").getroot().iter("testcase")
    junit = [c for c in cases if "test_pull_operations_agree" in c.get("name")
             and "Process" in c.get("name")]
    assert junit and junit[0].find("error") is not None
    props = {p.get("name"): p.get("value") for p in junit[0].iter("property")}
    assert props["verdict"] == "error"


def test_an_exception_inside_a_check_is_an_error_keeping_its_findings(monkeypatch):
    """Whatever escapes a check -- here a bug after a first finding -- is the
    verdict error, with the finding and the operations issued so far."""
    from wbemconform import checks
    from wbemconform.catalog import catalog
    from wbemconform.checks import Judge
    from wbemconform.runner import run_session

    def broken(obs, assoc):
        j = Judge()
        out = obs.forward(assoc, obs.linked_profiles(assoc)[0])
        j.fail("a first finding", out)
        raise KeyError("a bug in the check")
    monkeypatch.setitem(checks.REGISTRY, ("TR-1", ""), broken)
    session = run_session(only={"TR-1"})
    recs = list(session.results.records["TR-1"].values())
    assert recs and all(r.verdict == "error" for r in recs)
    assert "the check could not finish: KeyError" in recs[0].message
    assert recs[0].problems == ["a first finding"]
    assert recs[0].evidence and recs[0].evidence[0]["operation"] == "AssociatorNames"
    gate = session.gate()
    assert gate.status == "failed" and catalog()["TR-1"].level == "MUST"


def _pull_refused(conn, method, namespace, **params):
    from pywbem import CIM_ERR_FAILED, CIMError
    raise CIMError(CIM_ERR_FAILED, "the pull machinery is broken")


def test_a_pull_operation_answered_with_cim_err_failed_is_a_finding(pytester, tmp_path):
    """CIM_ERR_NOT_SUPPORTED would mean "no pull operations"; CIM_ERR_FAILED
    is the server failing a request it should serve: TR-6 fails (never a skip)."""
    conn = _Answers(connect(), {("OpenAssociatorInstancePaths", "ProcessProfile"):
                                _pull_refused})
    with serve(conn) as server:
        result = run_suites(pytester, "--wbem-url", server.url, *outputs(tmp_path))
    doc = json.loads((tmp_path / "r.json").read_text())
    tr6 = {s: rec for s, rec in doc["requirements"]["TR-6"]["subjects"].items()}
    process = next(rec for s, rec in tr6.items() if "Process" in s)
    assert process["verdict"] == "fail"
    assert "CIM_ERR_FAILED" in process["message"]
    assert result.ret == 1


def test_the_zoo_the_runner_and_the_plugin_share_one_engine(pytester, tmp_path):
    """The same entry through pytest suites and through the runner (which the
    zoo and the property tests use) gives the same record for every
    (requirement, subject), property-based checks included."""
    from wbemconform.runner import run_session
    from wbemconform.options import TargetOptions
    mof = ZOO / "target-ns-missing-interop" / "defect.mof"
    result = run_suites(pytester, "--wbem-mock-mof", mof, "--conformance-json",
                        tmp_path / "r.json")
    assert result.ret == 1
    doc = json.loads((tmp_path / "r.json").read_text())
    suites = {(rid, s): rec["verdict"] for rid, req in doc["requirements"].items()
              for s, rec in req["subjects"].items()}
    session = run_session(TargetOptions(mock_mof=[str(mof)]))
    runner = {(rid, s): rec.verdict for rid, recs in session.results.records.items()
              for s, rec in recs.items()}
    assert runner == suites
    assert any(s.endswith("[property-based]") for _, s in runner)


def test_every_suite_test_is_a_check_of_the_engine_and_back(pytester):
    """The suites run exactly the engine's plan: one test function per
    (requirement, variant) the engine registers."""
    from wbemconform.checks import REGISTRY
    result = run_suites(pytester, "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if "::" in line]
    collected = set()
    for line in ids:
        module = line.split("::")[0]
        name = line.split("::")[1].split("[")[0]
        source = (REPO / module).read_text()
        marker = source[:source.index(f"def {name}(")].rstrip().splitlines()[-1]
        rid = marker.split('"')[1]
        variant = "property-based" if "property_verdict" in source[
            source.index(f"def {name}("):].splitlines()[0] else ""
        collected.add((rid, variant))
    assert collected == set(REGISTRY)


def test_an_expired_waiver_does_not_waive(pytester, tmp_path):
    waivers = tmp_path / "w.toml"
    waivers.write_text(textwrap.dedent("""
        [[waiver]]
        requirement = "EC-3"
        reason = "was accepted once"
        expires = 2020-01-01
    """))
    result = run_suites(pytester, "--wbem-mock-mof", ZOO / "target-ns-missing-interop" /
                        "defect.mof", "--conformance-waivers", waivers, *outputs(tmp_path))
    doc = json.loads((tmp_path / "r.json").read_text())
    assert result.ret == 1
    assert any(f["requirement"] == "EC-3" for f in doc["gate"]["failures"])
