"""Run the pywbemcli lines a report prints and compare what each gives with
what the record says the server answered (tests/test_reproduce_lines.py; by
hand against a real server):

    python tests/reproduce_lines.py RESULTS.json [-r TR-5 -r TR-6] [-j 1]

prints one line per reproduce line (``same``, or ``DIFFERS`` and why) and a
count; exit status 1 when any differs. Lines come from
:func:`wbemconform.reproduce.evidence_commands`, as the HTML report has them;
a line runs with a bounded timeout, without the caller's PYWBEMCLI_*/WBEM_*
variables and proxies, and with its own HOME (no connections file)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from wbemconform.observe.operations import SEQUENCE_NOTE
from wbemconform.reproduce import evidence_commands

TIMEOUT = 60
#: operations whose pywbemcli line prints object names, one a line
NAMES = {"AssociatorNames", "OpenAssociatorInstancePaths", "ReferenceNames",
         "OpenReferenceInstancePaths", "EnumerateInstanceNames",
         "OpenEnumerateInstancePaths", "EnumerateClassNames"}
#: operations whose pywbemcli line prints instances as MOF
INSTANCES = {"Associators", "OpenAssociatorInstances", "References", "OpenReferenceInstances",
             "EnumerateInstances", "OpenEnumerateInstances", "ExecQuery",
             "OpenQueryInstances", "GetInstance"}
_COUNT = re.compile(r"^(\d+) object\(s\): \[")


def pywbemcli_exe():
    beside = Path(sys.executable).with_name("pywbemcli")  # the venv's console script
    return str(beside) if beside.is_file() else "pywbemcli"


def lines_of(doc, requirements=None):
    """[(requirement, subject, evidence index, the line, what the record says)]
    for every evidence of the document that has a pywbemcli line; what the
    record says: (operation, outcome, result, [results of the Pull*
    operations that continued it])."""
    out = []
    for rid, req in doc["requirements"].items():
        if requirements and rid not in requirements:
            continue
        for subject, rec in req.get("subjects", {}).items():
            evidence = rec.get("evidence") or []
            for i, ev in enumerate(evidence):
                line = evidence_commands(doc, doc["target"], ev)["command"]
                if not line or not line.startswith("pywbemcli "):
                    continue
                pulls = []  # the Pull* operations that continued an Open* (next to it)
                for nxt in evidence[i + 1:] if ev["operation"].startswith("Open") else []:
                    if not nxt["operation"].startswith("Pull"):
                        break
                    pulls.append(nxt["result"])
                out.append((rid, subject, i, line,
                            (ev["operation"], ev["outcome"], ev["result"], pulls)))
    return out


def run_line(line, cwd, exe=None):
    """(exit status, stdout, stderr) of one printed line, run as printed (its
    first word, pywbemcli, is the venv's when ``exe`` says so)."""
    argv = shlex.split(line)
    argv[0] = exe or pywbemcli_exe()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYWBEMCLI_", "WBEM_", "HTTP_PROXY", "HTTPS_PROXY",
                                "http_proxy", "https_proxy"))}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["HOME"] = str(cwd)
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd,
                             env=env, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return None, "", f"no answer within {TIMEOUT} s"
    return res.returncode, res.stdout, res.stderr


_HOST = re.compile(r"(^|\[|, )//[^/\s]+/")


def _hostless(text):
    """A path's text without its host: the suite's classic enumerations give
    paths without one where pywbemcli's (pywbem's Iter*) fill it in."""
    return _HOST.sub(r"\1", text)


def _summary(names):
    """The evidence's summary of a list of names (targets/base.py _summary),
    without hosts."""
    items = sorted(_hostless(n) for n in names)[:6]
    more = f", ... ({len(names)} in all)" if len(names) > 6 else ""
    return f"{len(names)} object(s): [" + ", ".join(items) + more + "]"


