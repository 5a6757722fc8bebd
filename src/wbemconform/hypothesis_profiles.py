"""The hypothesis profiles that bound the property-based checks.

``ci`` (60 examples, derandomized), ``dev`` (30, random) and ``thorough``
(2,000), registered as ``wbemconform-ci``, ``wbemconform-dev`` and
``wbemconform-thorough`` so that they never replace a profile of the same
name that another project registers.

A conformance run picks one with :func:`use` (``--wbem-hypothesis-profile
NAME``; else ``$HYPOTHESIS_PROFILE`` when it names one of these; else ``ci``
when ``$CI`` is set and ``dev`` otherwise) and the property-based checks take
their settings from :func:`active` -- never from hypothesis' process-wide
default, which stays whatever the process (another project's conftest, say)
loaded. A conformance run draws derandomized examples whichever profile it
uses: the same target gives the same examples, hence the same operations and
evidence, every run; ``--wbem-hypothesis-seed N`` (:func:`seed`) draws other
examples, the same ones for the same N. Without :func:`use` (the in-process runner inside the project's own
tests), :func:`active` is that default, as the tests load it with
:func:`load_default`.

The property-based checks are @given tests, and the project's own property
tests run the whole engine per generated target: that nesting is intended,
so the nested_given health check is suppressed (the inner checks bound
themselves while nested; see wbemconform.checks.properties).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["register", "load_default", "use", "active", "seed", "PROFILES", "PREFIX"]

PREFIX = "wbemconform-"
_NESTED = [HealthCheck.too_slow, HealthCheck.nested_given]
PROFILES = {
    "ci": dict(max_examples=60, deadline=None, derandomize=True,
               suppress_health_check=_NESTED),
    "dev": dict(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.nested_given]),
    "thorough": dict(max_examples=2000, deadline=None, suppress_health_check=_NESTED),
}
_active = None  # the settings a conformance run chose (use), or None
_seed = None  # the seed a conformance run chose (use), or None


def register():
    for name, kwargs in PROFILES.items():
        settings.register_profile(PREFIX + name, **kwargs)


def choose(name=None):
    """``name``, else $HYPOTHESIS_PROFILE when it is one of ours, else ci (with
    $CI) or dev."""
    env = os.environ.get("HYPOTHESIS_PROFILE")
    return name or (env if env in PROFILES else None) or \
        ("ci" if os.environ.get("CI") else "dev")


def use(name=None, release=False, seed=None):
    """The property-based checks of this run take the settings of profile
    ``name`` (see :func:`choose`), derandomized, or drawn from ``seed`` (an
    int) when one is given; ``release=True`` forgets the choice."""
    global _active, _seed
    if release:
        _active = _seed = None
        return None
    register()
    _active = settings(settings.get_profile(PREFIX + choose(name)), derandomize=True)
    _seed = seed
    return _active


def seed():
    """The seed the property-based checks draw from (``--wbem-hypothesis-seed``),
    or None: derandomized (see :func:`use`) or as the process' default has it."""
    return _seed


def active():
    """The settings the property-based checks take now."""
    return _active if _active is not None else settings.default


def load_default(name=None):
    """Load one of these profiles as hypothesis' process-wide default: for the
    project's own tests (tests/conftest.py), never done by the plugin."""
    register()
    settings.load_profile(PREFIX + choose(name))


def use_user_storage(environ=None):
    """``wbemconform check``: hypothesis keeps what it stores (its example
    database, its caches of constants and character maps) in the user's cache
    folder -- ``$XDG_CACHE_HOME/wbemconform/hypothesis``, else
    ``~/.cache/wbemconform/hypothesis`` -- never in a ``.hypothesis`` folder
    of the current one; ``$HYPOTHESIS_STORAGE_DIRECTORY``, when set, wins (as
    in hypothesis). Returns the folder chosen (None: the variable's)."""
    from pathlib import Path

    from hypothesis.configuration import set_hypothesis_home_dir
    environ = os.environ if environ is None else environ
    if environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return None
    cache = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(cache) / "wbemconform" / "hypothesis"
    set_hypothesis_home_dir(folder)
    return folder
