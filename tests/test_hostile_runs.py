"""Whole suite runs against hostile servers on 127.0.0.1: bounded, one error
line, and no secret in any artifact (issue 9). The transport-level behaviour
is tested in tests/test_transport.py; these run what users run."""

import base64
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pywbem import CIM_ERR_FAILED, CIMError

import hostile_servers as hs
from wbemconform.mock import connect
from wbemconform.server import serve

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "Tr0ub4dor-and-3-horses"
USER = "bob"


def suites(tmp_path, *args, timeout=120, env=None):
    """(exit status, stdout+stderr, seconds) of a suite run with every artifact."""
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "suites"), "-p", "no:cacheprovider",
         "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
         "--conformance-json", "r.json", "--conformance-report", "r.html",
         "--junitxml", "j.xml", "--wbem-operation-log", "ops.jsonl", *map(str, args)],
        cwd=tmp_path, capture_output=True, text=True, timeout=timeout, env=env)
    return run.returncode, run.stdout + run.stderr, time.monotonic() - start


def artifacts(tmp_path, out):
    texts = {"output": out}
    for name in ("r.json", "r.html", "j.xml", "ops.jsonl"):
        if (tmp_path / name).is_file():
            texts[name] = (tmp_path / name).read_text()
    return texts


def assert_no_secret(texts):
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for name, text in texts.items():
        assert PASSWORD not in text, f"the password is in {name}"
        assert encoded not in text, f"the encoded credentials are in {name}"


class _Echo:
    """The mock, whose AssociatorNames from the Process profile fails with a
    CIM error that repeats the credentials the server was given."""

    def __init__(self, conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def _mock_imethodcall(self, method, namespace, **params):
        source = params.get("ObjectName")
        if method == "AssociatorNames" and getattr(source, "classname", "") == "ProcessProfile":
            raise CIMError(CIM_ERR_FAILED, f"access check failed for user={USER} "
                                           f"password={PASSWORD}")
        return self._conn._mock_imethodcall(method, namespace, **params)


def test_credentials_echoed_by_the_server_reach_no_artifact(tmp_path):
    """The password is given the three ways a user can; the server repeats it
    in a CIM error description; -l --tb=long show locals. Zero occurrences."""
    with serve(_Echo(connect()), user=USER, password=PASSWORD) as server:
        env = {**__import__("os").environ, "WBEM_PASSWORD": PASSWORD}
        status, out, _ = suites(tmp_path, "--wbem-url", server.url, "--wbem-user", USER,
                                "-l", "--tb=long", env=env)
    texts = artifacts(tmp_path, out)
    assert status == 1 and len(texts) == 5
    assert "access check failed for user=bob password=********" in texts["r.json"]
    assert_no_secret(texts)


@pytest.mark.parametrize("url_form", [False, True])
def test_a_timeout_with_tracebacks_asked_for_shows_no_password(tmp_path, url_form):
    with hs.serve(hs.trickle("headers", interval=1.0)) as server:
        url = server.url.replace("http://", f"http://{USER}:{PASSWORD}@") if url_form \
            else server.url
        creds = [] if url_form else ["--wbem-user", USER, "--wbem-password", PASSWORD]
        status, out, _ = suites(tmp_path, "--wbem-url", url, *creds, "--wbem-timeout", "2",
                                "-l", "--tb=long")
    assert status != 0
    assert_no_secret(artifacts(tmp_path, out))


@pytest.mark.parametrize("name, respond, expect", [
    ("trickle", lambda: hs.trickle("body", interval=1.0), "OperationTimeoutError"),
    ("huge", lambda: hs.padded(20 << 20), "ResponseTooLargeError"),
    ("endless", lambda: hs.endless(), "ResponseTooLargeError"),
])
def test_a_hostile_answer_ends_the_run_in_bounded_time_with_one_error_line(
        tmp_path, name, respond, expect):
    with hs.serve(respond(), max_seconds=60) as server:
        status, out, seconds = suites(tmp_path, "--wbem-url", server.url, "--wbem-timeout", "4")
    assert status != 0
    assert seconds < 4 + 5 + 3, f"{name}: the run took {seconds:.1f} s"  # + pytest's start-up
    errors = [line for line in out.splitlines() if line.startswith("wbemconform: ERROR:")]
    assert len(errors) == 1 and server.url in errors[0] and expect in errors[0], errors
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["gate"]["status"] == "aborted"
    assert "Traceback" not in out


def test_a_redirect_is_an_error_naming_the_location_and_the_other_server_hears_nothing(
        tmp_path):
    with hs.serve(hs.ok()) as elsewhere, \
            hs.serve(hs.redirect(elsewhere.url + "/cimom")) as server:
        status, out, _ = suites(tmp_path, "--wbem-url", server.url)
    assert status != 0
    errors = [line for line in out.splitlines() if line.startswith("wbemconform: ERROR:")]
    assert len(errors) == 1 and "307" in errors[0] and elsewhere.url in errors[0], errors
    assert elsewhere.requests == []
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["gate"]["status"] == "aborted" and doc["target"] == server.url
