"""Checks: plain functions from observations to a verdict, one per requirement.

Each check is registered under its requirement id with :func:`check` and
called as ``fn(observations, subject)``, where the subject is ``None``
(target-level requirements), a :class:`~wbemconform.observe.Profile` or an
:class:`~wbemconform.observe.Association`. It returns a :class:`Verdict`.
A requirement may have more than one check: the plain one (variant ``""``)
and, e.g., a property-based one (variant ``"property-based"``); each is its
own verdict. Whatever escapes a check -- a transport failure, an unexpected
CIM error, any exception -- is turned into an ``error`` verdict by the run
engine (:mod:`wbemconform.session`), which keeps what the check's
:class:`Judge` found so far.
"""

from .registry import (CHECKS, REGISTRY, STATUSES, Judge, Verdict, capture_judges, check,
                       has_check, not_applicable, run_check, variants)

# register the checks (each module registers its own with .registry.check), in
# this order
from . import (profiles, classes, traversal, pulls, filters, provider, properties,  # noqa: F401
               graph, methodology, interop, registration)

__all__ = ["Verdict", "Judge", "check", "CHECKS", "REGISTRY", "STATUSES", "not_applicable",
           "capture_judges", "variants", "has_check", "run_check"]
