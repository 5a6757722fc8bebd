"""The exit status of `wbemconform check` is the gate's (README, "Verdicts and
the gate": one test per row of its table): passed 0, failed 1, aborted 2 --
usage errors included, through the same ABORTED path (one line on stderr,
JSON, HTML and JUnit written) -- and a SHOULD failure is no JUnit <failure>
unless --conformance-strict."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "tests" / "defects"
MUST_FAILS = ZOO / "target-ns-missing-interop" / "defect.mof"
SHOULD_FAILS = ZOO / "bad-class-name" / "defect.mof"  # EC-2 (SHOULD) only
CHECK = [sys.executable, "-m", "wbemconform.cli", "check"]


def check(tmp_path, *args, env=None, timeout=180):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), **(env or {})}
    env.pop("WBEM_PASSWORD", None)
    return subprocess.run([*CHECK, "-q", "--conformance-dir", "out", *map(str, args)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


def results(tmp_path):
    out = tmp_path / "out"
    doc = json.loads((out / "conformance.json").read_text())
    assert (out / "conformance.html").is_file()
    return doc, (out / "junit.xml").read_text()


def test_passed_is_0_and_junit_has_no_failure(tmp_path):
    run = check(tmp_path)
    doc, junit = results(tmp_path)
    assert run.returncode == 0, run.stdout[-2000:]
    assert doc["gate"]["status"] == "passed"
    assert "<failure" not in junit and "<error" not in junit
    assert 'name="wbemconform_gate" value="passed"' in junit


def test_should_failures_only_is_0_and_a_skipped_junit_case(tmp_path):
    run = check(tmp_path, "--wbem-mock-mof", SHOULD_FAILS, "-rs")
    doc, junit = results(tmp_path)
    assert run.returncode == 0, run.stdout[-2000:]
    assert doc["gate"]["status"] == "passed"
    assert doc["requirements"]["EC-2"]["verdict"] == "fail"
    assert "<failure" not in junit and " failed" not in run.stdout.splitlines()[-1]
    case = junit[junit.index('<property name="requirement" value="EC-2"'):]
    case = case[:case.index("</testcase>")]
    assert '<property name="level" value="SHOULD"' in case
    assert '<property name="verdict" value="fail"' in case
    assert "<skipped" in case and "the gate does not fail on it" in case


def test_should_failures_with_strict_are_junit_failures_and_still_0(tmp_path):
    run = check(tmp_path, "--wbem-mock-mof", SHOULD_FAILS, "--conformance-strict")
    doc, junit = results(tmp_path)
    assert run.returncode == 0, run.stdout[-2000:]
    assert doc["gate"]["status"] == "passed"
    case = junit[junit.index('<property name="requirement" value="EC-2"'):]
    assert "<failure" in case[:case.index("</testcase>")]


def test_a_must_failure_is_1(tmp_path):
    run = check(tmp_path, "--wbem-mock-mof", MUST_FAILS)
    doc, junit = results(tmp_path)
    assert run.returncode == 1, run.stdout[-2000:]
    assert doc["gate"]["status"] == "failed"
    assert "<failure" in junit and 'name="wbemconform_gate" value="failed"' in junit


@pytest.mark.parametrize("args, phrase", [
    (["--wbem-flavor", "wrong"], "argument --wbem-flavor: invalid choice: 'wrong'"),
    (["--wbem-flavr", "wrong"], "unrecognized arguments: --wbem-flavr"),
    (["--wbem-timeout", "abc"], "--wbem-timeout 'abc': expected a number of seconds > 0"),
    (["--wbem-workers"], "argument --wbem-workers: expected one argument"),
    (["--wbem-url", "http://127.0.0.1:9", "--wbem-user", "bob"],
     "--wbem-user bob given without a password"),
], ids=["bad-choice", "unknown-option", "bad-value", "missing-value", "no-password"])
def test_a_usage_error_is_2_with_one_line_and_aborted_files(tmp_path, args, phrase):
    run = check(tmp_path, *args)
    doc, junit = results(tmp_path)
    assert run.returncode == 2, run.stdout[-2000:] + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("wbemconform check: error: "), run.stderr
    assert phrase in lines[0], lines[0]
    assert "Traceback" not in run.stdout + run.stderr
    assert doc["gate"]["status"] == "aborted" and phrase in doc["gate"]["reasons"][0]
    assert 'name="wbemconform_gate" value="aborted"' in junit


def test_a_target_that_cannot_be_used_is_2(tmp_path):
    run = check(tmp_path, "--wbem-mock-mof", tmp_path / "missing.mof")
    doc, junit = results(tmp_path)
    assert run.returncode == 2, run.stdout[-2000:]
    assert doc["gate"]["status"] == "aborted" and "no such file" in doc["gate"]["reasons"][0]
    assert 'name="wbemconform_gate" value="aborted"' in junit


def test_a_partial_run_is_2(tmp_path):
    run = check(tmp_path, "-k", "forward_traversal")
    doc, junit = results(tmp_path)
    assert run.returncode == 2, run.stdout[-2000:]
    assert doc["gate"]["status"] == "aborted" and doc["not_judged"]
    assert 'name="wbemconform_gate" value="aborted"' in junit


def test_a_k_expression_matching_nothing_is_2(tmp_path):
    run = check(tmp_path, "-k", "no_such_test_anywhere")
    doc, _ = results(tmp_path)
    assert run.returncode == 2, run.stdout[-2000:]
    assert doc["gate"]["status"] == "aborted"


def test_the_run_budget_spent_is_2(tmp_path):
    run = check(tmp_path, "--wbem-run-timeout", "0.001")
    doc, _ = results(tmp_path)
    assert run.returncode == 2, run.stdout[-2000:]
    assert doc["gate"]["status"] == "aborted"
    assert any("--wbem-run-timeout" in r for r in doc["gate"]["reasons"]), doc["gate"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_is_2_without_a_hypothesis_dump(tmp_path, sig):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [*CHECK, "-q", "--conformance-dir", "out", "--wbem-hypothesis-profile", "thorough"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    pending = tmp_path / "out" / "conformance.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not pending.exists():  # the run has started
        time.sleep(0.05)
    time.sleep(1.5)  # into the checks (the thorough profile keeps it busy)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)
    doc = json.loads(pending.read_text())
    assert proc.returncode == 2, out[-3000:]
    assert doc["gate"]["status"] == "aborted"
    assert "explicit example" not in out and "Traceback" not in out, out[-3000:]
    assert len(out.encode()) < 6000 or "conformance gate: ABORTED" in out


#: a pytest plugin that delivers SIGINT or SIGTERM to its own process while
#: the garbage collector runs its callbacks (hypothesis installs one), after the
#: first conformance test: a KeyboardInterrupt raised there is "ignored" by
#: Python -- printed and lost -- and the run went on to a PASSED gate (CI,
#: bd2eafe: 2 runs of 72 sent SIGINT exited 0 with "conformance gate: PASSED")
SIGNAL_IN_GC_CALLBACK = """
import gc, os, signal, time
SIG = signal.{sig}
_sent = []

