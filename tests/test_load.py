"""Load (bounded): 8 suite runs at once against one served mock finish with
identical verdicts and no errors; 8 pywbem clients hammering the same server
from threads all get the same answers."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import pywbem

from wbemconform.mock import connect
from wbemconform.server import serve

REPO = Path(__file__).resolve().parents[1]
RUNS = 8
BOUND = 90  # seconds for the 8 concurrent runs, on 2 cores


@pytest.fixture(scope="module")
def served():
    with serve(connect()) as server:  # a mock of its own, read only here
        yield server


def suite_command(url, out):
    return [sys.executable, "-m", "pytest", str(REPO / "suites"), "-q", "-p", "no:cacheprovider",
            "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
            "--wbem-url", url, "--wbem-timeout", "30", "--conformance-json", str(out)]


def verdicts(path):
    doc = json.loads(Path(path).read_text())
    return doc, {(rid, subject): rec["verdict"]
                 for rid, req in doc["requirements"].items()
                 for subject, rec in req["subjects"].items()}


def test_concurrent_suite_runs_agree(served, tmp_path):
    # bounded and deterministic property-based suites, whatever the caller's profile
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci")
    outs = [tmp_path / f"run{i}.json" for i in range(RUNS)]
    start = time.monotonic()
    procs = [subprocess.Popen(suite_command(served.url, out), cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for out in outs]
    outputs = []
    try:
        for proc in procs:
            remaining = max(1.0, BOUND + 30 - (time.monotonic() - start))
            outputs.append(proc.communicate(timeout=remaining)[0])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    elapsed = time.monotonic() - start
    for proc, text in zip(procs, outputs):
        assert proc.returncode == 0, text[-5000:]
        assert "wbemconform: ERROR" not in text, text[-5000:]
    results = [verdicts(out) for out in outs]
    _, first = results[0]
    assert first, "no verdicts recorded"
    assert "fail" not in first.values() and "error" not in first.values(), first
    assert list(first.values()).count("pass") > 20, first
    for i, (doc, other) in enumerate(results[1:], start=1):
        assert doc["setup_error"] is None
        assert doc["target"] == served.url
        assert other == first, (i, {k: (first.get(k), other.get(k))
                                    for k in set(first) | set(other)
                                    if first.get(k) != other.get(k)})
    print(f"{RUNS} concurrent suite runs: {elapsed:.1f} s, "
          f"{sum(d['operations']['total'] for d, _ in results)} operations")
    assert elapsed < BOUND, f"{RUNS} concurrent runs took {elapsed:.1f} s"


def test_concurrent_clients_get_the_same_answers(served):
    """8 threads, each with its own connection, 20 rounds of the operations the
    suites lean on: every answer equals the single-threaded one."""
    def snapshot(conn):
        profiles = sorted(conn.EnumerateInstanceNames("CIM_RegisteredProfile"), key=str)
        out = [str(p) for p in profiles]
        for profile in profiles:
            names = conn.AssociatorNames(profile, AssocClass="CIM_ElementConformsToProfile")
            out.append(sorted(str(n) for n in names))
            refs = conn.ReferenceNames(profile, ResultClass="CIM_ElementConformsToProfile")
            out.append(sorted(str(r) for r in refs))
            if refs:
                inst = conn.GetInstance(refs[0])
                out.append(str(inst.path))
        return out

    def client():
        return pywbem.WBEMConnection(served.url, default_namespace="root/interop", timeout=30)

    base_conn = client()
    expected = snapshot(base_conn)
    base_conn.close()
    assert len(expected) > 3
    errors, mismatches = [], []

    def worker():
        conn = client()
        try:
            for _ in range(20):
                got = snapshot(conn)
                if got != expected:
                    mismatches.append(got)
        except Exception as exc:  # noqa: BLE001 -- reported below, with the thread's failure
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(RUNS)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(BOUND)
    assert not [t for t in threads if t.is_alive()], "a client thread hung"
    assert not errors, errors[:3]
    assert not mismatches, mismatches[:1]
    assert time.monotonic() - start < BOUND
