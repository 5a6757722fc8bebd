"""A Ctrl-C or SIGTERM during a conformance run, raised where it is safe.

Python raises :class:`KeyboardInterrupt` from a signal handler wherever the
main thread happens to be. Two places lose it:

* a garbage-collector callback (hypothesis installs one): the exception is
  "ignored" -- printed with a traceback and dropped -- and the run goes on to
  a PASSED gate as if no one had pressed Ctrl-C;
* a frame without a line number (Python 3.11 has them inside ``ast``, which
  hypothesis walks): pytest's report of the interrupt fails with a TypeError
  and the run ends with a traceback instead of ABORTED results.

So the run's signal handler only *requests* the interrupt (:func:`request`)
and the main thread raises it at a **checkpoint** (:func:`checkpoint`): before
each operation, at each test's start. Where the main thread only waits (an
answer from a server) or works inside a library for long (compiling MOF),
the section is :func:`interruptible` and the handler raises at once. A second
request before the first was raised is raised at once wherever the main
thread is: a second Ctrl-C, or the run budget's watchdog firing again, ends a
check that computes without reaching a checkpoint.

Everything here is main-thread state (signal handlers run in the main thread);
other threads neither raise nor count.
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["reset", "request", "acknowledge", "pending", "checkpoint", "interruptible"]

_requested = 0  # requests since the run was armed
_acknowledged = False  # pytest has received the KeyboardInterrupt
_immediate = 0  # depth of interruptible sections


def _main() -> bool:
    return threading.current_thread() is threading.main_thread()


def reset() -> None:
    """A run is armed (or disarmed): no request is pending."""
    global _requested, _acknowledged, _immediate
    _requested, _acknowledged, _immediate = 0, False, 0


def request() -> bool:
    """A signal asks the run to end (called by its handler): whether the handler
    must raise KeyboardInterrupt now (inside an interruptible section, or on a
    repeated request); otherwise the next checkpoint raises it."""
    global _requested
    _requested += 1
    return not _acknowledged and (_immediate > 0 or _requested > 1)


def acknowledge() -> None:
    """pytest has the KeyboardInterrupt: checkpoints raise no more (teardown
    and the results files still run operations)."""
    global _acknowledged
    _acknowledged = True


def pending() -> bool:
    """An interrupt was requested and has not reached pytest."""
    return _requested > 0 and not _acknowledged


def checkpoint() -> None:
    """Raise the requested interrupt here (main thread only)."""
    if _requested and not _acknowledged and _main():
        raise KeyboardInterrupt


@contextlib.contextmanager
def interruptible():
    """A section where the main thread waits, or works in a library, and a
    KeyboardInterrupt raised at any point is safe: a request raises at once."""
    if not _main():
        yield
        return
    global _immediate
    checkpoint()
    _immediate += 1
    try:
        yield
    finally:
        _immediate -= 1
