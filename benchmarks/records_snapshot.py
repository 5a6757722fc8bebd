"""Every record of every defect-zoo entry, in process and served over CIM-XML,
as one JSON file -- and the difference between two such files.

    python benchmarks/records_snapshot.py snapshot OUT.json
    python benchmarks/records_snapshot.py snapshot OUT.json dup-triple missing-version  # these
    python benchmarks/records_snapshot.py compare BEFORE.json AFTER.json

A refactoring that changes no behaviour leaves the snapshot the same: the
verdict, message, problems and evidence of every (requirement, subject), and
the operations issued. The property-based checks draw derandomized examples,
so two runs of one version give the same file; pull enumeration contexts and
the served port are left out (a server names them as it likes).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def _hostless(text):
    """A text without what differs from one checkout or run to the next: the
    served port, and the checkout's own folder."""
    text = re.sub(r"//127\.0\.0\.1:\d+/", "//SERVER/", str(text))
    return text.replace(str(REPO), "REPO")


def _records(session):
    out = {}
    for rid, recs in session.results.records.items():
        for subject, rec in recs.items():
            evidence = [[e["operation"], None if e["operation"].startswith("Pull") else
                         {k: _hostless(v) for k, v in e["arguments"].items()},
                         e["outcome"], _hostless(e["result"])] for e in rec.evidence]
            out[f"{rid} | {subject}"] = [rec.verdict, _hostless(rec.message),
                                         [_hostless(p) for p in rec.problems], evidence]
    calls = session.target.calls if session.target is not None else []
    return {"records": out, "operations": len(calls)}


def snapshot(out_path, only=()):
    from hypothesis import settings
    settings.register_profile("records-snapshot", parent=settings.default, derandomize=True,
                              database=None)
    settings.load_profile("records-snapshot")
    import zoo
    from wbemconform.runner import run_session
    from wbemconform.server import serve
    from wbemconform.options import TargetOptions
    from wbemconform.targets import open_target
    doc = {}
    unknown = sorted(set(only) - set(zoo.entries()))
    if unknown:
        raise SystemExit(f"records_snapshot: no zoo entry named {', '.join(unknown)}")
    for name in [n for n in zoo.entries() if not only or n in only]:
        try:
            opts = zoo.options(name)
        except BaseException as exc:  # noqa: BLE001 -- pytest.skip: a schema-less machine
            print(f"{name}: skipped ({exc})", file=sys.stderr)
            continue
        local = run_session(opts)
        mock = open_target(opts).conn
        with serve(mock) as server:
            served = run_session(TargetOptions(
                url=server.url, timeout=20, allow_writes=True, flavor=opts.flavor,
                workers=1, profile_defs=opts.profile_defs,
                interop_namespace=opts.interop_namespace))
        doc[name] = {"in-process": _records(local), "served": _records(served)}
        print(f"{name}: {len(doc[name]['in-process']['records'])} records", file=sys.stderr)
    Path(out_path).write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")


def compare(before_path, after_path):
    before = json.loads(Path(before_path).read_text(encoding="utf-8"))
    after = json.loads(Path(after_path).read_text(encoding="utf-8"))
    differences = 0
    for name in sorted(set(before) | set(after)):
        if name not in before or name not in after:
            print(f"{name}: only in {'after' if name in after else 'before'}")
            differences += 1
            continue
        for mode in ("in-process", "served"):
            b, a = before[name][mode], after[name][mode]
            if b["operations"] != a["operations"]:
                print(f"{name} [{mode}]: operations {b['operations']} -> {a['operations']}")
                differences += 1
            for key in sorted(set(b["records"]) | set(a["records"])):
                if b["records"].get(key) != a["records"].get(key):
                    print(f"{name} [{mode}] {key}:\n  before {b['records'].get(key)}\n"
                          f"  after  {a['records'].get(key)}")
                    differences += 1
    entries = len(set(before) & set(after))
    records = sum(len(before[n][m]["records"]) for n in set(before) & set(after)
                  for m in ("in-process", "served"))
    print(f"{entries} zoo entries, {records} records compared (in process and served): "
          f"{'identical' if not differences else f'{differences} difference(s)'}")
    return 1 if differences else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "snapshot":
        snapshot(argv[1], argv[2:])
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
