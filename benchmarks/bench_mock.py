#!/usr/bin/env python
"""Benchmark the embedded WMI-style mock against stock pywbem_mock.

Usage::

    python benchmarks/bench_mock.py [--elements N] [--quick] [--sample K]
                                    [--seed S] [--profile]

Ours: ``wbemconform.mock.connect()`` loaded with a generated WMI-dialect MOF
file -- the spec's Process profile (the statements of
``profiles/examples/process.mof`` up to its "spec end" marker: ProcessProfile
and $PP, the Dynamic association class in root\\interop and root\\cimv2 with
MSFT_TargetNamespace, the provider registrations in both namespaces) plus N
``instance of Win32_Process`` in root\\cimv2. Association operations go
through the broker and the generic ConformsToProfileProvider (the dynamic
path).

Baseline: a plain ``pywbem_mock.FakedWBEMConnection`` holding the same data
on pywbem_mock's own static-instance path: the schema in DSP0004 form
(qualifiers.mof, interop.mof, cimv2.mof -- which compile with stock
pywbem_mock), the association class declared with ``[Association]`` and
``Override`` and without Dynamic/Provider, the same N Win32_Process instances
and N static association instances created in root/cimv2. (pywbem_mock treats
an association instance whose references point into several namespaces as a
multi-namespace instance and stores it in each of them, so the baseline has
the N association instances in root/interop as well, as ours serves them in
both namespaces.)

Only the project's own dependencies (pywbem, pywbem_mock) are used. Times are
time.perf_counter() wall-clock; every timed operation is run once untimed
first (warm-up); the first ("cold") enumeration is reported separately.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import random
import sys
import tempfile
import time
import warnings
from pathlib import Path

from pywbem import CIMInstance
from pywbem_mock import FakedWBEMConnection

from wbemconform.mock import connect, profiles_dir

ASSOC = "Microsoft_Process_ElementConformsToProfile_v1"
INTEROP = "root/interop"
CIMV2 = "root/cimv2"
SPEC_END = "// ------------------------------------------------------------ spec end"

PROCESS_KEYS = (
    ("CSCreationClassName", "Win32_ComputerSystem"),
    ("CSName", "BENCHHOST"),
    ("OSCreationClassName", "Win32_OperatingSystem"),
    ("OSName", "Microsoft Windows"),
    ("CreationClassName", "Win32_Process"),
)


# ---------------------------------------------------------------------------
# MOF generation
# ---------------------------------------------------------------------------

def process_instances_mof(n: int) -> str:
    """N ``instance of Win32_Process`` with all six CIM_Process keys."""
    fixed = "".join(f'    {k} = "{v}";\n' for k, v in PROCESS_KEYS)
    return "".join(
        "instance of Win32_Process\n{\n" + fixed +
        f'    Handle = "{i}";\n    Name = "bench{i}.exe";\n    ProcessId = {i};\n}};\n'
        for i in range(n))


def spec_profile_mof() -> str:
    """The spec's Process profile, as in profiles/examples/process.mof (the
    text up to its "spec end" marker), WMI dialect, unchanged."""
    text = (profiles_dir() / "examples" / "process.mof").read_text(encoding="utf-8")
    head, sep, _ = text.partition(SPEC_END)
    if not sep:
        raise SystemExit(f"process.mof has no {SPEC_END!r} marker; cannot cut the spec part")
    return head + sep + "\n"


def wmi_mof(n: int) -> str:
    return (spec_profile_mof() +
            '\n#pragma namespace("\\\\\\\\.\\\\root\\\\cimv2")\n\n' +
            process_instances_mof(n))


# DSP0004 form of the profile for stock pywbem_mock.
BASELINE_PROFILE_MOF = """
class ProcessProfile : CIM_RegisteredProfile
{
};

