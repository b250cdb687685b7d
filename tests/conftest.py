"""Shared test settings: the hypothesis profiles.

The tests of the benchmark harness (``bench/``) carry the ``bench`` marker, so that
``python -m pytest -m bench`` runs them alone; they run with the rest of the suite too.
"""

import os

from hypothesis import settings

# Property-based tests draw the same examples on every run, so that CI is reproducible:
# "ci" (loaded when the CI variable is set, as CI runs) and "local" (the default) are
# derandomized and draw the same examples; "dev" draws fresh random ones, to explore:
#     HYPOTHESIS_PROFILE=dev python -m pytest tests/nn/test_numeric_properties.py
# A test's own @settings(max_examples=...) still applies.
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=50,
                          database=None, print_blob=True)
settings.register_profile("local", derandomize=True, deadline=None, max_examples=50,
                          database=None)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI") else "local"))
