"""Runs repeat (README "Runs repeat"): two runs against the same served mock,
one worker and four, give the same JSON and operation log but for the fields
the README names (the run's timing, the options given, each operation's
seconds)."""

import json
import os
import subprocess
import sys

import pytest

import serve_cli

CLI = [sys.executable, "-m", "wbemconform.cli"]
RUN_LIMIT = 300  # seconds one run may take


@pytest.fixture
def served(tmp_path):
    """The served mock (default example profiles) on a loopback port; stopped after."""
    with serve_cli.served(cwd=tmp_path) as (_, url):
        yield url


def run(url, workers, folder):
    """(JSON document, operation log lines) of one run with ``workers``; the
    files have the same names in both runs, so the options differ only in
    --wbem-workers."""
    out, log = folder / "run.json", folder / "run.log"
    done = subprocess.run(
        CLI + ["check", "--wbem-url", url, "--wbem-workers", str(workers),
               "--conformance-json", str(out), "--wbem-operation-log", str(log),
               "--conformance-report", str(folder / "run.html"), "-q", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=RUN_LIMIT, cwd=folder,
        env={k: v for k, v in os.environ.items() if k != "HYPOTHESIS_PROFILE"})
    assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    doc = json.loads(out.read_text(encoding="utf-8"))
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return doc, lines


def test_one_worker_and_four_give_the_same_json_and_operation_log(served, tmp_path):
    doc1, log1 = run(served, 1, tmp_path)
    doc4, log4 = run(served, 4, tmp_path)
    # what the README says varies: the run's timing, the options given
    for doc, workers in ((doc1, 1), (doc4, 4)):
        assert doc.pop("started") and doc.pop("duration_seconds") >= 0
        # the default (4) is not recorded
        assert doc["options"].pop("--wbem-workers", 4) == workers
    for line in log1 + log4:
        assert line.pop("seconds") >= 0
    assert any(e["operation"].startswith("Open") for e in log1)  # pull sequences too
    assert len(log1) > 100 and doc1["operations"]["total"] == len(log1)
    assert log4 == log1
    assert doc4 == doc1
