"""The hypothesis profiles that bound the property-based checks.

``ci`` (60 examples, derandomized: the same verdicts every run), ``dev`` (30,
random) and ``thorough`` (2,000). The pytest plugin registers them wherever
the suites run (``--wbem-hypothesis-profile NAME`` picks one; else
``$HYPOTHESIS_PROFILE``; else ``ci`` when ``$CI`` is set and ``dev``
otherwise); the project's own tests use the same ones.

The property-based checks are @given tests, and the project's own property
tests run the whole engine per generated target: that nesting is intended,
so the nested_given health check is suppressed (the inner checks bound
themselves while nested; see wbemconform.checks.properties).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["register", "load_default", "PROFILES"]

_NESTED = [HealthCheck.too_slow, HealthCheck.nested_given]
PROFILES = {
    "ci": dict(max_examples=60, deadline=None, derandomize=True,
               suppress_health_check=_NESTED),
    "dev": dict(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.nested_given]),
    "thorough": dict(max_examples=2000, deadline=None, suppress_health_check=_NESTED),
}


def register():
    for name, kwargs in PROFILES.items():
        settings.register_profile(name, **kwargs)


def load_default(name=None):
    """Load ``name``, else $HYPOTHESIS_PROFILE, else ci (with $CI) or dev."""
    register()
    settings.load_profile(name or os.environ.get("HYPOTHESIS_PROFILE") or
                          ("ci" if os.environ.get("CI") else "dev"))