def _callback(phase, info):
    if phase == "start" and _armed and not _sent:
        _sent.append(1)
        os.kill(os.getpid(), SIG)
        t = time.monotonic()
        while time.monotonic() - t < 0.3:  # the handler runs in here
            pass

_armed = False
gc.callbacks.append(_callback)

def pytest_runtest_teardown(item):
    global _armed
    _armed = True
    gc.collect()
"""


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_during_a_gc_callback_is_not_lost(tmp_path, sig):
    (tmp_path / "signal_in_gc.py").write_text(SIGNAL_IN_GC_CALLBACK.format(sig=sig))
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([*CHECK, "-q", "--conformance-dir", "out", "-p", "signal_in_gc"],
                         cwd=tmp_path, capture_output=True, text=True, env=env, timeout=240,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    out = run.stdout + run.stderr
    doc = json.loads((tmp_path / "out" / "conformance.json").read_text())
    assert run.returncode == 2, out[-3000:]
    reason = "interrupted (Ctrl-C)" if sig == "SIGINT" else "terminated (SIGTERM)"
    assert doc["gate"]["status"] == "aborted" and reason in doc["gate"]["reasons"][0], doc["gate"]
    assert "Traceback" not in out and "Exception ignored" not in out, out[-3000:]


def test_the_readme_table_gives_each_gate_status_its_exit_status():
    text = (REPO / "README.md").read_text()
    table = text[text.index("| how the run ends | exit status |"):]
    rows = [line.split(" | ") for line in table.splitlines()[2:] if line.startswith("| ")]
    assert len(rows) >= 12
    want = {"`passed`": "0", "`failed`": "1", "`aborted`": "2"}
    for row in rows:
        status, gate = row[1], row[2].split(" ")[0].rstrip(",")
        if "pytest's" in status or "signal's" in status:
            continue  # pytest's own parsing; a kill -9 leaves the signal's status
        assert status.split(" ")[0] == want[gate], row
