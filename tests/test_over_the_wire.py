"""The suites over real HTTP: a served mock on 127.0.0.1, pywbem's client, the
same verdicts as in process, and no write unless --wbem-allow-writes."""

import json
from pathlib import Path

import pytest

from wbemconform.mock import connect
from wbemconform.server import serve
from wbemconform.targets import is_write

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[1]


def run_suites(pytester, *args):
    return pytester.runpytest_subprocess(
        str(REPO / "suites"), "-p", "no:cacheprovider", "--rootdir", str(REPO),
        "-c", str(REPO / "pyproject.toml"), *map(str, args), timeout=300)


def verdicts(path):
    doc = json.loads(Path(path).read_text())
    return doc, {rid: r["verdict"] for rid, r in doc["requirements"].items()}


@pytest.fixture(scope="module")
def served():
    with serve(connect()) as server:
        yield server


def test_read_only_run_over_http_sends_no_write(pytester, tmp_path, served):
    oplog, out = tmp_path / "ops.jsonl", tmp_path / "wire.json"
    result = run_suites(pytester, "--wbem-url", served.url, "--wbem-timeout", "20",
                        "--wbem-operation-log", oplog, "--conformance-json", out)
    assert result.ret == 0, result.stdout.str()
    ops = [json.loads(line) for line in oplog.read_text().splitlines()]
    assert len(ops) > 50
    assert not [o for o in ops if is_write(o["operation"], [o["arguments"].get("arg0")])], \
        "a read-only run issued (or tried) a write operation"
    # the one extrinsic method sent is DSP1033's GetCentralInstances, which only reads
    assert {o["arguments"]["arg0"] for o in ops if o["operation"] == "InvokeMethod"} <= \
        {"GetCentralInstances"}
    doc, wire = verdicts(out)
    assert doc["target"] == served.url and doc["operations"]["writes"] == 0
    assert wire["PR-5"] == "not-applicable"
    assert "--wbem-allow-writes" in next(iter(doc["requirements"]["PR-5"]["subjects"].values()))["message"]


def test_verdicts_over_http_equal_in_process(pytester, tmp_path, served):
    wire_json, local_json = tmp_path / "wire.json", tmp_path / "local.json"
    result = run_suites(pytester, "--wbem-url", served.url, "--wbem-allow-writes",
                        "--conformance-json", wire_json)
    assert result.ret == 0, result.stdout.str()
    result = run_suites(pytester, "--conformance-json", local_json)
    assert result.ret == 0, result.stdout.str()
    _, wire = verdicts(wire_json)
    _, local = verdicts(local_json)
    assert wire == local
