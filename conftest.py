"""Project-wide pytest configuration: hypothesis profiles for the project's
own tests.

Select one with the ``HYPOTHESIS_PROFILE`` environment variable (``ci``,
``dev``, ``thorough``), or hypothesis' own ``--hypothesis-profile
wbemconform-NAME``; ``ci`` is the default when ``CI`` is set, ``dev``
otherwise. The profiles are wbemconform.hypothesis_profiles' (the same ones
the suites' property-based checks use); loading one as the process default
is this project's choice -- the plugin never does it.
"""

from wbemconform.hypothesis_profiles import load_default

load_default()
