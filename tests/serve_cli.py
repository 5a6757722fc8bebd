"""`wbemconform serve` started by a test as a process of its own: the URL of
its start-up line, read within a bound, and a clean stop (SIGTERM, then
SIGKILL) whatever the test did."""

import contextlib
import queue
import re
import signal
import subprocess
import sys
import threading

import pytest

CLI = [sys.executable, "-m", "wbemconform.cli"]
START_TIMEOUT = 60  # seconds the server may take to say where it serves


def _first_line(proc, timeout):
    """The process' first stdout line, or None after ``timeout`` seconds."""
    got = queue.Queue()
    threading.Thread(target=lambda: got.put(proc.stdout.readline()), daemon=True).start()
    try:
        return got.get(timeout=timeout)
    except queue.Empty:
        return None


def stop(proc):
    """SIGTERM; SIGKILL after 15 s; the pipes closed."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)
    proc.stdout.close()
    proc.stderr.close()


@contextlib.contextmanager
def served(*args, cwd=None, expect=None):
    """``wbemconform serve --port 0 ARGS`` running: yields (its start-up
    line, its URL); stopped at the end. ``expect``: a pattern the start-up
    line must match (beside the URL)."""
    proc = subprocess.Popen(CLI + ["serve", "--port", "0", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        line = _first_line(proc, START_TIMEOUT) or ""
        found = re.search(r"(https?://127\.0\.0\.1:\d+)", line)
        if not found or (expect and not re.search(expect, line)):
            pytest.fail(f"wbemconform serve {' '.join(args)}: start-up line {line!r} "
                        f"(exit status {proc.poll()})")
        yield line, found.group(1)
    finally:
        stop(proc)
