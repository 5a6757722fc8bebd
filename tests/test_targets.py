"""Targets by URL: unreachable, slow, refusing or garbage servers give one clear
error and a non-zero exit; credentials never appear in any output."""

import json
import time
from pathlib import Path

import pytest

from fake_http import closed_port, fake_server
from wbemconform.options import TargetOptions, redact_url
from wbemconform.targets import TargetSetupError, open_target

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-Pa55word"


def run_suites(pytester, *args, env=None):
    if env:
        for k, v in env.items():
            pytester._monkeypatch.setenv(k, v)
    return pytester.runpytest_subprocess(
        str(REPO / "suites"), "-p", "no:cacheprovider", "--rootdir", str(REPO),
        "-c", str(REPO / "pyproject.toml"), *map(str, args), timeout=120)


def assert_one_error_line(result, *phrases):
    text = result.stdout.str() + result.stderr.str()
    lines = [l for l in text.splitlines() if l.startswith("wbemconform: ERROR:")]
    assert lines, text
    assert len(set(lines)) == 1, lines
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert "Traceback" not in text
    assert result.ret == 2  # the target cannot be used: aborted
    return lines[0]


def test_unreachable_server(pytester):
    url = f"http://127.0.0.1:{closed_port()}"
    start = time.monotonic()
    result = run_suites(pytester, "--wbem-url", url, "--wbem-timeout", "5")
    line = assert_one_error_line(result, url, "ConnectionError")
    assert time.monotonic() - start < 60, line


def test_server_slower_than_the_timeout(pytester):
    with fake_server("slow", delay=6) as url:
        start = time.monotonic()
        result = run_suites(pytester, "--wbem-url", url, "--wbem-timeout", "1")
        elapsed = time.monotonic() - start
    assert_one_error_line(result, url, "timed out")
    assert elapsed < 60


def test_garbage_answer(pytester):
    with fake_server("garbage") as url:
        result = run_suites(pytester, "--wbem-url", url, "--wbem-timeout", "5")
    assert_one_error_line(result, url)


def test_refused_credentials_never_show_the_password(pytester, tmp_path):
    out, junit = tmp_path / "r.json", tmp_path / "j.xml"
    with fake_server("401") as url:
        result = run_suites(pytester, "--wbem-url", url, "--wbem-user", "admin",
                            "--wbem-password", SECRET, "--conformance-json", out,
                            "--junitxml", junit, "--wbem-timeout", "5")
        assert_one_error_line(result, url, "AuthError")
        result2 = run_suites(pytester, "--wbem-url",
                             url.replace("http://", f"http://admin:{SECRET}@"),
                             "--wbem-timeout", "5", env={"WBEM_PASSWORD": SECRET + "x"})
    for text in (result.stdout.str(), result.stderr.str(), out.read_text(),
                 junit.read_text(), result2.stdout.str(), result2.stderr.str()):
        assert SECRET not in text
    doc = json.loads(out.read_text())
    assert doc["setup_error"] and doc["gate"]["passed"] is False
    assert doc["target"] == url


def test_bad_url_and_options_are_usage_errors():
    for url in ("ftp://example.org", "http://", "not a url"):
        with pytest.raises(TargetSetupError, match="expected http"):
            open_target(TargetOptions(url=url))
    with pytest.raises(TargetSetupError, match="no such file"):
        open_target(TargetOptions(mock_mof=["/nonexistent/x.mof"]))
    with pytest.raises(TargetSetupError, match="no such file"):
        open_target(TargetOptions(url="https://127.0.0.1:1", ca_certs="/nonexistent/ca.pem"))
    with pytest.raises(TargetSetupError, match="expected NAME=FILE.py:CLASS"):
        open_target(TargetOptions(mock_providers=["oops"]))


def test_redact_url():
    assert redact_url("https://u:p@host:5989/x") == "https://host:5989/x"
    assert redact_url("http://host") == "http://host"
    assert redact_url("http://u@[::1]:5988") == "http://[::1]:5988"
