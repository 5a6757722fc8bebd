"""The suites against a served mock that misbehaves on purpose
(``wbemconform.server.serve(..., fault=...)``): every fault ends the run
within a bound, with one clear ``wbemconform: ERROR:`` line naming the target
and the fault class, a non-zero exit, and no requirement reported as ``fail``
because of the infrastructure."""

import http.client
import json
import re
import time
from pathlib import Path

import pytest

from wbemconform.mock import connect
from wbemconform.server import Fault, parse_fault, serve

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]
BOUND = 90  # seconds a faulty run may take, all in all

# fault -> (pattern the error line must match: the fault class as pywbem names it)
FAULTS = {
    "delay:5": r"(TimeoutError|ConnectionError): .*timed out",
    "http500": r"HTTPError: 500",
    "close": r"ConnectionError: .*(IncompleteRead|Connection broken|closed)",
    "truncated": r"(XMLParseError|ParseError)",
    "invalid-xml": r"(XMLParseError|ParseError)",
    "content-type": r"HeaderParseError: .*Content-type.*text/html",
    "401": r"AuthError",
}


def run_suites(pytester, *args, suites=None):
    return pytester.runpytest_subprocess(
        str(suites or REPO / "suites"), "-p", "no:cacheprovider", "--rootdir", str(REPO),
        "-c", str(REPO / "pyproject.toml"), *map(str, args), timeout=120)


def error_lines(result):
    text = result.stdout.str() + result.stderr.str()
    return text, [line for line in text.splitlines() if line.startswith("wbemconform: ERROR:")]


def subject_verdicts(doc):
    return {(rid, subject): rec["verdict"]
            for rid, req in doc["requirements"].items()
            for subject, rec in req["subjects"].items()}


def table_verdicts(result):
    """{requirement id: (overall verdict, fail count, error count)} from the
    terminal's conformance table."""
    out = {}
    for line in result.stdout.lines:
        m = re.match(r"^([A-Z]{2}-\d+)\s+(MUST|SHOULD|MAY)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s", line)
        if m:
            out[m.group(1)] = (m.group(3), int(m.group(5)), int(m.group(6)))
    return out


@pytest.fixture(scope="module")
def mock():
    return connect()


# -- the fault specification ---------------------------------------------------

@pytest.mark.parametrize("spec, kind, seconds, after", [
    ("delay:2.5", "delay", 2.5, 0), ("http500", "http500", 0, 0), ("close", "close", 0, 0),
    ("truncated", "truncated", 0, 0), ("invalid-xml", "invalid-xml", 0, 0),
    ("content-type", "content-type", 0, 0), ("401", "401", 0, 0),
    ("after:20:http500", "http500", 0, 20), ("after:0:delay:0", "delay", 0, 0),
    (" AFTER:3:Close ", "close", 0, 3),
])
def test_parse_fault(spec, kind, seconds, after):
    fault = parse_fault(spec)
    assert (fault.kind, fault.seconds, fault.after) == (kind, seconds, after)
    assert parse_fault(fault) is fault and parse_fault(None) is None
    assert isinstance(fault, Fault)


@pytest.mark.parametrize("spec, message", [
    ("bogus", "unknown fault 'bogus'"), ("delay", "delay needs :SECONDS"),
    ("delay:soon", "delay needs :SECONDS"), ("delay:-1", "0 <= SECONDS"),
    ("delay:nan", "0 <= SECONDS"), ("close:1", "close takes no argument"),
    ("after:x:close", "whole number"), ("after:-2:close", "N >= 0"),
    ("after:3", "must be followed by :KIND"), ("", "unknown fault ''"),
])
def test_bad_fault_is_a_clear_value_error(mock, spec, message):
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        serve(mock, fault=spec)
    assert repr(spec) in str(info.value)


def _post(url, body=b"<CIM/>"):
    host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("POST", "/cimom", body, {
        "Content-Type": 'application/xml; charset="utf-8"', "CIMOperation": "MethodCall",
        "CIMMethod": "EnumerateInstanceNames", "CIMObject": "root%2Finterop"})
    return conn, conn.getresponse()


ENUM_REQUEST = (b'<?xml version="1.0" encoding="utf-8" ?>\n<CIM CIMVERSION="2.0" '
                b'DTDVERSION="2.0"><MESSAGE ID="1001" PROTOCOLVERSION="1.0"><SIMPLEREQ>'
                b'<IMETHODCALL NAME="EnumerateInstanceNames"><LOCALNAMESPACEPATH>'
                b'<NAMESPACE NAME="root"/><NAMESPACE NAME="interop"/></LOCALNAMESPACEPATH>'
                b'<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="CIM_RegisteredProfile"/>'
                b'</IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>')


def test_close_fault_sends_a_truncated_response(mock):
    with serve(mock, fault="close") as server:
        conn, resp = _post(server.url, ENUM_REQUEST)
        assert resp.status == 200
        length = int(resp.getheader("Content-Length"))
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
        assert 0 < len(info.value.partial) < length
        conn.close()


def test_after_n_lets_the_first_requests_through(mock):
    with serve(mock, fault="after:2:http500") as server:
        statuses = []
        for _ in range(4):
            conn, resp = _post(server.url, ENUM_REQUEST)
            resp.read()
            statuses.append(resp.status)
            conn.close()
    assert statuses == [200, 200, 500, 500]


