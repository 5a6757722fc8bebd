#!/usr/bin/env python
"""Benchmark the served mock (CIM-XML over HTTP) against the same mock in process.

Usage::

    python benchmarks/bench_server.py [--elements N] [--calls N] [--clients K] [--quick]

The mock is ``wbemconform.mock.connect()`` with the default example profiles
(profiles/examples) plus N generated ``Win32_Process`` instances in
root/cimv2 (default 1,000), so the spec's Process profile has N + 4 managed
elements. It is served with ``wbemconform.server.serve()`` on 127.0.0.1 and
driven with pywbem's ``WBEMConnection`` (one keep-alive connection per
client), then the same operations are issued on the mock in process (a
``FakedWBEMConnection``: pywbem's operation layer, no HTTP, no CIM-XML).

Operations, each ``--calls`` times (default 2,000), cycling over their inputs:

* AssociatorNames from the elements: a Win32_Process path in root/cimv2 to
  its registered profile (``AssocClass=CIM_ElementConformsToProfile``,
  ``ResultClass=CIM_RegisteredProfile``): the cross-namespace hop, through
  the broker and the association provider;
* GetInstance of association instance paths: the
  ``Microsoft_Process_ElementConformsToProfile_v1`` instances of root/cimv2
  (an index lookup in the provider).

Printed: requests/s (sequential: one client, one call at a time; with
``--clients K`` also K concurrent clients over HTTP -- the mock itself is
serialised by a lock), p50 and p99 latency, and the over-the-wire /
in-process ratio of mean and median cost. Times are time.perf_counter()
wall-clock per call, after 50 untimed warm-up calls.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import pywbem

from wbemconform.mock import connect, default_profile_files
from wbemconform.server import serve

INTEROP = "root/interop"
CIMV2 = "root/cimv2"
ASSOC = "Microsoft_Process_ElementConformsToProfile_v1"
ECTP = "CIM_ElementConformsToProfile"
WARMUP = 50


def processes_mof(n: int) -> str:
    head = '#pragma namespace("\\\\\\\\.\\\\root\\\\cimv2")\n\n'
    return head + "".join(
        "instance of Win32_Process\n{\n"
        '    CSCreationClassName = "Win32_ComputerSystem"; CSName = "MOCKHOST";\n'
        '    OSCreationClassName = "Win32_OperatingSystem"; OSName = "Microsoft Windows";\n'
        f'    CreationClassName = "Win32_Process"; Handle = "bench{i}";\n'
        f'    Name = "bench{i}.exe"; ProcessId = {100000 + i};\n}};\n'
        for i in range(n))


def build_mock(n: int, tmp: Path):
    extra = tmp / f"bench_processes_{n}.mof"
    extra.write_text(processes_mof(n), encoding="utf-8")
    t0 = time.perf_counter()
    mock = connect([*default_profile_files(), extra])
    return mock, time.perf_counter() - t0


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


class Run:
    def __init__(self, label, where, latencies, wall, clients=1):
        self.label = label
        self.where = where
        self.latencies = sorted(latencies)
        self.wall = wall
        self.clients = clients

    @property
    def calls(self):
        return len(self.latencies)

    @property
    def rate(self):
        return self.calls / self.wall if self.wall else float("nan")

    @property
    def mean(self):
        return statistics.fmean(self.latencies)

    @property
    def p50(self):
        return percentile(self.latencies, 50)

    @property
    def p99(self):
        return percentile(self.latencies, 99)


def timed(fn, inputs, calls):
    """Call fn on inputs (cycling) ``calls`` times; (latencies, wall seconds)."""
    for i in range(min(WARMUP, calls)):
        fn(inputs[i % len(inputs)])
    latencies = []
    clock = time.perf_counter
    start = clock()
    for i in range(calls):
        t = clock()
        fn(inputs[i % len(inputs)])
        latencies.append(clock() - t)
    return latencies, clock() - start


def timed_concurrent(make_fn, inputs, calls, clients):
    """``clients`` threads, each with its own client, sharing ``calls`` calls."""
    per = calls // clients
    results = [None] * clients
    fns = [make_fn() for _ in range(clients)]
    for fn in fns:  # warm-up (and connect) outside the timing
        for i in range(min(WARMUP // clients + 1, len(inputs))):
            fn(inputs[i % len(inputs)])
    barrier = threading.Barrier(clients + 1)

    def worker(k):
        fn, clock, lat = fns[k], time.perf_counter, []
        barrier.wait()
        for i in range(per):
            t = clock()
            fn(inputs[(k * per + i) % len(inputs)])
            lat.append(clock() - t)
        results[k] = lat

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return [x for lat in results for x in lat], wall


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--elements", type=int, default=1000,
                    help="generated Win32_Process instances (default 1000)")
    ap.add_argument("--calls", type=int, default=2000, help="calls per operation (default 2000)")
    ap.add_argument("--clients", type=int, default=4,
                    help="concurrent HTTP clients for the throughput row (default 4; 0: none)")
    ap.add_argument("--quick", action="store_true", help="100 elements, 300 calls")
    args = ap.parse_args(argv)
    if args.quick:
        args.elements, args.calls = 100, 300

    with tempfile.TemporaryDirectory() as tmp:
        mock, load_s = build_mock(args.elements, Path(tmp))
    print(f"mock: default profiles + {args.elements} generated processes, loaded in "
          f"{load_s:.2f} s; {args.calls} calls per operation, {WARMUP} warm-up calls")

    local_assocs = mock.EnumerateInstanceNames(ASSOC, namespace=CIMV2)
    local_elements = mock.EnumerateInstanceNames("Win32_Process", namespace=CIMV2)
    assert len(local_elements) >= args.elements, len(local_elements)

    runs = []
    with serve(mock) as server:
        def client():
            return pywbem.WBEMConnection(server.url, default_namespace=INTEROP, timeout=60)

        wire = client()
        wire_assocs = wire.EnumerateInstanceNames(ASSOC, namespace=CIMV2)
        wire_elements = wire.EnumerateInstanceNames("Win32_Process", namespace=CIMV2)
        assert len(wire_assocs) == len(local_assocs)
        print(f"served at {server.url}: {len(wire_elements)} elements, "
              f"{len(wire_assocs)} association instances in {CIMV2}; the clients and "
              f"the server share this Python process (one GIL)\n")

        def assoc_names(conn):
            def call(path):
                out = conn.AssociatorNames(path, AssocClass=ECTP,
                                           ResultClass="CIM_RegisteredProfile")
                assert len(out) == 1, out
            return call

        def get_instance(conn):
            def call(path):
                conn.GetInstance(path)
            return call

        ops = [("AssociatorNames (element -> profile)", assoc_names, wire_elements,
                local_elements),
               ("GetInstance (association path)", get_instance, wire_assocs, local_assocs)]
        for label, make, wire_inputs, _ in ops:
            lat, wall = timed(make(wire), wire_inputs, args.calls)
            runs.append(Run(label, "HTTP, 1 client", lat, wall))
            if args.clients > 1:
                conns = []

                def make_fn(make=make, conns=conns):
                    conns.append(client())
                    return make(conns[-1])
                lat, wall = timed_concurrent(make_fn, wire_inputs, args.calls, args.clients)
                for c in conns:
                    c.close()
                runs.append(Run(label, f"HTTP, {args.clients} clients", lat, wall,
                                args.clients))
        wire.close()

    for label, make, _, local_inputs in ops:
        lat, wall = timed(make(mock), local_inputs, args.calls)
        runs.append(Run(label, "in process", lat, wall))

    print(f"{'operation':38} {'where':16} {'calls':>6} {'req/s':>8} {'mean ms':>8} "
          f"{'p50 ms':>8} {'p99 ms':>8}")
    for r in runs:
        print(f"{r.label:38} {r.where:16} {r.calls:6d} {r.rate:8.0f} {r.mean * 1e3:8.3f} "
              f"{r.p50 * 1e3:8.3f} {r.p99 * 1e3:8.3f}")
    print()
    print("over the wire / in process (one client):")
    for label, *_ in ops:
        wire_run = next(r for r in runs if r.label == label and r.where == "HTTP, 1 client")
        local_run = next(r for r in runs if r.label == label and r.where == "in process")
        print(f"  {label:38} mean x{wire_run.mean / local_run.mean:5.1f}   "
              f"p50 x{wire_run.p50 / local_run.p50:5.1f}   "
              f"p99 x{wire_run.p99 / local_run.p99:5.1f}   "
              f"(+{(wire_run.mean - local_run.mean) * 1e3:.3f} ms per call for HTTP + CIM-XML)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
