"""Project-wide pytest configuration: hypothesis profiles.

Select one with ``--hypothesis-profile NAME`` (hypothesis' own option) or the
``HYPOTHESIS_PROFILE`` environment variable; ``ci`` is the default when
``CI`` is set, ``dev`` otherwise. The profiles are
wbemconform.hypothesis_profiles' (the same ones the suites use anywhere).
"""

from wbemconform.hypothesis_profiles import load_default

load_default()