def test_each_fault_on_the_wire(mock):
    """What the client receives, fault by fault (raw HTTP)."""
    seen = {}
    for fault in ("truncated", "invalid-xml", "content-type", "401", "http500"):
        with serve(mock, fault=fault) as server:
            conn, resp = _post(server.url, ENUM_REQUEST)
            body = resp.read()
            seen[fault] = (resp.status, resp.getheader("Content-Type"),
                           resp.getheader("CIMOperation"), body)
            conn.close()
    status, ctype, op, body = seen["truncated"]
    assert status == 200 and op == "MethodResponse" and body.startswith(b"<?xml")
    assert not body.rstrip().endswith(b"</CIM>")
    status, ctype, op, body = seen["invalid-xml"]
    assert status == 200 and op == "MethodResponse" and b"not CIM-XML" in body
    status, ctype, op, body = seen["content-type"]
    assert status == 200 and ctype.startswith("text/html") and body.rstrip().endswith(b"</CIM>")
    assert seen["401"][0] == 401 and seen["http500"][0] == 500


def test_delay_ends_when_the_server_stops(mock):
    server = serve(mock, fault="delay:60")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=0.5)
        conn.request("POST", "/", ENUM_REQUEST, {"CIMOperation": "MethodCall"})
        with pytest.raises(TimeoutError):
            conn.getresponse()
        conn.close()
    finally:
        start = time.monotonic()
        server.stop()
    assert time.monotonic() - start < 5


# -- the suites against each fault ---------------------------------------------

@pytest.mark.parametrize("fault", list(FAULTS))
def test_suites_against_a_faulty_server(pytester, tmp_path, mock, fault):
    out = tmp_path / "out.json"
    with serve(mock, fault=fault) as server:
        start = time.monotonic()
        result = run_suites(pytester, "--wbem-url", server.url, "--wbem-timeout", "2",
                            "--conformance-json", out)
        elapsed = time.monotonic() - start
    text, lines = error_lines(result)
    assert elapsed < BOUND, text
    assert result.ret != 0, text
    assert lines, text
    assert len(set(lines)) == 1, lines  # one line (printed at collection and in the summary)
    assert server.url in lines[0], lines[0]
    assert re.search(FAULTS[fault], lines[0]), lines[0]
    assert "Traceback" not in text
    doc = json.loads(out.read_text())
    assert doc["target"] == server.url
    verdicts = subject_verdicts(doc)
    assert "fail" not in verdicts.values(), verdicts
    if doc["setup_error"]:
        assert server.url in doc["setup_error"]
    else:
        assert set(verdicts.values()) <= {"error", "skip", "not-applicable"}, verdicts
    assert doc["gate"]["passed"] is False


MID_RUN = "after:30:http500"  # discovery is 26 requests; the checks then hit the fault


def test_fault_mid_run_gives_errors_not_failures(pytester, mock):
    """A server that breaks after discovery: the checks it breaks are errors."""
    with serve(mock, fault=MID_RUN) as server:
        start = time.monotonic()
        result = run_suites(pytester, "--wbem-url", server.url, "--wbem-timeout", "2")
        elapsed = time.monotonic() - start
    text = result.stdout.str()
    assert elapsed < BOUND, text
    assert result.ret != 0, text
    table = table_verdicts(result)
    assert len(table) > 20, text
    assert not [rid for rid, (overall, fails, _) in table.items()
                if overall == "fail" or fails], text
    assert [rid for rid, (overall, _, errors) in table.items() if overall == "error" and errors]
    assert "conformance gate: FAILED" in text
    assert "HTTPError: 500" in text and server.url in text


def test_fault_mid_run_json_has_errors_not_failures(pytester, tmp_path, mock):
    out = tmp_path / "out.json"
    with serve(mock, fault=MID_RUN) as server:
        start = time.monotonic()
        result = run_suites(pytester, "--wbem-url", server.url, "--wbem-timeout", "2",
                            "--conformance-json", out)
        elapsed = time.monotonic() - start
    text = result.stdout.str() + result.stderr.str()
    assert elapsed < BOUND, text
    assert result.ret != 0, text
    assert "INTERNALERROR" not in text, text
    doc = json.loads(out.read_text())
    assert doc["setup_error"] is None  # discovery went through
    verdicts = subject_verdicts(doc)
    assert "fail" not in verdicts.values(), verdicts
    errors = {k: doc["requirements"][k[0]]["subjects"][k[1]]["message"]
              for k, v in verdicts.items() if v == "error"}
    assert errors, verdicts
    for message in errors.values():
        assert server.url in message and "HTTPError: 500" in message, message
    assert doc["gate"]["passed"] is False


def test_fault_mid_run_gives_clear_error_lines(pytester, mock):
    with serve(mock, fault=MID_RUN) as server:
        result = run_suites(pytester, "--wbem-url", server.url, "--wbem-timeout", "2")
    text, lines = error_lines(result)
    assert lines, text
    # one line per distinct message is acceptable; each names the target and the fault
    assert all(server.url in line and "HTTPError" in line for line in lines), lines
    assert "Traceback" not in text and "target.py:" not in text, text


def test_fault_inside_get_central_instances_is_an_error(pytester, mock):
    """Request 29 of this selection is the first of pywbem's get_central_instances
    (26 discovery requests, then CI-1's forward traversal and the enumeration of
    CIM_ElementConformsToProfile)."""
    with serve(mock, fault="after:28:http500") as server:
        result = run_suites(pytester, "--wbem-url", server.url, "--wbem-timeout", "2",
                            "-k", "central_instances",
                            suites=REPO / "suites" / "test_registration.py")
    table = table_verdicts(result)
    assert table["CI-1"][0] == "error", result.stdout.str()
    assert table["CI-1"][1] == 0, result.stdout.str()
