"""The pywbemcli lines a report prints reproduce what the server answered:
`wbemconform serve` with a seeded CIMOM defect (--quirk pull-ignores-assocclass,
--quirk role-ignored), `wbemconform check` against it, then every pywbemcli
line of the chosen requirements' records is run as printed and gives the
outcome its record holds (the same names, the same number of instances, the
same CIM status). The pull operation's line and its classic counterpart's
differ in --use-pull alone, and on the quirked server they answer differently,
each as recorded (tests/reproduce_lines.py does the running and comparing; by
hand: python tests/reproduce_lines.py RESULTS.json)."""

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import serve_cli
import zoo
from reproduce_lines import compare, lines_of, pywbemcli_exe, reproduce_rows, run_line
from wbemconform.reproduce import pywbemcli_command

CLI = [sys.executable, "-c", "import sys; from wbemconform.cli import main; sys.exit(main())"]
CHECK_TIMEOUT = 300

#: zoo entry -> (its quirk, the requirement the quirk fails: every line of it
#: runs, the other requirements whose lines run: one line per operation and
#: outcome -- instances, GetInstance, GetClass, CIM errors -- to keep it short)
SERVED = {
    "cimom-pull-ignores-assocclass": ("pull-ignores-assocclass", "TR-6",
                                      {"TR-6", "TR-4", "ER-1", "EC-5", "RP-11"}),
    "cimom-ignores-role": ("role-ignored", "TR-5", {"TR-5"}),
}

needs_pywbemcli = pytest.mark.skipif(
    not (Path(pywbemcli_exe()).is_file() or shutil.which("pywbemcli")),
    reason="pywbemcli is not installed (pip install 'pywbemtools>=1.2,<2', part of the "
           "test extras)")


@pytest.fixture(scope="module", params=sorted(SERVED))
def served(request, tmp_path_factory):
    """(zoo entry, URL, results document, HTML report) of a check of the
    entry's MOF served with its quirk."""
    name = request.param
    quirk, _, _ = SERVED[name]
    manifest = zoo.manifest(name)
    assert manifest["quirks"] == [quirk]
    mofs = [str(zoo.ZOO / name / m) for m in manifest.get("mofs", ["defect.mof"])]
    # from the zoo's folder: the MOF's #pragma include of ../_common stays inside it
    with serve_cli.served("--read-only", "--quirk", quirk,
                          *[w for m in mofs for w in ("--mof", m)], cwd=zoo.ZOO,
                          expect=r"\(read-only, quirk " + re.escape(quirk)) as (_, url):
        out = tmp_path_factory.mktemp(name)
        run = subprocess.run(
            CLI + ["check", "-q", "--wbem-url", url, "--wbem-workers", "2",
                   "--wbem-flavor", manifest.get("flavor", "auto"),
                   "--conformance-json", str(out / "c.json"),
                   "--conformance-report", str(out / "c.html")],
            cwd=out, capture_output=True, text=True, timeout=CHECK_TIMEOUT,
            stdin=subprocess.DEVNULL)
        assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]  # it fails
        doc = json.loads((out / "c.json").read_text(encoding="utf-8"))
        yield name, url, doc, (out / "c.html").read_text(encoding="utf-8")


def _records(doc, rid):
    return doc["requirements"][rid]["subjects"]


@needs_pywbemcli
def test_printed_pywbemcli_lines_give_the_recorded_outcome(served, tmp_path):
    name, url, doc, page = served
    _, failing, chosen = SERVED[name]
    assert {r["verdict"] for r in _records(doc, failing).values()} == {"fail"}
    rows, seen = [], set()
    for row in lines_of(doc, chosen):
        kind = (row[0], row[4][0], row[4][1])  # requirement, operation, outcome
        if row[0] == failing or kind not in seen:
            rows.append(row)
            seen.add(kind)
    assert {r[0] for r in rows} == chosen  # every chosen requirement has lines
    rows = reproduce_rows(rows, workers=3, cwd=tmp_path)
    differ = [(rid, subject, i, line, why) for rid, subject, i, line, why in rows if why]
    assert not differ, differ
    ran = {r[3] for r in rows}
    assert all(line.startswith(f"pywbemcli -s {url} ") for line in ran)
    # the report prints lines of the failing records only: each is one that ran
    printed = {html.unescape(m) for m in re.findall(r"<code>(pywbemcli [^<]*)</code>", page)}
    printed |= {html.unescape(m) for m in re.findall(r"^(pywbemcli -s [^<\n]*)$", page,
                                                     flags=re.MULTILINE)}
    assert printed and printed <= ran, printed - ran
    # the pull lines and the classic ones both ran
    assert any(" --use-pull no " in line for line in ran)
    assert any(" --use-pull yes " in line for line in ran) == (failing == "TR-6")
    assert not any(os.environ.get("WBEM_PASSWORD", "\0") in line for line in ran)


