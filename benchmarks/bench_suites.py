"""How the conformance run scales: wall time and WBEM operations per requirement.

Builds mocks from generated topologies -- one profile with many elements, and
many profiles with fewer elements each -- runs the whole catalog (the checks
the suites run) and prints, per size, the wall time, the operations issued
per requirement and the operations per (profile + element). Linear growth
shows as a constant last column.

    python benchmarks/bench_suites.py            # 1x10,000 and 50x200 (+ smaller sizes)
    python benchmarks/bench_suites.py --quick    # small sizes only
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from wbemconform.catalog import catalog
from wbemconform.runner import run_catalog
from wbemconform.target import TargetOptions, open_target
from wbemconform.topology import bench_topology, render_mof


def run(profiles, per_profile, folder):
    mof = Path(folder) / f"bench_{profiles}x{per_profile}.mof"
    mof.write_text(render_mof(bench_topology(profiles, per_profile)), encoding="utf-8")
    t0 = time.perf_counter()
    target = open_target(TargetOptions(mock_mof=[str(mof)]))
    t1 = time.perf_counter()
    results, obs = run_catalog(target=target)
    t2 = time.perf_counter()
    ops = Counter(c.requirement or "discovery" for c in target.calls)
    counts = results.counts()
    bad = counts["fail"] + counts["error"]
    return {"size": f"{profiles}x{per_profile}", "objects": profiles + profiles * per_profile,
            "load": t1 - t0, "run": t2 - t1, "ops": ops, "total_ops": len(target.calls),
            "bad": bad, "counts": counts}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    args = ap.parse_args(argv)
    sizes = [(1, 500), (1, 1000), (10, 50), (10, 100)] if args.quick else \
        [(1, 2500), (1, 5000), (1, 10000), (50, 50), (50, 100), (50, 200)]
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for p, e in sizes:
            row = run(p, e, folder)
            rows.append(row)
            print(f"{row['size']:>9}: load {row['load']:7.2f} s  run {row['run']:7.2f} s  "
                  f"{row['total_ops']:7d} ops  {row['total_ops'] / row['objects']:5.2f} ops/object"
                  f"  fail+error {row['bad']}", flush=True)
    ids = ["discovery"] + list(catalog())
    print("\noperations per requirement")
    print(f"{'req':10}" + "".join(f"{r['size']:>10}" for r in rows))
    for rid in ids:
        if any(r["ops"].get(rid) for r in rows):
            print(f"{rid:10}" + "".join(f"{r['ops'].get(rid, 0):>10}" for r in rows))
    print(f"{'total':10}" + "".join(f"{r['total_ops']:>10}" for r in rows))
    print(f"{'ops/object':10}" + "".join(f"{r['total_ops'] / r['objects']:>10.2f}" for r in rows))
    print(f"{'s/1k obj':10}" + "".join(f"{1000 * r['run'] / r['objects']:>10.2f}" for r in rows))
    for first, last in _series(rows):
        growth = last["objects"] / first["objects"]
        print(f"\n{first['size']} -> {last['size']}: objects x{growth:.1f}, operations "
              f"x{last['total_ops'] / first['total_ops']:.2f}, run time "
              f"x{last['run'] / first['run']:.2f}")
    return 1 if any(r["bad"] for r in rows) else 0


def _series(rows):
    out = []
    for p in sorted({r["size"].split("x")[0] for r in rows}):
        same = [r for r in rows if r["size"].startswith(p + "x")]
        if len(same) > 1:
            out.append((same[0], same[-1]))
    return out


if __name__ == "__main__":
    sys.exit(main())
