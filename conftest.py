"""Project-wide pytest configuration: hypothesis profiles for the project's
own tests.

Select one with the ``HYPOTHESIS_PROFILE`` environment variable (``ci``,
``dev``, ``thorough``), or hypothesis' own ``--hypothesis-profile
wbemconform-NAME``; ``ci`` is the default when ``CI`` is set, ``dev``
otherwise. The profiles are wbemconform.hypothesis_profiles' (the same ones
the suites' property-based checks use); loading one as the process default
is this project's choice -- the plugin never does it.

The project's tests keep no example database: hypothesis' default one is a
.hypothesis/ folder in the working directory, which the tests would leave
behind (a failing example is printed, with how to reproduce it, instead).
"""

from hypothesis import settings

from wbemconform.hypothesis_profiles import load_default

load_default()
settings.register_profile("wbemconform-project-tests", parent=settings.default, database=None)
settings.load_profile("wbemconform-project-tests")
