#!/usr/bin/env python
"""Benchmark the HTML conformance report on a big target.

Usage::

    python benchmarks/bench_report.py [--profiles 50] [--elements 200]
                                      [--fail-every 29] [--out PATH]

Builds a synthetic results document the way the plugin does (a
``wbemconform.results.Results`` filled with verdicts, evidence as
``target.Call`` records, then ``Results.to_json``): P registered profiles,
each with its own association class, so P profile subjects and P association
subjects, with every catalog requirement recorded on each of its subjects
(plus property-based variants where the suites have them). Every
``--fail-every``-th record fails (some with an error instead), with the
evidence a real check leaves: an AssociatorNames per element of the profile
(N elements) and a problem per element. A few failures are waived, one by an
expired waiver.

Times ``render_report`` (best of 3, after a warm-up that loads the templates)
and prints the time and the HTML size against the targets (< 2 s, < 5 MB).
Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from wbemconform.catalog import catalog
from wbemconform.gate import decide
from wbemconform.report import render_report
from wbemconform.results import TARGET_SUBJECT, Results
from wbemconform.targets.base import Call
from wbemconform.waivers import Waiver

TARGET_SECONDS = 2.0
TARGET_BYTES = 5 * 1024 * 1024
# requirements whose suites also record a property-based verdict
PROPERTY_BASED = {"RP-3", "EC-4", "RC-1"}


def profile_label(i):
    return f"Vendor Profile {i:02d} 1.0.0"


def association_label(i):
    return (f"{profile_label(i)} -> root/vendor{i:02d}:"
            f"Vendor_Profile{i:02d}_ElementConformsToProfile_v1")


def element_path(i, k):
    return (f"//server:5989/root/vendor{i:02d}:Vendor_Element{i:02d}."
            f"CreationClassName=\"Vendor_Element{i:02d}\",Name=\"element-{k:04d}\"")


def evidence(i, elements):
    profile = f'root/interop:Vendor_RegisteredProfile.InstanceID="Vendor:Profile{i:02d}"'
    calls = [Call("AssociatorNames",
                  {"arg0": profile,
                   "AssocClass": f"Vendor_Profile{i:02d}_ElementConformsToProfile_v1",
                   "ResultClass": f"Vendor_Element{i:02d}"},
                  "ok", "0 object(s): []", 0.001)]
    for k in range(elements):
        calls.append(Call("AssociatorNames", {"arg0": element_path(i, k),
                                              "ResultClass": "CIM_RegisteredProfile"},
                          "cim-error" if k % 7 == 0 else "ok",
                          "CIM_ERR_FAILED: provider not found" if k % 7 == 0
                          else f"1 object(s): [{profile}]", 0.001))
    return calls


def build(profiles, elements, fail_every):
    results = Results()
    waivers = [Waiver("EC-2", "legacy class names until release 3", None,
                      dt.date(2099, 12, 31), "bench"),
               Waiver("TR-2", "provider fix pending", "Profile 0", dt.date(2020, 1, 1), "bench")]
    n = 0
    for rid, req in catalog().items():
        if req.subject == "target":
            labels = [(TARGET_SUBJECT, None)]
        elif req.subject == "profile":
            labels = [(profile_label(i), i) for i in range(profiles)]
        else:
            labels = [(association_label(i), i) for i in range(profiles)]
        if rid in PROPERTY_BASED:
            labels += [(f"{label} [property-based]", i) for label, i in labels]
        for label, i in labels:
            n += 1
            i = i or 0
            if n % fail_every:
                results.add(rid, label, "pass", test=f"suites/test_x.py::test_{rid}[{label}]")
                continue
            verdict = "error" if n % (fail_every * 5) == 0 else "fail"
            problems = [f"AssociatorNames({element_path(i, k)}, ResultClass="
                        f"CIM_RegisteredProfile) does not reach {profile_label(i)}"
                        for k in range(elements)]
            waiver = next((w for w in waivers if w.matches(rid, label)), None)
            if waiver:
                waiver.used.append(label)
            results.add(rid, label, verdict,
                        f"{len(problems)} problems: {problems[0]} ...", problems,
                        evidence(i, elements), waiver.as_dict() if waiver else None,
                        test=f"suites/test_x.py::test_{rid}[{label}]")
    doc = results.to_json(
        target="https://server.example.com:5989", flavor="dmtf",
        flavor_reason="auto: no __Win32Provider", interop_namespace="interop",
        server={"brand": "Vendor CIMOM", "description": "Vendor CIM server 9.1"},
        operations={"total": 123456, "by_requirement": {}, "writes": 0}, waivers=waivers,
        gate=decide(results, None, []))  # the gate the plugin writes: wbemconform.gate
    return json.loads(json.dumps(doc, default=str)), n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profiles", type=int, default=50)
    ap.add_argument("--elements", type=int, default=200)
    ap.add_argument("--fail-every", type=int, default=29)
    ap.add_argument("--out", help="also write the report here")
    args = ap.parse_args(argv)

    doc, n = build(args.profiles, args.elements, args.fail_every)
    c = doc["counts"]
    evidence_calls = sum(len(r.get("evidence", ())) for q in doc["requirements"].values()
                         for r in q["subjects"].values())
    print(f"document: {args.profiles} profiles x {args.elements} elements: {n} records "
          f"({c['pass']} pass, {c['fail']} fail, {c['error']} error, {c['waived']} waived), "
          f"{evidence_calls} evidence calls, JSON {len(json.dumps(doc)) / 1e6:.1f} MB")
    render_report(doc)  # warm-up: templates compiled
    times = []
    for _ in range(3):
        t = time.perf_counter()
        html = render_report(doc)
        times.append(time.perf_counter() - t)
    best, size = min(times), len(html.encode("utf-8"))
    ok_time, ok_size = best < TARGET_SECONDS, size < TARGET_BYTES
    print(f"render_report: best of 3 {best:.3f} s (runs: "
          f"{', '.join(f'{t:.3f}' for t in times)}) -- target < {TARGET_SECONDS:.0f} s: "
          f"{'OK' if ok_time else 'MISSED'}")
    print(f"HTML size: {size / 1e6:.2f} MB ({size} bytes) -- target < 5 MB: "
          f"{'OK' if ok_size else 'MISSED'}")
    if args.out:
        Path(args.out).write_text(html, encoding="utf-8")
        print(f"report: {args.out}")
    return 0 if ok_time and ok_size else 1


if __name__ == "__main__":
    sys.exit(main())
