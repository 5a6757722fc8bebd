"""Project-wide pytest configuration: hypothesis profiles.

Select one with ``--hypothesis-profile NAME`` (hypothesis' own option) or the
``HYPOTHESIS_PROFILE`` environment variable; ``ci`` is the default when
``CI`` is set, ``dev`` otherwise.
"""

import os

from hypothesis import HealthCheck, settings

# The property tests run the whole engine, whose property-based checks are
# @given tests themselves: nesting is intended (the inner ones bound
# themselves while nested; see wbemconform.checks.properties).
NESTED = [HealthCheck.too_slow, HealthCheck.nested_given]
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=NESTED)
settings.register_profile("dev", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.nested_given])
settings.register_profile("thorough", max_examples=2000, deadline=None,
                          suppress_health_check=NESTED)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or
                      ("ci" if os.environ.get("CI") else "dev"))
