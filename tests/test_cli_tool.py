"""`wbemconform check` as a tool of its own: its --help from the option table,
the password rule, the plain-HTTP line, no litter, Ctrl-C without hypothesis'
dump, --conformance-dir, and `wbemconform requirements`."""

import io
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import requests

from wbemconform import cli_check, options
from wbemconform.catalog import catalog

CLI = [sys.executable, "-m", "wbemconform.cli"]


def run(*args, cwd=None, env=None, timeout=180, drop=()):
    env = {**os.environ, **(env or {})}
    for name in ("WBEM_PASSWORD", *drop):
        env.pop(name, None)
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def test_check_help_is_ours_grouped_from_the_table_within_80_lines():
    got = run("check", "--help", env={"COLUMNS": "80"})
    assert got.returncode == 0
    lines = got.stdout.splitlines()
    assert len(lines) <= 80, len(lines)
    for row in options.TABLE:
        assert any(line.lstrip().startswith(row.name) for line in lines), row.name
    for group in options.GROUPS:
        assert f"{group}:" in lines
    assert "--help-pytest" in got.stdout and "exit status: 0" in got.stdout
    assert "--capture" not in got.stdout  # pytest's options are behind --help-pytest


def test_help_pytest_is_pytest_s_with_our_options():
    got = run("check", "--help-pytest")
    assert got.returncode == 0
    assert "--capture" in got.stdout and "--wbem-url" in got.stdout


def test_a_user_without_a_password_is_asked_on_a_terminal_only():
    values = {"wbem_url": "https://h.example:5989", "wbem_user": "bob"}
    tty = SimpleNamespace(isatty=lambda: True)
    asked = []
    got = cli_check.password(values, environ={}, stdin=tty,
                             ask=lambda prompt: asked.append(prompt) or "s3cret")
    assert got == "s3cret" and asked == ["password for bob at https://h.example:5989: "]
    with pytest.raises(cli_check.Usage, match="--wbem-user bob given without a password"):
        cli_check.password(values, environ={}, stdin=io.StringIO())
    # a password anywhere, a Kerberos ticket, or no user: nothing asked
    never = dict(stdin=tty, ask=lambda prompt: pytest.fail("asked"))
    assert cli_check.password(values, environ={"WBEM_PASSWORD": "x"}, **never) is None
    assert cli_check.password({**values, "wbem_url": "https://bob:pw@h"}, environ={},
                              **never) is None
    assert cli_check.password({**values, "wbem_auth": "kerberos"}, environ={}, **never) is None
    assert cli_check.password({"wbem_url": "https://h"}, environ={}, **never) is None
    assert cli_check.password({}, environ={}, **never) is None


def test_an_https_url_to_a_plain_http_server_says_so(tmp_path):
    from wbemconform.mock import connect
    from wbemconform.server import serve
    with serve(connect()) as server:
        url = server.url.replace("http://", "https://")
        got = run("check", "-q", "--wbem-url", url, "--wbem-no-verify", "--wbem-workers", "1",
                  "--conformance-dir", "out", cwd=tmp_path,
                  env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    plain = url.replace("https://", "http://")
    assert f"the server at {url} answered plain HTTP to an https:// URL; use {plain}" \
        in got.stdout, got.stdout[-2000:]
    assert "WRONG_VERSION_NUMBER" not in got.stdout
    assert got.returncode == 2


def test_plain_http_answer_recognises_only_that_tls_error():
    from wbemconform.targets.plain_http import plain_http_answer
    err = requests.exceptions.SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number")
    assert "answered plain HTTP" in plain_http_answer(err, "https://u:pw@h:5989")
    assert "pw" not in plain_http_answer(err, "https://u:pw@h:5989")
    other = requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED]")
    assert plain_http_answer(other, "https://h") is None
    assert plain_http_answer(requests.exceptions.ConnectionError("refused"), "https://h") is None


def test_a_check_run_leaves_no_litter_and_conformance_dir_holds_the_results(tmp_path):
    cache = tmp_path / "cache"
    work = tmp_path / "work"
    work.mkdir()
    # as a user runs it: without the test session's own hypothesis folder
    got = run("check", "-q", "--conformance-dir", "results", cwd=work,
              env={"XDG_CACHE_HOME": str(cache)}, drop=("HYPOTHESIS_STORAGE_DIRECTORY",))
    assert got.returncode == 0, got.stdout[-2000:]
    assert sorted(p.name for p in work.iterdir()) == ["results"]
    assert sorted(p.name for p in (work / "results").iterdir()) == [
        "conformance.html", "conformance.json", "junit.xml"]
    assert (cache / "wbemconform" / "hypothesis").is_dir()


def test_explicit_options_win_over_conformance_dir(tmp_path):
    got = cli_check.outputs({"conformance_dir": str(tmp_path),
                             "conformance_json": str(tmp_path / "x.json")})
    assert got == {"--conformance-json": str(tmp_path / "x.json"),
                   "--conformance-report": str(tmp_path / "conformance.html"),
                   "--junitxml": str(tmp_path / "junit.xml")}
    assert cli_check.outputs({}) == {
        "--conformance-json": os.path.abspath("reports/conformance.json"),
        "--conformance-report": os.path.abspath("reports/conformance.html")}


def test_ctrl_c_drops_hypothesis_explicit_example_note():
    from wbemconform import plugin
    exc = KeyboardInterrupt()
    exc.add_note("Failing explicit example: test(profile=...)" + "x" * 1500)
    plugin._CURRENT.append(SimpleNamespace(interrupted=False))
    try:
        plugin.pytest_keyboard_interrupt(SimpleNamespace(value=exc))
        assert plugin._CURRENT[-1].interrupted
    finally:
        plugin._CURRENT.pop()
    assert not getattr(exc, "__notes__", None)


def test_unrecognized_arguments_never_echo_values():
    err = Exception("usage: x\nx: error: unrecognized arguments: --wbem-pasword hunter2")
    assert cli_check._one_line(err) == "unrecognized arguments: --wbem-pasword"


def test_requirements_lists_and_filters_the_catalog():
    got = run("requirements")
    assert got.returncode == 0
    assert [line.split()[0] for line in got.stdout.splitlines()] == list(catalog())
    should = json.loads(run("requirements", "--level", "SHOULD", "--json").stdout)
    assert should and {r["level"] for r in should} == {"SHOULD"}
    assert {r["id"] for r in should} == {r.id for r in catalog().values()
                                         if r.level == "SHOULD"}
    dmtf = json.loads(run("requirements", "--flavor", "dmtf", "--json").stdout)
    assert {r["flavor"] for r in dmtf} == {"dmtf"}
    wmi = json.loads(run("requirements", "--flavor", "wmi", "--json").stdout)
    assert {r["id"] for r in wmi} == set(catalog())  # dmtf ones apply to every target
    grep = json.loads(run("requirements", "--grep", "ASSOCCLASS", "--json").stdout)
    assert grep and all("assocclass" in (r["id"] + r["statement"] + r["source"]).lower()
                        for r in grep)
    none = run("requirements", "--grep", "no such text anywhere")
    assert none.returncode == 1 and "no requirement matches" in none.stderr
    assert run("requirements", "--level", "X").returncode == 2
