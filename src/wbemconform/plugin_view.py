"""The run in requirement terms: a pytest plugin of its own, registered with
``-p wbemconform.plugin_view`` (``wbemconform check`` passes it).

Without ``-v`` or ``-q`` it shows what a conformance run means, not how pytest
ran it: no header (``platform``, ``rootdir:``, ``configfile:``), no test node
ids, no progress letters, no FAILURES section and no short test summary --
the summary (wbemconform.plugin_terminal.summary) says the same in
requirement terms, causes first. While the run goes on it shows discovery's
phases ("discovering: registered profiles ... 3 found") and an operation
counter with its rate and the checks done; on a terminal the counter is
rewritten in place, elsewhere (CI logs) it is a line every
:data:`LOG_EVERY` seconds. (A skipped -- not applicable -- test is located at
the test itself, in plain pytest runs too: wbemconform.plugin.)

With ``-v`` or ``-q`` pytest's own output is left as asked, and only the
summary is the plugin's.
"""

from __future__ import annotations

import contextlib
import time

import pytest

from . import _pytest_adapter as internals
from .plugin_terminal import COMPACT, PROGRESS, STATE

#: seconds between two progress lines where the output is no terminal
LOG_EVERY = 2.0
#: seconds between two rewrites of the progress line on a terminal
TTY_EVERY = 0.2


class Progress:
    """Discovery's phases and an operation counter (Target.observers)."""

    def __init__(self, tr, capture=None):
        self.tr = tr
        #: pytest's capture manager: discovery runs while pytest captures the
        #: output of collection, checks while it captures a test's
        self.capture = capture
        self.tty = bool(tr.isatty())
        self.started = time.monotonic()
        self.operations = 0
        self.phase = None
        self.checks_total = 0
        self.checks_done = 0
        self.checks_started = None
        self._shown = self.started
        self._pending = False  # a rewritten line is on the screen

    def __call__(self, event, detail):
        if event == "call":
            self.operations += 1
            self.tick()
        elif event == "phase":
            name, result = detail
            if result is None:
                self.phase = name
                self.tick(force=self.tty)
            else:
                self.phase = None
                self.line(f"discovering: {name} ... {result}")

    def _uncaptured(self):
        if self.capture is None:
            return contextlib.nullcontext()
        return self.capture()

    def line(self, text):
        """A line that stays."""
        with self._uncaptured():
            self._line(text)

    def _line(self, text):
        if self._pending:
            self.tr.rewrite(text, erase=True)
            self.tr.line("")
            self._pending = False
        else:
            self.tr.write_line(text)

    def status(self):
        seconds = time.monotonic() - self.started
        rate = self.operations / seconds if seconds > 0 else 0.0
        what = f"discovering: {self.phase}" if self.phase else "checking"
        text = f"{what} ... {self.operations} operations ({rate:.0f}/s)"
        if self.checks_total and not self.phase:
            text += f", {self.checks_done}/{self.checks_total} checks"
            if self.checks_done and self.checks_started is not None:
                spent = time.monotonic() - self.checks_started
                left = spent / self.checks_done * (self.checks_total - self.checks_done)
                text += f", about {left:.0f} s left"
        return text

    def tick(self, force=False):
        now = time.monotonic()
        if not force and now - self._shown < (TTY_EVERY if self.tty else LOG_EVERY):
            return
        self._shown = now
        with self._uncaptured():
            if self.tty:
                self.tr.rewrite(self.status(), erase=True)
                self._pending = True
            else:
                self.tr.write_line(self.status())

    def done(self):
        """The run is over: the counter's line gives way to the summary."""
        if self._pending:
            self.tr.rewrite("", erase=True)
            self.tr.write_raw("\r")
            self._pending = False


def _compact(config):
    return config.stash.get(COMPACT, False)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Before pytest's terminal reporter is made: without -v/-q, no pytest
    header, letters, tracebacks or short summary (the summary says it all)."""
    _CONFIGS.append(config)
    if config.option.verbose != 0:
        return
    config.stash[COMPACT] = True
    config.option.verbose = -2
    if config.option.tbstyle == "auto":
        config.option.tbstyle = "no"
    if config.option.reportchars == "fE":  # pytest's default: the summary has them
        config.option.reportchars = ""


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    """Discovery runs during collection: show its phases and the operations."""
    config = session.config
    state = config.stash.get(STATE, None)
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if not _compact(config) or state is None or tr is None:
        return
    # output past pytest's capture (see wbemconform._pytest_adapter)
    progress = config.stash[PROGRESS] = Progress(tr, internals.uncaptured(config))
    state.session.observe(progress)
    tr.write_line(f"wbemconform: checking {state.session.description()}")


def pytest_collection_finish(session):
    progress = session.config.stash.get(PROGRESS, None)
    if progress is not None:
        progress.checks_total = len(session.items)
        progress.checks_started = time.monotonic()


def pytest_runtest_logfinish(nodeid, location):
    progress = _progress_of_current()
    if progress is not None:
        progress.checks_done += 1
        progress.tick()


_CONFIGS: list = []


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if config in _CONFIGS:
        _CONFIGS.remove(config)


def _progress_of_current():
    return _CONFIGS[-1].stash.get(PROGRESS, None) if _CONFIGS else None


@pytest.hookimpl(wrapper=True)
def pytest_report_teststatus(report, config):
    """In the compact view a test prints no letter (the counter says how far
    the run is)."""
    category, letter, word = yield
    if _compact(config):
        return category, "", ""
    return category, letter, word
