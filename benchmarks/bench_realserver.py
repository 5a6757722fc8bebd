"""The suites against a real CIM server with 1, 2, 4 and 8 workers: wall time,
speed-up, and whether the verdicts stay the same.

Runs the whole catalog in process (a wbemconform.session.Session with
TargetOptions(url=..., workers=N)) against a live OpenPegasus 2.14.4: the
running one ``--url`` or ``$WBEMCONFORM_OPENPEGASUS_URL`` names, else a fresh
server for each worker count, started here on a free port of 127.0.0.1 with
``$WBEMCONFORM_SHARED/servers/openpegasus/start`` (default ``../shared``;
tests/openpegasus.py starts it), and stopped after the count (a server wedged
by one count does not spoil the next). A recording cannot stand in: the
figures are the server's; without either, it says why and exits 2.

Prints, per worker count, the wall time, the ratio to one worker, the CPU
time the server (one started here) and this process used, the operations
issued, the gate and the verdict counts; then
the server's own speed-up (the same AssociatorNames requests over one
connection and over four at once, raw pywbem: no client does better than
that ratio); then whether every (requirement, subject) verdict is identical
across worker counts. Each run is bounded (``--run-timeout``, as
``--wbem-run-timeout``).

    WBEMCONFORM_SHARED=/path/to/shared python benchmarks/bench_realserver.py  # started here
    python benchmarks/bench_realserver.py --url http://127.0.0.1:5988
    WBEMCONFORM_OPENPEGASUS_URL=http://127.0.0.1:5988 python benchmarks/bench_realserver.py
    python benchmarks/bench_realserver.py --workers 1 4

OpenPegasus 2.14.4 stops answering for good (every later request times out,
whatever it asks) once 5 or more association requests that reach its Interop
provider are under way at once; wbemconform's default is 4 workers. A count
that wedges it shows as an aborted gate with errors, not as a speed. So
against a running server (not started here, perhaps not yours) the default
counts stop at 4 (1 2 4); ask for more with --workers.

Exit status: 0 when the verdicts are identical (and no run failed to set
up), 1 otherwise, 2 when no server could be reached or started (the line
says why: the benchmark is skipped).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pywbem

from wbemconform.session import RunOptions, Session
from wbemconform.options import TargetOptions

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import openpegasus  # noqa: E402  (tests/openpegasus.py: starts and stops a live server)


def verdicts(session):
    """{(requirement, subject): verdict} of a finished session."""
    return {(rid, subject): rec.verdict
            for rid, subjects in session.results.records.items()
            for subject, rec in subjects.items()}


def measure(url, workers, timeout, run_timeout, pid=None):
    options = TargetOptions(url=url, timeout=timeout, workers=workers)
    server0 = openpegasus.cpu_seconds(pid) if pid is not None else None
    client0 = time.process_time()
    t0 = time.perf_counter()
    session = Session(options, run=RunOptions(run_timeout=run_timeout))
    session.run_all()
    wall = time.perf_counter() - t0
    client = time.process_time() - client0
    server = openpegasus.cpu_seconds(pid) - server0 if server0 is not None else None
    target = session.target
    return {"workers": workers, "wall": wall, "setup_error": session.results.setup_error,
            "server_cpu": server, "client_cpu": client,
            "gate": session.gate().status,
            "ops": len(target.calls) if target is not None else 0,
            "counts": session.results.counts(), "verdicts": verdicts(session)}


#: the server probe: requests per connection count, and the counts compared
PROBE_REQUESTS = 48
PROBE_CONNECTIONS = (1, 4)  # 4: OpenPegasus 2.14.4 wedges at 5 concurrent


def server_speedup(url, timeout):
    """How much faster the server answers the same AssociatorNames requests
    over several connections at once than over one: {connections: seconds}.
    A client's speed-up from workers cannot exceed the server's own."""
    first = pywbem.WBEMConnection(url, timeout=timeout)
    interop = next((ns for ns in ("root/interop", "interop", "root/PG_InterOp")
                    if _lists_profiles(first, ns)), None)
    if interop is None:
        return None
    source = first.EnumerateInstanceNames("CIM_RegisteredProfile", namespace=interop)[0]
    out = {}
    for n in PROBE_CONNECTIONS:
        conns = [pywbem.WBEMConnection(url, timeout=timeout) for _ in range(n)]

        def work(conn, count=PROBE_REQUESTS // n):
            for _ in range(count):
                conn.AssociatorNames(source)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(work, conns))
        out[n] = time.perf_counter() - t0
    return out


def _lists_profiles(conn, ns):
    try:
        return bool(conn.EnumerateInstanceNames("CIM_RegisteredProfile", namespace=ns))
    except pywbem.Error:
        return False


def print_probe(probe):
    """The server's own speed-up, and what it means for the ratios above."""
    if not probe:
        print("\nserver speed-up: not measured (no registered profile to start from, or "
              "the first run did not finish)")
        return
    if "error" in probe:
        print(f"\nserver speed-up: the probe failed: {probe['error']}")
        return
    one, many = PROBE_CONNECTIONS[0], PROBE_CONNECTIONS[-1]
    ratio = probe[many] / probe[one]
    print(f"\nserver speed-up: {PROBE_REQUESTS} AssociatorNames from one registered profile "
          f"took {probe[one]:.2f}s over {one} connection and {probe[many]:.2f}s over {many} "
          f"at once ({ratio:.2f}x): the workers' ratio cannot go below the server's own"
          + (" -- this server answers about one request at a time" if ratio > 0.8 else ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=openpegasus.live_url(),
                    help=f"a running server (default: ${openpegasus.URL_VAR}; without it, an "
                         "OpenPegasus started here from $WBEMCONFORM_SHARED's start script)")
    ap.add_argument("--workers", nargs="+", type=int, default=None,
                    help="worker counts to measure (default: 1 2 4 8 on a server started "
                         "here, 1 2 4 on a running one: 5 or more wedge OpenPegasus 2.14.4)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per operation")
    ap.add_argument("--run-timeout", type=float, default=120.0,
                    help="seconds each whole run may take")
    args = ap.parse_args(argv)
    if args.url is None and not openpegasus.START_SCRIPT.is_file():
        print(f"bench_realserver: skipped: needs a live OpenPegasus {openpegasus.VERSION} (a "
              f"recording cannot time a server): set {openpegasus.URL_VAR} (or --url) to a "
              f"running one, or WBEMCONFORM_SHARED to a folder with servers/openpegasus/start "
              f"(none at {openpegasus.START_SCRIPT})", file=sys.stderr)
        return 2
    if args.workers is None:
        args.workers = [1, 2, 4] if args.url else [1, 2, 4, 8]
    counts = sorted(set(args.workers))
    rows = []
    probe = None
    print(f"{'workers':>7}  {'wall':>8}  {'ratio':>6}  {'server cpu':>10}  {'client cpu':>10}  "
          f"{'ops':>6}  {'gate':>7}  verdicts")
    for n in counts:
        pid = None
        with tempfile.TemporaryDirectory(prefix="wbemconform-pegasus-") as work:
            url = args.url
            if url is None:
                try:
                    url, pid = openpegasus.start(work, private_tmp=True)
                except openpegasus.Unavailable as exc:
                    print(f"bench_realserver: {exc}", file=sys.stderr)
                    return 2
            try:
                row = measure(url, n, args.timeout, args.run_timeout, pid)
                if probe is None and not row["setup_error"] and row["gate"] != "aborted":
                    try:  # the same server, after its run: how parallel is it?
                        probe = server_speedup(url, args.timeout) or {}
                    except pywbem.Error as exc:
                        probe = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                if pid is not None:
                    openpegasus.stop(pid)
        rows.append(row)
        if row["setup_error"]:
            print(f"{n:>7}  setup failed: {row['setup_error']}")
            continue
        base = rows[0]["wall"]
        shown = ", ".join(f"{k} {v}" for k, v in row["counts"].items() if v)
        server = f"{row['server_cpu']:9.2f}s" if row["server_cpu"] is not None else f"{'?':>10}"
        print(f"{n:>7}  {row['wall']:7.2f}s  {row['wall'] / base:5.2f}x  {server}  "
              f"{row['client_cpu']:9.2f}s  {row['ops']:>6}  {row['gate']:>7}  {shown}",
              flush=True)
    if rows[0]["setup_error"]:
        return 1
    print_probe(probe)
    reference = rows[0]["verdicts"]
    summary = Counter(v for v in reference.values())
    shown = ", ".join(f"{k} {v}" for k, v in sorted(summary.items()))
    if len(rows) < 2:
        print(f"\nverdicts not compared: one worker count measured ({len(reference)} "
              f"verdicts: {shown})")
        return 0
    same = True
    for row in rows[1:]:
        differ = sorted(k for k in reference.keys() | row["verdicts"].keys()
                        if reference.get(k) != row["verdicts"].get(k))
        if differ or row["setup_error"]:
            same = False
            print(f"\n{row['workers']} workers: {len(differ)} verdict(s) differ from 1 worker"
                  f"{' (setup failed)' if row['setup_error'] else ''}:")
            for rid, subject in differ[:20]:
                print(f"  {rid} {subject}: {reference.get((rid, subject))} -> "
                      f"{row['verdicts'].get((rid, subject))}")
    print(f"\nverdicts identical across worker counts {counts}: "
          f"{'PASS' if same else 'FAIL'} ({len(reference)} verdicts: {shown})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
