"""The pytest side of one conformance run: the engine's session, what pytest
saw of the run, and the run's guards.

:class:`RunState` is created only when a run is a conformance run -- a
wbemconform option was given, or conformance tests were collected -- so a
project that merely has wbemconform installed never builds one (and never
imports pywbem). The guards:

* **signals**: Ctrl-C and SIGTERM (what CI job timeouts send) end the run,
  with ABORTED results written; the interrupt is raised where it is safe
  (:mod:`wbemconform.interrupts`), never lost;
* **the run budget** (``--wbem-run-timeout``): a watchdog interrupts a check
  still computing :data:`BUDGET_GRACE` seconds after the budget is spent
  (nothing is sent after it);
* **pending results**: as soon as the run starts, every result file says
  ABORTED, "the run has not finished", so a run killed outright never leaves
  an earlier run's PASSED behind; pytest's JUnit file is written to a
  temporary file and renamed into place;
* **outputs checked first**: no two outputs name one file, and each can be
  written where it is asked for, before anything runs.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from xml.sax.saxutils import quoteattr

import pytest

from . import _pytest_adapter as internals
from . import interrupts
from .atomic import probe, write_text

__all__ = ["RunState", "PENDING", "BUDGET_GRACE", "abspath"]

#: seconds after the run budget is spent before the watchdog interrupts the run
BUDGET_GRACE = 2.0
PENDING = ("the run has not finished: it is still running, or it was killed before it "
           "could write its results")


def abspath(path):
    return os.path.abspath(os.path.expanduser(path)) if path else path


class RunState:
    """The pytest side of a run: the engine's session plus what pytest saw."""

    def __init__(self, session):
        self.session = session
        self.collected = 0  # conformance tests collected (before deselection)
        self.selected = 0  # ... and selected
        self.collect_errors = []  # node ids whose collection failed
        self.deselected = 0  # conformance tests deselected (-k, -m, --deselect, --lf, --sw)
        self.interrupted = False
        self.terminated = False  # SIGTERM arrived
        self.budget_fired = False  # the run budget's watchdog ended the run
        self.finished = False
        self.stopping = False  # pytest has the interrupt (later signals change nothing)
        self.written, self.write_problems = [], []
        self._signals = {}  # signal number -> the handler before ours
        self._watchdog = None
        self._junit = None  # (LogXML, final path, temporary path)

    @property
    def active(self):
        """Whether this pytest run is a conformance run at all."""
        return self.collected > 0 or self.session.setup_error is not None or \
            self.session.touched

    # -- outputs ----------------------------------------------------------------------

    def outputs(self, config):
        """[(option, path)] of every file the run writes, JUnit included."""
        out = list(self.session.outputs())
        if getattr(config.option, "xmlpath", None):
            out.append(("--junitxml", abspath(config.option.xmlpath)))
        return out

    def check_outputs(self, config):
        """Before anything runs: no two outputs share a file, and each can be
        written where it is asked for (its folder is created). ValueError, one line."""
        outputs = self.outputs(config)
        waivers = self.session.run_options.waivers_path
        for i, (opt_a, path_a) in enumerate(outputs):
            for opt_b, path_b in outputs[i + 1:]:
                if internals.same_file(path_a, path_b):
                    raise ValueError(f"{opt_a} and {opt_b} name the same file {path_a}: each "
                                     "result needs a file of its own")
            if waivers and internals.same_file(path_a, waivers):
                raise ValueError(f"{opt_a} {path_a} is the --conformance-waivers file: "
                                 "it would be overwritten")
        for option, path in outputs:
            why = probe(path)
            if why:
                raise ValueError(f"{option} {path}: cannot write there: {why}")

    def write_aborted_early(self, config):
        """Write the results files of a run aborted before it started where that
        is possible -- JUnit too, which pytest does not write then."""
        session = self.session
        session.write_outputs()
        junit = getattr(config.option, "xmlpath", None)
        if junit and not any(internals.same_file(junit, p) for _, p in session.outputs()):
            try:
                write_text(abspath(junit), junit_placeholder("; ".join(session.gate().reasons)))
            except OSError:
                pass

    def write_pending(self, config):
        """The results files of a run that has not finished (see the module
        docstring); JUnit redirected to a temporary file."""
        self.session.write_outputs(pending=PENDING)
        xml = internals.junit_xml(config)
        if xml is None:
            return
        final = abspath(xml.logfile)
        temporary = os.path.join(os.path.dirname(final),
                                 f".{os.path.basename(final)}.{os.getpid()}.tmp")
        internals.redirect_junit(xml, temporary)
        self._junit = (xml, final, temporary)
        config.pluginmanager.register(_JunitFinisher(self), "wbemconform-junit")
        try:
            write_text(final, junit_placeholder(PENDING))
        except OSError:
            pass

    def finish_junit(self):
        """pytest has written its JUnit file to the temporary path: rename it
        into place (once; where pytest wrote nothing, the placeholder stays)."""
        if self._junit is None:
            return
        xml, final, temporary = self._junit
        self._junit = None
        internals.restore_junit(xml, final)
        if os.path.exists(temporary):
            try:
                os.replace(temporary, final)
            except OSError as exc:
                self.write_problems.append(f"--junitxml {final}: cannot write: "
                                           f"{exc.strerror or exc}")

    # -- signals and the run budget ---------------------------------------------------

    def arm(self):
        """A conformance run is under way: Ctrl-C and SIGTERM end it (raised
        where it is safe, :mod:`wbemconform.interrupts`), and the run budget
        gets its watchdog. Only in the main thread, once."""
        if self._signals or threading.current_thread() is not threading.main_thread():
            return

        def on_signal(signum, frame):
            if self.finished or self.stopping:
                return  # pytest has the interrupt already, or the results are being written
            if signum == signal.SIGTERM:
                self.terminated = self.terminated or not self.budget_fired
            else:
                self.interrupted = True
            if interrupts.request():
                raise KeyboardInterrupt
        interrupts.reset()
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._signals[signum] = signal.signal(signum, on_signal)
            except (ValueError, OSError):
                pass
        if not self._signals:
            return
        deadline = self.session.deadline
        if deadline is None:
            return
        main = threading.main_thread().ident

        def fire():
            if self.finished:
                return
            self.budget_fired = True
            self.session.budget_spent()
            signal.pthread_kill(main, signal.SIGTERM)
            # a check that computes without reaching a checkpoint: raised at once
            again = threading.Timer(BUDGET_GRACE, lambda: self.finished or
                                    not interrupts.pending() or
                                    signal.pthread_kill(main, signal.SIGTERM))
            again.daemon = True
            self._watchdog = again
            again.start()
        self._watchdog = threading.Timer(
            max(0.0, deadline - time.monotonic()) + BUDGET_GRACE, fire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def stop_watchdog(self):
        if self._watchdog is not None:
            self._watchdog.cancel()

    def disarm(self):
        self.stop_watchdog()
        for signum, previous in self._signals.items():
            try:
                signal.signal(signum, previous)
            except (ValueError, OSError, TypeError):
                pass
        self._signals.clear()
        interrupts.reset()

    def partial_cause(self, session):
        """Why pytest did not run every conformance test, as far as it says."""
        causes = []
        stopped = session.shouldfail or session.shouldstop
        if stopped:
            causes.append(f"pytest stopped early: {stopped} (-x, --maxfail, --sw)")
        if self.deselected:
            causes.append(f"{self.deselected} conformance test(s) deselected (-k, -m, "
                          "--deselect, --lf, --sw)")
        if self.interrupted or self.terminated or self.budget_fired:
            causes.append("the run ended early")
        return "; ".join(causes) or "tests not collected or not run"


class _JunitFinisher:
    """Runs after pytest's JUnit writer, before the terminal summary (which
    names the file): moves the JUnit file into place."""

    def __init__(self, state):
        self.state = state

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        self.state.finish_junit()


def junit_placeholder(reason):
    """A JUnit file of one errored case: the gate, aborted for ``reason``."""
    return ('<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite '
            'name="wbemconform" tests="1" errors="1" failures="0" skipped="0">'
            '<properties><property name="wbemconform_gate" value="aborted"/>'
            f'<property name="wbemconform_gate_reasons" value={quoteattr(reason)}/>'
            '</properties><testcase classname="wbemconform" name="conformance gate">'
            f'<error message={quoteattr(reason)}/></testcase></testsuite></testsuites>\n')