instance of ProcessProfile
{
     InstanceID = "Process";
     RegisteredName = "Process";
     RegisteredOrganization = 1;
     OtherRegisteredOrganization = "Microsoft";
     RegisteredVersion = "1.0";
};
"""

BASELINE_ASSOC_CLASS_MOF = f"""
[Association]
class {ASSOC} : CIM_ElementConformsToProfile
{{
     [Override("ConformantStandard")] CIM_RegisteredProfile REF ConformantStandard;
     [Override("ManagedElement")] Win32_Process REF ManagedElement;
}};
"""


def _mof_str(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def baseline_assoc_instances_mof(n: int) -> str:
    profile = '/root/interop:ProcessProfile.InstanceID="Process"'
    out = []
    for i in range(n):
        # Win32_Process is keyed by Handle alone (profiles/schema/cimv2.mof)
        element = f'/root/cimv2:Win32_Process.Handle="{i}"'
        out.append(f"instance of {ASSOC}\n{{\n"
                   f'    ConformantStandard = "{_mof_str(profile)}";\n'
                   f'    ManagedElement = "{_mof_str(element)}";\n}};\n')
    return "".join(out)


# ---------------------------------------------------------------------------
# building the two servers
# ---------------------------------------------------------------------------

def build_ours(n: int, tmp: Path):
    path = tmp / f"bench_process_{n}.mof"
    path.write_text(wmi_mof(n), encoding="utf-8")
    t0 = time.perf_counter()
    # the compiler is what is compared: no cache (benchmarks/bench_suites.py
    # measures loads from the cache)
    conn = connect(mof_files=[path], cache=False)
    return conn, time.perf_counter() - t0


def build_baseline(n: int):
    """Returns (conn, {phase: seconds})."""
    schema = profiles_dir() / "schema"
    times = {}
    t0 = time.perf_counter()
    conn = FakedWBEMConnection(default_namespace=INTEROP)
    conn.add_namespace(CIMV2)
    for ns in (INTEROP, CIMV2):
        conn.compile_mof_file(str(schema / "qualifiers.mof"), namespace=ns)
        conn.compile_mof_file(str(schema / "interop.mof"), namespace=ns)
        # stock pywbem_mock wants the class of every reference in the namespace
        # of the association class, so Win32_Process is declared in root/interop too
        conn.compile_mof_file(str(schema / "cimv2.mof"), namespace=ns)
    conn.compile_mof_string(BASELINE_PROFILE_MOF, namespace=INTEROP)
    conn.compile_mof_string(BASELINE_ASSOC_CLASS_MOF, namespace=INTEROP)
    conn.compile_mof_string(BASELINE_ASSOC_CLASS_MOF, namespace=CIMV2)
    times["schema+profile"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    conn.compile_mof_string(process_instances_mof(n), namespace=CIMV2)
    times["elements"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    conn.compile_mof_string(baseline_assoc_instances_mof(n), namespace=CIMV2)
    times["associations"] = time.perf_counter() - t2
    times["total"] = time.perf_counter() - t0
    return conn, times


# ---------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------

class Timing:
    def __init__(self, calls, total, results=None, extrapolated_from=None, cold=False):
        self.calls = calls
        self.total = total
        self.results = results
        self.extrapolated_from = extrapolated_from  # number of calls actually timed
        self.cold = cold

    @property
    def per_op(self):
        return self.total / self.calls if self.calls else float("nan")


PROFILE = None  # a cProfile.Profile when --profile is given (ours only)


def run(fn, args_list, warmup=True, profile=False):
    """Call fn(arg) for each arg; (seconds, list of results)."""
    if warmup and args_list:
        fn(args_list[0])
    gc.collect()
    prof = PROFILE if (profile and PROFILE is not None) else None
    out = []
    if prof is not None:
        prof.enable()
    t0 = time.perf_counter()
    for a in args_list:
        out.append(fn(a))
    dt = time.perf_counter() - t0
    if prof is not None:
        prof.disable()
    return dt, out


def fmt_time(s):
    if s != s:  # nan
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} µs"


def fmt_ratio(base, ours):
    if base is None or ours is None or ours <= 0 or base <= 0:
        return "-"
    r = base / ours
    return f"{r:.1f}x faster" if r >= 1 else f"{1 / r:.1f}x slower"


# ---------------------------------------------------------------------------
# the benchmark
# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--elements", "-n", type=int, default=10000,
                    help="number of Win32_Process elements (default 10000)")
    ap.add_argument("--quick", action="store_true", help="N = 500")
    ap.add_argument("--sample", type=int, default=25,
                    help="elements sampled for the baseline's O(n)-per-call AssociatorNames "
                         "(default 25)")
    ap.add_argument("--ref-sample", type=int, default=10,
                    help="elements sampled for References, both sides (default 10)")
    ap.add_argument("--reps", type=int, default=2,
                    help="repetitions of each whole-class call (default 2)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--profile", action="store_true",
                    help="cProfile our side's timed operations and print the hot spots")
    args = ap.parse_args(argv)
    n = 500 if args.quick else args.elements
    if n < 1:
        ap.error("--elements must be at least 1")
    sample_k = min(args.sample, n)
    ref_k = min(args.ref_sample, n)
    reps = max(1, args.reps)
    rng = random.Random(args.seed)
    warnings.simplefilter("ignore")  # pywbem's ToleratedServerIssueWarning etc.

    global PROFILE
    PROFILE = cProfile.Profile() if args.profile else None

    print(f"wbemconform mock benchmark: N = {n} Win32_Process elements, "
          f"Python {sys.version.split()[0]}")
    t_start = time.perf_counter()
    rows = []          # (label, ours Timing, baseline Timing or None, note)
    problems = []

    def check(what, got, want):
        if got != want:
            problems.append(f"{what}: {got} results, expected {want}")

    # ---- load ------------------------------------------------------------
    with tempfile.TemporaryDirectory(prefix="wbemconform-bench-") as tmpdir:
        tmp = Path(tmpdir)
        _, ours_load0 = build_ours(0, tmp)
        ours, ours_load = build_ours(n, tmp)
    _, base_times0 = build_baseline(0)
    base, base_times = build_baseline(n)
    print(f"loaded in {time.perf_counter() - t_start:.1f} s", flush=True)

    # ---- the paths every operation uses ---------------------------------------
    profile_path = ours.EnumerateInstanceNames("CIM_RegisteredProfile", namespace=INTEROP)
    profile_path = [p for p in profile_path if p.classname == "ProcessProfile"][0]
    b_profile_path = [p for p in base.EnumerateInstanceNames("CIM_RegisteredProfile",
                                                             namespace=INTEROP)
                      if p.classname == "ProcessProfile"][0]
    elements = ours.EnumerateInstanceNames("Win32_Process", namespace=CIMV2)
    b_elements = base.EnumerateInstanceNames("Win32_Process", namespace=CIMV2)
    check("ours: Win32_Process elements", len(elements), n)
    check("baseline: Win32_Process elements", len(b_elements), n)
    for p in elements + b_elements:
        p.host = None
    by_handle = {p.keybindings["Handle"]: p for p in b_elements}
    sample = rng.sample(elements, sample_k)
    b_sample = [by_handle[p.keybindings["Handle"]] for p in sample]
    ref_sample = sample[:ref_k]
    b_ref_sample = b_sample[:ref_k]

    # ---- cold first enumeration (ours: builds the provider's table) ---------
    for ns in (INTEROP, CIMV2):
        dt, res = run(lambda _: ours.EnumerateInstanceNames(ASSOC, namespace=ns), [None],
                      warmup=False)
        bdt, bres = run(lambda _: base.EnumerateInstanceNames(ASSOC, namespace=ns), [None],
                        warmup=False)
        check(f"ours: cold EnumerateInstanceNames {ns}", len(res[0]), n)
        check(f"baseline: cold EnumerateInstanceNames {ns}", len(bres[0]), n)
        rows.append((f"EnumerateInstanceNames {ns}, cold first call",
                     Timing(1, dt, cold=True), Timing(1, bdt), ""))

    # ---- enumerations ---------------------------------------------------------
    assoc_paths = {}
    b_assoc_paths = {}
    for ns in (INTEROP, CIMV2):
        dt, res = run(lambda _: ours.EnumerateInstanceNames(ASSOC, namespace=ns),
                      [None] * reps, profile=True)
        bdt, bres = run(lambda _: base.EnumerateInstanceNames(ASSOC, namespace=ns),
                        [None] * reps)
        check(f"ours: EnumerateInstanceNames {ns}", len(res[0]), n)
        check(f"baseline: EnumerateInstanceNames {ns}", len(bres[0]), n)
        assoc_paths[ns], b_assoc_paths[ns] = res[0], bres[0]
        rows.append((f"EnumerateInstanceNames {ns} [{n}/call]",
                     Timing(reps, dt), Timing(reps, bdt), ""))
    for ns in (INTEROP, CIMV2):
        dt, res = run(lambda _: ours.EnumerateInstances(ASSOC, namespace=ns),
                      [None] * reps, profile=True)
        bdt, bres = run(lambda _: base.EnumerateInstances(ASSOC, namespace=ns),
                        [None] * reps)
        check(f"ours: EnumerateInstances {ns}", len(res[0]), n)
        check(f"baseline: EnumerateInstances {ns}", len(bres[0]), n)
        rows.append((f"EnumerateInstances {ns} [{n}/call]",
                     Timing(reps, dt), Timing(reps, bdt), ""))
    print(f"enumerations done at {time.perf_counter() - t_start:.1f} s", flush=True)

    # ---- GetInstance of every association path -----------------------------
    for ns in (INTEROP, CIMV2):
        paths = assoc_paths[ns]
        b_paths = b_assoc_paths[ns]
        dt, res = run(ours.GetInstance, paths, profile=True)
        bdt, bres = run(base.GetInstance, b_paths)
        bad = sum(1 for p, i in zip(paths, res) if i.path.keybindings != p.keybindings)
        if bad:
            problems.append(f"ours: GetInstance {ns}: {bad} instances with another path")
        rows.append((f"GetInstance assoc {ns}, every path",
                     Timing(len(paths), dt), Timing(len(b_paths), bdt), ""))
    print(f"GetInstance done at {time.perf_counter() - t_start:.1f} s", flush=True)

    # ---- AssociatorNames from the elements ----------------------------------------
    dt, res = run(lambda p: ours.AssociatorNames(p, ResultClass="CIM_RegisteredProfile"),
                  elements, profile=True)
    wrong = sum(1 for r in res if len(r) != 1 or r[0].classname != "ProcessProfile")
    if wrong:
        problems.append(f"ours: AssociatorNames(element, ResultClass=CIM_RegisteredProfile): "
                        f"{wrong} elements without exactly the profile")
    b_each = []

    def timed_base_an(p):
        t0 = time.perf_counter()
        r = base.AssociatorNames(p)
        b_each.append(time.perf_counter() - t0)
        return r

    bdt, bres = run(timed_base_an, b_sample)
    b_each = b_each[1:]  # drop the warm-up call
    wrong = sum(1 for r in bres if len(r) != 1 or r[0].classname != "ProcessProfile")
    if wrong:
        problems.append(f"baseline: AssociatorNames(element): {wrong} of {sample_k} sampled "
                        "elements without exactly the profile")
    rows.append(("AssocNames elem->profile cimv2 RC=CIM_RegisteredProfile, all [b1]",
                 Timing(n, dt), Timing(n, bdt * n / sample_k, extrapolated_from=sample_k),
                 ""))
    # the same call shape on both sides, same sample
    dt, res = run(lambda p: ours.AssociatorNames(p), sample, profile=True)
    wrong = sum(1 for r in res if len(r) != 1)
    if wrong:
        problems.append(f"ours: AssociatorNames(element): {wrong} without exactly one result")
    rows.append((f"AssocNames elem->profile cimv2, no RC, {sample_k} sampled",
                 Timing(sample_k, dt), Timing(sample_k, bdt), ""))
    print(f"AssociatorNames from elements done at {time.perf_counter() - t_start:.1f} s",
          flush=True)

    # ---- AssociatorNames from the profile -----------------------------------------
    dt, res = run(lambda p: ours.AssociatorNames(p, ResultClass="Win32_Process"),
                  [profile_path] * reps, profile=True)
    bdt, bres = run(lambda p: base.AssociatorNames(p, ResultClass="Win32_Process"),
                    [b_profile_path] * reps)
    check("ours: AssociatorNames(profile, ResultClass=Win32_Process)", len(res[0]), n)
    check("baseline: AssociatorNames(profile, ResultClass=Win32_Process)", len(bres[0]), n)
    rows.append((f"AssocNames profile->elems interop RC=Win32_Process [{n}/call] [b2]",
                 Timing(reps, dt), Timing(reps, bdt), ""))

    # ---- References from a sample of elements ------------------------------------
    dt, res = run(lambda p: ours.References(p), ref_sample, profile=True)
    bdt, bres = run(lambda p: base.References(p), b_ref_sample)
    wrong = sum(1 for r in res if len(r) != 1)
    bwrong = sum(1 for r in bres if len(r) != 1)
    if wrong:
        problems.append(f"ours: References(element): {wrong} without exactly one result")
    if bwrong:
        problems.append(f"baseline: References(element): {bwrong} without exactly one result")
    rows.append((f"References elem cimv2, {ref_k} sampled",
                 Timing(ref_k, dt), Timing(ref_k, bdt), ""))

    # ---- one write, then an association call (ours: the provider's table is
    # rebuilt, since a write in a namespace it depends on invalidates it) -------
    new = dict(PROCESS_KEYS, Handle="bench-new", Name="bench-new.exe")
    dt_w, _ = run(lambda _: ours.CreateInstance(CIMInstance("Win32_Process", properties=new),
                                                namespace=CIMV2), [None], warmup=False)
    bdt_w, _ = run(lambda _: base.CreateInstance(CIMInstance("Win32_Process", properties=new),
                                                 namespace=CIMV2), [None], warmup=False)
    dt, res = run(lambda p: ours.AssociatorNames(p, ResultClass="CIM_RegisteredProfile"),
                  [sample[0]], warmup=False, profile=True)
    bdt, bres = run(lambda p: base.AssociatorNames(p), [b_sample[0]], warmup=False)
    check("ours: AssociatorNames(element) after a write", len(res[0]), 1)
    check("baseline: AssociatorNames(element) after a write", len(bres[0]), 1)
    rows.append(("CreateInstance Win32_Process cimv2 (one)", Timing(1, dt_w), Timing(1, bdt_w), ""))
    rows.append(("AssocNames elem->profile cimv2, first call after that write [b3]",
                 Timing(1, dt, cold=True), Timing(1, bdt), ""))
    elapsed = time.perf_counter() - t_start

    # ---- report --------------------------------------------------------------------
    print()
    print(f"Load (N = {n})")
    lw = 58
    print(f"  {'':{lw}} {'ours':>10} {'baseline':>10}")
    print(f"  {'empty (schema + Process profile, N = 0)':{lw}} "
          f"{fmt_time(ours_load0):>10} {fmt_time(base_times0['total']):>10}")
    print(f"  {'total with N elements':{lw}} {fmt_time(ours_load):>10} "
          f"{fmt_time(base_times['total']):>10}")
    print(f"  {'  of which N Win32_Process instances':{lw}} {fmt_time(ours_load - ours_load0):>10} "
          f"{fmt_time(base_times['elements']):>10}")
    print(f"  {'  of which N static association instances (baseline only)':{lw}} "
          f"{'-':>10} {fmt_time(base_times['associations']):>10}")
    print(f"  {'per element (total - empty) / N':{lw}} "
          f"{fmt_time((ours_load - ours_load0) / n):>10} "
          f"{fmt_time((base_times['total'] - base_times0['total']) / n):>10}   "
          f"{fmt_ratio(base_times['total'] - base_times0['total'], ours_load - ours_load0)}")
    print()
    print("Operations (per op = per call; baseline = stock pywbem_mock static instances)")
    hdr = (f"  {'operation':<66} {'count':>6} {'total':>9} {'per op':>10} "
           f"{'base per op':>12}  ratio (base/ours)")
    print(hdr)
    print("  " + "-" * (len(hdr) - 2))
    for label, o, b, _ in rows:
        bper = fmt_time(b.per_op) if b else "-"
        if b and b.extrapolated_from:
            bper += "*"
        print(f"  {label:<66} {o.calls:>6} {o.total:>8.3f}s {fmt_time(o.per_op):>10} "
              f"{bper:>12}  {fmt_ratio(b.per_op if b else None, o.per_op)}")
    print()
    print("Notes")
    print(f"  * baseline sampled: {sample_k} random elements (seed {args.seed}) timed, "
          f"per-op cost extrapolated to all {n} (pywbem_mock's static associator")
    print("    scan deep-copies every instance of the namespace on each call: O(n) per call).")
    print(f"    sampled baseline calls: min {fmt_time(min(b_each))}, median "
          f"{fmt_time(sorted(b_each)[len(b_each) // 2])}, max {fmt_time(max(b_each))} per call.")
    print("  [b1] baseline runs AssociatorNames WITHOUT ResultClass: the far end (ProcessProfile)"
          " lives in root/interop and stock")
    print("       pywbem_mock resolves ResultClass in the request namespace (root/cimv2), where "
          "ProcessProfile is not declared,")
    print("       so ResultClass=CIM_RegisteredProfile returns nothing there (cross-namespace "
          "ResultClass does not work).")
    print("  [b2] baseline ResultClass=Win32_Process is resolvable in the source namespace "
          "because cimv2.mof is compiled into root/interop")
    print("       for the baseline (stock pywbem_mock needs Win32_Process there to accept the "
          "association class's reference).")
    print("  Baseline association instances: created in root/cimv2; pywbem_mock stores each "
          "multi-namespace association instance")
    print("  in root/interop as well, so both namespaces hold N static instances, as ours serves"
          " N dynamic instances in each.")
    print("  [b3] ours rebuilds the provider's association table (all N elements) on the first "
          "association call after any write in")
    print("       root/cimv2 or root/interop; baseline row is the same call as [b1] (no cache "
          "to rebuild, it scans every call).")
    print(f"  Whole-class calls (enumerations, profile->elements) repeated {reps}x after one "
          "warm-up call; per-element calls warmed up once.")
    if problems:
        print()
        print("RESULT CHECKS FAILED (timings of these rows are not comparable):")
        for p in problems:
            print(f"  - {p}")
    else:
        print("  Result checks: all result counts as expected on both sides.")
    print(f"\nbenchmark time {elapsed:.1f} s")

    if PROFILE is not None:
        s = io.StringIO()
        st = pstats.Stats(PROFILE, stream=s)
        st.sort_stats("cumulative").print_stats(40)
        st.sort_stats("tottime").print_stats(25)
        print("\ncProfile of our side's timed operations (all together):")
        print(s.getvalue())
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