def compare(recorded, got):
    """None when the line's outcome is the recorded one, else why not."""
    operation, outcome, result, pulls = recorded
    rc, out, err = got
    if rc is None:
        return err
    if "Traceback" in err:
        return "pywbemcli crashed: " + err.strip().splitlines()[-1]
    if outcome == "cim-error":
        status = result.split(":", 1)[0]
        if rc == 0:
            return f"recorded {status}, pywbemcli succeeded: {out.strip()[:200]!r}"
        if status not in err + out:
            return f"recorded {status}, pywbemcli says {(err or out).strip()[:300]!r}"
        return None
    if outcome != "ok":
        return f"recorded outcome {outcome}: nothing to compare"
    if rc != 0:
        return f"recorded {result[:120]!r}, pywbemcli fails: {(err or out).strip()[:300]!r}"
    if operation in NAMES:
        names = [w for w in out.split("\n") if w.strip()]
        if pulls:  # the sequence went on: compare how many in all
            want = sum(int(_COUNT.match(r).group(1)) for r in [result, *pulls])
            return None if len(names) == want else \
                f"recorded {want} name(s) in all, pywbemcli gives {len(names)}"
        # a whole pull sequence is one evidence line, marked as such
        result = result.removesuffix(SEQUENCE_NOTE)
        return None if _summary(names) == _hostless(result) else \
            f"recorded {result[:300]!r}, pywbemcli gives {_summary(names)[:300]!r}"
    if operation in INSTANCES:
        n = len(re.findall(r"^instance of ", out, flags=re.MULTILINE))
        want = 1 if operation == "GetInstance" else \
            sum(int(_COUNT.match(r).group(1)) for r in [result, *pulls])
        return None if n == want else f"recorded {want} instance(s), pywbemcli gives {n}"
    if operation == "GetClass":
        cls = result.removeprefix("class ")
        return None if re.search(rf"^class {re.escape(cls)}\b", out, flags=re.MULTILINE) \
            else f"recorded {result!r}, pywbemcli gives {out.strip()[:200]!r}"
    if operation == "InvokeMethod":
        rv = re.match(r"\(?(\d+)", result)
        return None if rv and re.search(rf"ReturnValue={rv.group(1)}\b", out) else \
            f"recorded {result[:200]!r}, pywbemcli gives {out.strip()[:200]!r}"
    return f"no comparison for {operation}"


def reproduce(doc, requirements=None, workers=3, cwd=None, exe=None):
    """[(requirement, subject, evidence index, line, None or why it differs)],
    each distinct (line, recorded outcome) run once."""
    return reproduce_rows(lines_of(doc, requirements), workers, cwd, exe)


def reproduce_rows(rows, workers=3, cwd=None, exe=None):
    """:func:`reproduce` for rows of :func:`lines_of`."""

    def key(row):
        operation, outcome, result, pulls = row[4]
        return row[3], (operation, outcome, result, tuple(pulls))
    distinct = list(dict.fromkeys(key(r) for r in rows))
    with tempfile.TemporaryDirectory() as tmp:
        where = cwd or tmp
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            got = dict(zip(distinct, pool.map(
                lambda item: compare(item[1], run_line(item[0], where, exe)), distinct)))
    return [(*row[:4], got[key(row)]) for row in rows]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="a --conformance-json document of a CIM-XML URL target")
    ap.add_argument("-r", "--requirement", action="append", default=[],
                    help="only this requirement's records (repeatable)")
    ap.add_argument("-j", "--jobs", type=int, default=1,
                    help="lines run at once (default 1: a real server may not like more)")
    args = ap.parse_args(argv)
    doc = json.loads(Path(args.results).read_text(encoding="utf-8"))
    rows = reproduce(doc, set(args.requirement) or None, workers=args.jobs)
    bad = 0
    for rid, subject, i, line, why in rows:
        bad += why is not None
        print(f"{rid} [{subject}] #{i + 1}: {'same' if why is None else 'DIFFERS: ' + why}\n"
              f"    {line}")
    print(f"{len(rows) - bad} of {len(rows)} line(s) reproduce the recorded outcome")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
