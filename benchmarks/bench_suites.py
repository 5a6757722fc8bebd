"""How the conformance run scales: load (cold and warm), run, and WBEM operations.

Builds mock targets from generated topologies (wbemconform.topology's
bench_topology rendered with render_mof) -- one profile with many elements,
and many profiles with fewer elements each -- and measures, once per size:

* cold load: opening the target with an empty mock cache (the MOF is
  compiled into the mock, and the compiled load is written to the cache);
* warm load: opening it again (the compiled load is read from the cache);
  both in a fresh Python process, as a user's run opens it (the time of
  opening the target, not of starting Python and importing);
* run: the whole catalog (wbemconform.runner.run_catalog) on a target opened
  in this process (from the cache);
* operations: the WBEM operations the run issued, per element and per
  requirement.

Then, per series (same number of profiles, elements x4), the growth of the
run time and of the cold load: linear growth is x4 for objects x4; the bound
is x4.4 (PASS/FAIL).

A last row scales the profiles alone: an interop namespace of 25 and of 100
plain registered profiles (no associations, no elements), the run timed in
this process (the best of three), with the same x4.4 bound for x4 profiles,
judged on CPU time (the mock runs in this process; the wall clock of a
shared machine moves with other processes' load).

The property-based checks run with the ``ci`` hypothesis profile
(derandomized: every run of this script draws the same examples).

    python benchmarks/bench_suites.py            # 1x2,500 1x5,000 1x10,000 50x50 50x200
    python benchmarks/bench_suites.py --quick    # small sizes only
    python benchmarks/bench_suites.py --sizes 1x10000

The mock cache lives in a temporary folder of this run (WBEMCONFORM_CACHE is
set for it), so the user's cache is neither used nor filled.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from wbemconform.catalog import catalog
from wbemconform.hypothesis_profiles import use
from wbemconform.runner import run_catalog
from wbemconform.options import TargetOptions
from wbemconform.targets import open_target
from wbemconform.topology import bench_topology, render_mof

#: growth bound: time may grow x4.4 when objects grow x4
GROWTH_BOUND = 4.4

DEFAULT_SIZES = [(1, 2500), (1, 5000), (1, 10000), (50, 50), (50, 200)]
QUICK_SIZES = [(1, 250), (1, 1000), (10, 25), (10, 100)]
#: the profiles-alone series: plain registered profiles, no associations
PLAIN_PROFILES = (25, 100)
PLAIN_REPEAT = 7


#: what a fresh process runs to time opening a target
_OPEN = """
import json, sys, time
from wbemconform.options import TargetOptions
from wbemconform.targets import open_target
t0 = time.perf_counter()
target = open_target(TargetOptions(mock_mof=[sys.argv[1]]))
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "from_cache": getattr(target.conn, "from_cache", None)}))
"""


def _open_in_new_process(mof):
    """(seconds, from the cache?) of opening the target in a fresh process."""
    done = subprocess.run([sys.executable, "-c", _OPEN, str(mof)], capture_output=True,
                          text=True, timeout=1800, env=os.environ.copy())
    if done.returncode != 0:
        raise SystemExit(f"bench_suites: opening {mof} failed: "
                         f"{(done.stderr.strip().splitlines() or ['?'])[-1]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return answer["seconds"], answer["from_cache"]


def measure(profiles, per_profile, folder):
    """One size: cold load, warm load, run, operations."""
    mof = Path(folder) / f"bench_{profiles}x{per_profile}.mof"
    mof.write_text(render_mof(bench_topology(profiles, per_profile)), encoding="utf-8")
    cold, cold_hit = _open_in_new_process(mof)
    warm, warm_hit = _open_in_new_process(mof)
    target = open_target(TargetOptions(mock_mof=[str(mof)]))
    t0 = time.perf_counter()
    results, _obs = run_catalog(target=target)
    run = time.perf_counter() - t0
    counts = results.counts()
    failing = sorted(rid for rid in catalog() if results.overall(rid) in ("fail", "error"))
    elements = profiles * per_profile
    return {"size": f"{profiles}x{per_profile}", "profiles": profiles, "elements": elements,
            "objects": profiles + elements, "cold": cold, "warm": warm, "run": run,
            "cache": (cold_hit, warm_hit),
            "ops": Counter(c.requirement or "discovery" for c in target.calls),
            "total_ops": len(target.calls), "bad": counts["fail"] + counts["error"],
            "failing": failing, "counts": counts}


def plain_profiles_mof(count):
    """MOF of ``count`` registered profiles in the interop namespace, nothing else."""
    out = ["class Bench_PlainProfile : CIM_RegisteredProfile { };\n"]
    for i in range(count):
        out.append(f'instance of Bench_PlainProfile {{ InstanceID = "bench:plain:{i}"; '
                   f'RegisteredName = "Plain {i}"; RegisteredOrganization = 2; '
                   f'RegisteredVersion = "1.0.0"; }};\n')
    return "".join(out)


def measure_plain(count, folder, repeat=PLAIN_REPEAT):
    """Run time (the best of ``repeat`` runs: they are short, and the machine's
    noise is not) and operations of the whole catalog on ``count`` plain
    profiles."""
    mof = Path(folder) / f"plain_{count}.mof"
    mof.write_text(plain_profiles_mof(count), encoding="utf-8")
    best = cpu = None
    for _ in range(repeat):
        target = open_target(TargetOptions(mock_mof=[str(mof)]))
        t0, c0 = time.perf_counter(), time.process_time()
        results, _obs = run_catalog(target=target)
        seconds, used = time.perf_counter() - t0, time.process_time() - c0
        best = seconds if best is None else min(best, seconds)
        cpu = used if cpu is None else min(cpu, used)
    failing = sorted(rid for rid in catalog() if results.overall(rid) in ("fail", "error"))
    return {"profiles": count, "run": best, "cpu": cpu, "ops": len(target.calls),
            "failing": failing}


def plain_growth(first, last):
    """(text, passed) of the profiles-alone series."""
    factor = last["profiles"] / first["profiles"]
    bound = GROWTH_BOUND * factor / 4
    # judged on CPU time: the embedded mock runs in this process, so CPU time
    # is the whole run's work, and other processes on the machine (a shared
    # CI runner) do not move it as they move the wall clock
    ratio = last["cpu"] / first["cpu"]
    ok = ratio <= bound
    return (f"{first['profiles']} -> {last['profiles']} plain profiles: profiles x{factor:.2f}, "
            f"CPU time x{ratio:.2f} (bound x{bound:.2f}) {'PASS' if ok else 'FAIL'}; "
            f"wall time x{last['run'] / first['run']:.2f}; "
            f"operations x{last['ops'] / first['ops']:.2f}", ok)


def parse_size(text):
    """'1x10000' -> (1, 10000), for argparse."""
    p, _, e = text.lower().partition("x")
    try:
        return int(p), int(e.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected PROFILESxELEMENTS, e.g. 1x10000")


def series(rows):
    """(first, last) of each run of sizes with the same number of profiles."""
    out = []
    for p in sorted({r["profiles"] for r in rows}):
        same = sorted((r for r in rows if r["profiles"] == p), key=lambda r: r["objects"])
        if len(same) > 1:
            out.append((same[0], same[-1]))
    return out


def growth_lines(rows):
    """The growth verdicts: [(text, passed)]."""
    out = []
    for first, last in series(rows):
        factor = last["objects"] / first["objects"]
        # the bound scales with the size step: x4.4 for x4 objects
        bound = GROWTH_BOUND * factor / 4
        for what in ("run", "cold"):
            ratio = last[what] / first[what]
            ok = ratio <= bound
            label = "run time" if what == "run" else "cold load"
            out.append((f"{first['size']} -> {last['size']}: objects x{factor:.2f}, {label} "
                        f"x{ratio:.2f} (bound x{bound:.2f}) {'PASS' if ok else 'FAIL'}", ok))
        ops = last["total_ops"] / first["total_ops"]
        out.append((f"{first['size']} -> {last['size']}: objects x{factor:.2f}, operations "
                    f"x{ops:.2f}", True))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--sizes", nargs="+", type=parse_size, metavar="PxE",
                    help="sizes to measure, e.g. 1x2500 1x10000 50x200")
    args = ap.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    use("ci")  # derandomized: the same examples every run of this script
    rows = []
    with tempfile.TemporaryDirectory(prefix="wbemconform-bench-") as folder:
        os.environ["WBEMCONFORM_CACHE"] = str(Path(folder) / "mock-cache")
        print(f"{'size':>9}  {'cold load':>9}  {'warm load':>9}  {'run':>8}  {'ops':>7}  "
              f"{'ops/elem':>8}  fail+error", flush=True)
        for p, e in sizes:
            row = measure(p, e, folder)
            rows.append(row)
            note = "" if row["cache"] == (False, True) else \
                f"  (cache: cold hit={row['cache'][0]}, warm hit={row['cache'][1]})"
            if row["failing"]:
                note += f"  failing: {', '.join(row['failing'])}"
            print(f"{row['size']:>9}  {row['cold']:8.2f}s  {row['warm']:8.2f}s  "
                  f"{row['run']:7.2f}s  {row['total_ops']:7d}  "
                  f"{row['total_ops'] / row['elements']:8.3f}  {row['bad']}{note}", flush=True)
        plain = [measure_plain(n, folder) for n in PLAIN_PROFILES]
        print(f"\n{'profiles':>9}  {'run':>8}  {'cpu':>8}  {'ops':>7}  (plain registered "
              "profiles, no associations)")
        for row in plain:
            # RP-8 and NS-1 fail by the MOF's design: no DMTF Profile Registration
            # profile, root/interop
            print(f"{row['profiles']:>9}  {row['run']:7.2f}s  {row['cpu']:7.2f}s  "
                  f"{row['ops']:7d}  failing: "
                  f"{', '.join(row['failing']) or 'none'}", flush=True)
    ids = ["discovery"] + list(catalog())
    print("\noperations per requirement")
    print(f"{'req':10}" + "".join(f"{r['size']:>10}" for r in rows))
    for rid in ids:
        if any(r["ops"].get(rid) for r in rows):
            print(f"{rid:10}" + "".join(f"{r['ops'].get(rid, 0):>10}" for r in rows))
    print(f"{'total':10}" + "".join(f"{r['total_ops']:>10}" for r in rows))
    print(f"{'ops/elem':10}" + "".join(f"{r['total_ops'] / r['elements']:>10.3f}" for r in rows))
    print(f"{'run s/1k':10}" + "".join(f"{1000 * r['run'] / r['objects']:>10.2f}" for r in rows))
    print(f"{'cold s/1k':10}" + "".join(f"{1000 * r['cold'] / r['objects']:>10.2f}"
                                        for r in rows))
    print("\ngrowth")
    verdicts = growth_lines(rows) + [plain_growth(plain[0], plain[-1])]
    for text, _ok in verdicts:
        print("  " + text)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory {peak:.0f} MB")
    failed = any(r["bad"] for r in rows) or not all(ok for _t, ok in verdicts)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
