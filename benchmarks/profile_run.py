"""Where a conformance run spends its time: one run of the whole catalog on a
generated mock target (one profile with N elements by default), profiled.

    python benchmarks/profile_run.py                  # 1x10,000, cProfile: the top functions
    python benchmarks/profile_run.py --flame          # py-spy samples -> a text flame graph
    python benchmarks/profile_run.py --flame --size 50x200 --min-pct 1 --depth 8
    python benchmarks/profile_run.py --flame --root run_check --depth 3  # the checks
    python benchmarks/profile_run.py --flame --folded run.folded   # keep the samples

``--flame`` runs this script again under py-spy (``pip install py-spy``;
sampling, so the run is timed as it is, unlike under cProfile) and prints
the samples under ``run_catalog`` as a tree: each line is a function, with
the share of the run's samples spent in it and below it, its callees
indented under it (lines under ``--min-pct`` are left out). ``--folded``
keeps py-spy's raw stacks (one line per stack, a count at the end), which
flamegraph.pl or speedscope draw as pictures.

The target is opened before the profile starts (from a mock cache in a
temporary folder: the load is bench_suites.py's business), so the profile
is the run alone.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wbemconform.runner import run_catalog
from wbemconform.options import TargetOptions
from wbemconform.targets import open_target
from wbemconform.topology import bench_topology, render_mof

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_suites import parse_size  # noqa: E402  (the same PxE sizes)

ROOT = "run_catalog"
SAMPLE_RATE = 200  # py-spy samples per second
RUN_LIMIT = 1800  # seconds the profiled child may take


def open_generated(size, folder):
    """The mock target of a generated topology of ``size`` (profiles, elements)."""
    profiles, elements = size
    mof = Path(folder) / f"profile_{profiles}x{elements}.mof"
    mof.write_text(render_mof(bench_topology(profiles, elements)), encoding="utf-8")
    return open_target(TargetOptions(mock_mof=[str(mof)]))


def run(target, profiler=None):
    """Run the catalog once; (seconds, operations, verdict counts)."""
    t0 = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    results, _obs = run_catalog(target=target)
    if profiler is not None:
        profiler.disable()
    return time.perf_counter() - t0, len(target.calls), results.counts()


_FRAME = re.compile(r" \((?:.*/)?([^/]+?):\d+\)$")


def flame_tree(lines, root=ROOT, min_pct=2.0, depth=6):
    """Text lines of a flame graph of py-spy raw stacks (``"f (file:line);g
    (file:line) N"``): the samples whose stack holds ``root``, as a tree
    below it, each node with its share of those samples."""
    top = {"n": 0, "kids": {}}
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_FRAME.sub(r" (\1)", f) for f in stack.split(";")]
        at = next((i for i, f in enumerate(frames) if f.split(" (")[0] == root), None)
        if at is None:
            continue
        node = top
        node["n"] += int(count)
        for frame in frames[at + 1:at + 1 + depth]:
            node = node["kids"].setdefault(frame, {"n": 0, "kids": {}})
            node["n"] += int(count)
    total = top["n"]
    if not total:
        return [f"no samples under {root}"]
    out = [f"100.0%  {root} ({total} samples)"]

    def show(node, level):
        for name, kid in sorted(node["kids"].items(), key=lambda kv: -kv[1]["n"]):
            share = 100 * kid["n"] / total
            if share >= min_pct:
                out.append(f"{share:5.1f}%  {'  ' * level}{name}")
                show(kid, level + 1)
    show(top, 1)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=parse_size, default=(1, 10000), metavar="PxE",
                    help="profiles x elements (default 1x10000)")
    ap.add_argument("--flame", action="store_true", help="sample with py-spy: a flame graph")
    ap.add_argument("--folded", help="with --flame: keep py-spy's raw stacks in this file")
    ap.add_argument("--root", default=ROOT,
                    help=f"the function the tree starts from (default {ROOT}; e.g. run_check: "
                         "the checks alone)")
    ap.add_argument("--min-pct", type=float, default=2.0, help="smallest share shown")
    ap.add_argument("--depth", type=int, default=6, help="levels shown below the run")
    ap.add_argument("--top", type=int, default=30, help="without --flame: functions shown")
    ap.add_argument("--plain-run", action="store_true", help=argparse.SUPPRESS)  # the child
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wbemconform-profile-") as folder:
        os.environ.setdefault("WBEMCONFORM_CACHE", str(Path(folder) / "mock-cache"))
        if args.flame:
            return _flame(args, folder)
        target = open_generated(args.size, folder)
        profiler = None if args.plain_run else cProfile.Profile()
        seconds, ops, counts = run(target, profiler)
        label = "run" if profiler is None else "run under cProfile (slower than it is)"
        print(f"{label}: {seconds:.2f}s, {ops} operations, "
              + ", ".join(f"{k} {v}" for k, v in counts.items() if v), flush=True)
        if profiler is not None:
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
    return 0


def _flame(args, folder):
    spy = shutil.which("py-spy")
    if spy is None:
        print("profile_run: --flame needs py-spy (pip install py-spy); without --flame "
              "the run is profiled with cProfile", file=sys.stderr)
        return 2
    folded = args.folded or str(Path(folder) / "run.folded")
    size = f"{args.size[0]}x{args.size[1]}"
    cmd = [spy, "record", "-r", str(SAMPLE_RATE), "-f", "raw", "-o", folded, "--",
           sys.executable, str(Path(__file__).resolve()), "--size", size, "--plain-run"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_LIMIT)
    except subprocess.TimeoutExpired:
        print(f"profile_run: the profiled run took over {RUN_LIMIT} s", file=sys.stderr)
        return 1
    said = [ln for ln in done.stdout.splitlines() if ln.startswith("run")]
    if done.returncode != 0 or not Path(folded).is_file():
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"profile_run: py-spy failed: {why}", file=sys.stderr)
        return 1
    print(f"size {size}; " + (said[-1] if said else "run: ?"))
    with open(folded, encoding="utf-8") as f:
        print("\n".join(flame_tree(f, root=args.root, min_pct=args.min_pct,
                                    depth=args.depth)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
