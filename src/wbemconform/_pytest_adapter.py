"""The pytest internals the plugin needs, in one place, each with its reason.

pytest has no public API for these; each name is pinned against the installed
pytest by ``tests/test_private_apis.py``, so a rename upstream fails a test
instead of silently switching a safeguard off.

* ``_pytest.junitxml.xml_key`` and ``LogXML.logfile`` -- the JUnit file pytest
  writes at the end: the plugin adds the gate's decision to it as testsuite
  properties (``LogXML.add_global_property``, which the public
  ``record_testsuite_property`` fixture uses too), and has pytest write it to a
  temporary file that is renamed into place, so a killed run never leaves a
  half-written file and a stale one is replaced whole.
* the ``capturemanager`` plugin's ``global_and_fixture_disabled()`` -- the
  progress lines ``wbemconform check`` prints while discovery runs inside
  collection must get past pytest's output capture (pytest's live logging
  uses the same method); without it they are dropped, never broken.
* ``config.trace.root._writer`` (pluggy's ``TagTracer``) -- ``--debug`` writes
  the command line (passwords included) and every hook call to a log file:
  the plugin scrubs what was written so far and every later line.
"""

from __future__ import annotations

import os

__all__ = ["junit_xml", "redirect_junit", "scrub_debug_log", "uncaptured"]


def uncaptured(config):
    """A function that gives a context manager in which output passes
    pytest's capture, or None where the capture manager has none."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    return getattr(capture, "global_and_fixture_disabled", None)


def junit_xml(config):
    """pytest's ``LogXML`` for ``--junitxml``, or None."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover -- pinned by tests/test_private_apis.py
        return None
    return config.stash.get(xml_key, None)


def redirect_junit(xml, temporary):
    """Have pytest write its JUnit file to ``temporary``; returns the final path."""
    final = xml.logfile
    xml.logfile = temporary
    return final


def restore_junit(xml, final):
    xml.logfile = final


def scrub_debug_log(config, scrub):
    """With ``--debug``: rewrite what the debug log holds so far through
    ``scrub`` and pass every later line through it. Returns whether it did."""
    root = config.trace.root
    writer = getattr(root, "_writer", None)
    handle = getattr(writer, "__self__", None)
    if writer is None or handle is None or not hasattr(handle, "seek"):
        return False
    handle.flush()
    with open(handle.name, encoding="utf-8", errors="replace") as f:
        written = f.read()
    handle.seek(0)
    handle.truncate()
    handle.write(scrub(written))
    handle.flush()
    root.setwriter(lambda text: writer(scrub(text)))
    return True


def same_file(a, b):
    """Whether two output paths name the same file (also through links)."""
    a, b = os.path.abspath(a), os.path.abspath(b)
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