@needs_pywbemcli
def test_pull_and_classic_lines_differ_in_use_pull_alone(served, tmp_path):
    """TR-6's evidence pairs each pull operation with its classic counterpart:
    the two lines are the same but for --use-pull yes/no; where the seeded
    quirk makes the pull operation ignore AssocClass, the record (and the
    line run above) gives more names for the pull line than the classic one."""
    name, url, doc, _ = served
    pairs = 0
    classic_of = {"OpenAssociatorInstancePaths": "AssociatorNames",
                  "OpenReferenceInstancePaths": "ReferenceNames",
                  "OpenEnumerateInstancePaths": "EnumerateInstanceNames"}
    for subject, rec in _records(doc, "TR-6").items():
        for ev in rec.get("evidence") or []:
            if ev["operation"] not in classic_of:
                continue
            args = {k: v for k, v in ev["arguments"].items() if k != "MaxObjectCount"}
            pulled = pywbemcli_command(url, ev, doc["options"])
            classic = pywbemcli_command(url, {"operation": classic_of[ev["operation"]],
                                              "arguments": args}, doc["options"])
            assert " --use-pull yes " in pulled and " --use-pull no " in classic
            assert pulled.replace(" --use-pull yes ", " --use-pull no ") == classic
            pairs += 1
    assert pairs
    if name == "cimom-pull-ignores-assocclass":
        ev = _records(doc, "TR-6")
        (rec,) = [r for r in ev.values() if r["verdict"] == "fail"]
        pulled, classic = rec["evidence"][:2]
        assert (pulled["operation"], classic["operation"]) == \
            ("OpenAssociatorInstancePaths", "AssociatorNames")
        n = [int(e["result"].split(" ", 1)[0]) for e in (pulled, classic)]
        assert n[0] > n[1], n
        # the negative control: the pull line with the classic operation (what
        # pywbemcli's default gives where pull operations fail) does not give
        # what the pull operation answered
        line = pywbemcli_command(url, pulled, doc["options"])
        wrong = line.replace(" --use-pull yes ", " --use-pull no ")
        recorded = (pulled["operation"], pulled["outcome"], pulled["result"], [])
        assert compare(recorded, run_line(line, tmp_path)) is None
        assert compare(recorded, run_line(wrong, tmp_path)) is not None


def test_lines_of_reads_every_evidence_with_a_line():
    """The runner's reading of a document: Pull* results that continue an
    Open* are kept with it, and evidence without a pywbemcli line is left out."""
    path = 'root/interop:P.InstanceID="p"'
    doc = {"target": "http://127.0.0.1:5988", "protocol": "CIM-XML", "options": {},
           "requirements": {"TR-6": {"subjects": {"s": {"evidence": [
               {"operation": "OpenAssociatorInstancePaths",
                "arguments": {"arg0": path, "AssocClass": "A", "MaxObjectCount": 1000},
                "outcome": "ok", "result": "1000 object(s): [...]"},
               {"operation": "PullInstancePaths", "arguments": {"arg0": "ctx"},
                "outcome": "ok", "result": "5 object(s): [...]"},
               {"operation": "CreateInstance", "arguments": {"arg0": "instance of X {}"},
                "outcome": "ok", "result": "X"}]}}}}}
    (row,) = lines_of(doc)
    assert row[:3] == ("TR-6", "s", 0)
    assert row[3].startswith("pywbemcli -s http://127.0.0.1:5988 --use-pull yes ")
    assert row[4][3] == ["5 object(s): [...]"]


def test_compare_tells_outcomes_apart():
    names = ["//h:1/root/cimv2:X.k=1", "//h:1/root/cimv2:X.k=2"]
    rec = ("AssociatorNames", "ok", "2 object(s): [root/cimv2:X.k=1, root/cimv2:X.k=2]", [])
    assert compare(rec, (0, "\n".join(names) + "\n", "")) is None
    assert "pywbemcli gives" in compare(rec, (0, names[0] + "\n", ""))
    assert "pywbemcli fails" in compare(rec, (1, "", "Error: CIMError: 6"))
    err = ("GetInstance", "cim-error", "CIM_ERR_NOT_FOUND: no such instance", [])
    assert compare(err, (1, "", "Error: CIMError: 6 (CIM_ERR_NOT_FOUND): gone")) is None
    assert "CIM_ERR_NOT_FOUND" in compare(err, (1, "", "Error: CIMError: 5 (CIM_ERR_INVALID_CLASS)"))
    assert "succeeded" in compare(err, (0, "instance of X {\n};\n", ""))
    inst = ("Associators", "ok", "2 object(s): [a, b]", [])
    assert compare(inst, (0, "instance of X {\n};\n\ninstance of X {\n};\n", "")) is None
    assert compare(inst, (0, "instance of X {\n};\n", "")) is not None
    pulled = ("OpenAssociatorInstancePaths", "ok", "1 object(s): [a]", ["1 object(s): [b]"])
    assert compare(pulled, (0, "//h/n:X.k=1\n//h/n:X.k=2\n", "")) is None
    assert compare(rec, (None, "", "no answer within 60 s")) == "no answer within 60 s"
