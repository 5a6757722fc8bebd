"""Run the whole catalog in-process, without pytest.

The pytest suites are the product's front door; this is the same engine
(:class:`wbemconform.session.Session`: the same checks, the same
:meth:`~wbemconform.session.Session.judge`, the same gate) for code that wants
verdicts as data: the project's own tests (the defect zoo, the property
tests), the benchmarks, and tools.
"""

from __future__ import annotations

from .session import Session
from .options import TargetOptions

__all__ = ["run_catalog", "run_session"]


def run_session(options: TargetOptions | None = None, *, target=None, only=None,
                waivers=()) -> Session:
    """A finished :class:`Session` over every check of the plan (or the ids in
    ``only``), writes last, as in the suites."""
    session = Session(options, target=target, waivers=waivers)
    session.run_all(only)
    return session


def run_catalog(options: TargetOptions | None = None, *, target=None, only=None):
    """(Results, Observations) of :func:`run_session` (None observations when
    the target could not be used: ``results.setup_error`` says why)."""
    session = run_session(options, target=target, only=only)
    return session.results, session.discovered
