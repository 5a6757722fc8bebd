"""Starting and stopping the bundled OpenPegasus 2.14.4
(``../shared/servers/openpegasus/start``): the one place that does it, for
tests/conftest.py's ``openpegasus`` fixture and benchmarks/bench_realserver.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WBEMCONFORM_SHARED", REPO.parent / "shared"))
START_SCRIPT = SHARED / "servers" / "openpegasus" / "start"
START_TIMEOUT = 90  # seconds the server may take to answer


class Unavailable(RuntimeError):
    """The bundled OpenPegasus cannot run here (one line: why)."""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(work, private_tmp=False):
    """(url, pid) of a bundled OpenPegasus started on a free port of 127.0.0.1,
    its files in ``work``; raises :class:`Unavailable` when it cannot start.

    One cimserver runs per machine (it locks /var/tmp/cimserver_start.lock).
    With ``private_tmp``, when that start fails and this process may unshare
    its mount namespace (root on Linux), the server is started again with a
    private /var/tmp (a tmpfs mounted in a new mount namespace)."""
    if not START_SCRIPT.is_file():
        raise Unavailable(f"the bundled OpenPegasus is not at {START_SCRIPT} (only CI clones "
                          "have ../shared beside them)")
    port = free_port()
    plain = [str(START_SCRIPT), str(work), str(port)]
    attempts = [plain]
    if private_tmp and shutil.which("unshare") and hasattr(os, "geteuid") and os.geteuid() == 0:
        private = f"mount -t tmpfs tmpfs /var/tmp && exec {' '.join(plain)}"
        attempts.append(["unshare", "-m", "bash", "-c", private])
    last = ""
    for cmd in attempts:
        try:
            started = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            last = f"it did not answer within {START_TIMEOUT} s"
            continue
        if started.returncode == 0 and started.stdout.split():
            return f"http://127.0.0.1:{port}", int(started.stdout.split()[-1])
        last = ((started.stderr or started.stdout).strip().splitlines() or ["no output"])[-1]
        last = last[-300:]
    raise Unavailable(f"the bundled OpenPegasus could not start (only one cimserver can run "
                      f"per machine): {last}")


def stop(pid):
    """Stop a server started by :func:`start`: SIGTERM, then SIGKILL after 10 s."""
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):  # bounded: 10 s, then it is killed
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def cpu_seconds(pid):
    """CPU seconds (user + system) the server process and its direct children
    have used so far, from /proc (None where there is no /proc)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, found = 0.0, False
    for entry in Path("/proc").glob("[0-9]*/stat") if Path("/proc").is_dir() else ():
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.parent.name == str(pid) or fields[1] == str(pid):  # itself or a child
            total += (int(fields[11]) + int(fields[12])) / tick
            found = True
    return total if found else None
