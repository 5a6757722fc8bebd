"""The same conformance run over CIM-XML and over WS-Management.

    python benchmarks/bench_wsman.py                      # the served mock, both protocols
    python benchmarks/bench_wsman.py --omi URL --user U   # also OMI (password: $WBEM_PASSWORD)

Prints, per target and protocol, the wall time of one in-process run (the
engine the suites use: wbemconform.runner), the operations issued, the gate,
and the WS-Man/CIM-XML ratio (one run each; the goal is at most 2x). OMI
speaks only WS-Management: its row has no ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from hypothesis import settings

from wbemconform.hypothesis_profiles import use
from wbemconform.mock import connect
from wbemconform.options import TargetOptions
from wbemconform.runner import run_session
from wbemconform.server import default_apps, serve


def one_run(url, **extra):
    start = time.perf_counter()
    session = run_session(TargetOptions(url=url, timeout=30, workers=1, **extra))
    seconds = time.perf_counter() - start
    calls = len(session.target.calls) if session.target is not None else 0
    return seconds, calls, session.gate().status


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--omi", metavar="URL", help="a live OMI WS-Management URL (…/wsman)")
    ap.add_argument("--user", help="its user (password: $WBEM_PASSWORD)")
    args = ap.parse_args(argv)
    use("ci")  # derandomized: both protocols draw the same examples
    settings.register_profile("bench-wsman", parent=settings.default, database=None)
    rows = []
    with serve(connect(), apps=default_apps()) as server:
        cimxml = one_run(server.url)
        wsman = one_run(server.url + "/wsman")
    rows.append(("served mock", "CIM-XML", *cimxml, ""))
    rows.append(("served mock", "WS-Man", *wsman, f"{wsman[0] / cimxml[0]:.2f}x"))
    if args.omi:
        password = os.environ.get("WBEM_PASSWORD")
        rows.append(("OMI", "WS-Man", *one_run(args.omi, user=args.user, password=password), ""))
    print(f"{'target':12} {'protocol':9} {'wall':>8} {'ops':>6}  {'gate':8} WS-Man/CIM-XML")
    for target, protocol, seconds, ops, gate, ratio in rows:
        print(f"{target:12} {protocol:9} {seconds:7.2f}s {ops:6d}  {gate:8} {ratio}")
    ratio = wsman[0] / cimxml[0]
    print(f"\nserved mock: WS-Man/CIM-XML wall time {ratio:.2f}x (goal <= 2x): "
          f"{'PASS' if ratio <= 2 else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
