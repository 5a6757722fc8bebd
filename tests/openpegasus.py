"""The OpenPegasus 2.14.4 the tests judge: live, recorded or replayed.

The one place that decides, for tests/conftest.py's ``openpegasus`` fixture
and benchmarks/bench_realserver.py, which OpenPegasus a run talks to:

- ``WBEMCONFORM_OPENPEGASUS_URL``: a running OpenPegasus 2.14.4 (live);
- otherwise one started here with ``$WBEMCONFORM_SHARED/servers/openpegasus/start``
  (default ``../shared`` beside the clone) when that script exists (live);
- otherwise the recording ``tests/recordings/openpegasus-2.14.4/`` answered by
  tests/replay.py's :class:`ReplayServer` on 127.0.0.1 (replay: what the
  server answered when it was recorded, judged again);
- otherwise nothing (the tests skip, saying why).

``WBEMCONFORM_REPLAY=1`` replays even where a live server could be had.
``WBEMCONFORM_RECORD=1`` (live only) puts a recording proxy in front of the
live server and writes the recording anew at the end of the session;
``WBEMCONFORM_RECORD=add`` keeps what the recording had and adds to it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import replay

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WBEMCONFORM_SHARED", REPO.parent / "shared"))
START_SCRIPT = SHARED / "servers" / "openpegasus" / "start"
START_TIMEOUT = 90  # seconds the server may take to answer
VERSION = "2.14.4"
URL_VAR = "WBEMCONFORM_OPENPEGASUS_URL"
RECORD_VAR = "WBEMCONFORM_RECORD"
REPLAY_VAR = "WBEMCONFORM_REPLAY"
RECORDING = REPO / "tests" / "recordings" / f"openpegasus-{VERSION}"


class Unavailable(RuntimeError):
    """No OpenPegasus can be had here (one line: why)."""


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
        raise Unavailable(f"no OpenPegasus start script at {START_SCRIPT} (set "
                          f"WBEMCONFORM_SHARED to the folder that has servers/openpegasus/start, "
                          f"or {URL_VAR} to a running OpenPegasus {VERSION})")
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


def live_url():
    """The running server ``WBEMCONFORM_OPENPEGASUS_URL`` names, or None."""
    return os.environ.get(URL_VAR) or None


@dataclass
class Served:
    """The OpenPegasus a test session talks to: its ``url`` and ``mode``
    (``live``, ``record`` or ``replay``)."""

    url: str
    mode: str
    server: object = None  # the RecordingProxy or ReplayServer in between

    @property
    def live(self):
        return self.mode in ("live", "record")

    def missing(self):
        """What the suites asked that the recording lacks (replay only)."""
        return self.server.missing() if self.mode == "replay" else []


def _replay_reason():
    if not (RECORDING / replay.FILE).is_file():
        return f"no recording at {RECORDING / replay.FILE}"
    return None


@contextlib.contextmanager
def served(work):
    """The OpenPegasus of this session (a :class:`Served`), started in
    ``work`` where it is started here, and stopped (or the recording written)
    at the end. Raises :class:`Unavailable` (why: one line) when there is
    none, and ``ValueError`` when WBEMCONFORM_RECORD asks for what cannot be."""
    record = os.environ.get(RECORD_VAR, "").strip().lower()
    if record in ("0", "no", "false"):
        record = ""
    if record and record not in ("1", "yes", "true", "add"):
        raise ValueError(f"{RECORD_VAR}={record!r}: use 1 (record anew) or add")
    want_replay = os.environ.get(REPLAY_VAR, "").strip().lower() not in ("", "0", "no", "false")
    if want_replay and record:
        raise ValueError(f"{RECORD_VAR} and {REPLAY_VAR} together: recording needs a live "
                         f"server, replaying answers from the recording")
    if want_replay or (not live_url() and not START_SCRIPT.is_file() and not record):
        missing = _replay_reason()
        if missing:
            raise Unavailable(f"no OpenPegasus {VERSION}: {URL_VAR} is not set, no start script "
                              f"at {START_SCRIPT}, and {missing}")
        with replay.ReplayServer(RECORDING) as server:
            yield Served(server.url, "replay", server)
        return
    pid = None
    url = live_url()
    if url is None:
        if not START_SCRIPT.is_file() and record:
            raise ValueError(f"{RECORD_VAR} needs a live OpenPegasus {VERSION}: set {URL_VAR} "
                             f"(or WBEMCONFORM_SHARED to a folder with "
                             f"servers/openpegasus/start)")
        url, pid = start(work)
    try:
        if not record:
            yield Served(url, "live")
            return
        proxy = replay.RecordingProxy(url, RECORDING, merge=record == "add")
        with proxy:
            yield Served(proxy.url, "record", proxy)
        proxy.save()
    finally:
        if pid is not None:
            stop(pid)
