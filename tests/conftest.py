"""Shared test settings: the hypothesis profiles, and the benchmark marker.

The tests of the benchmark harness (``bench/benchmark.py``) are slow, so only one smoke
test of it runs by default. The others carry the ``bench`` marker and are skipped, with
the reason shown in the summary, unless asked for:

    python -m pytest --run-bench          # the whole suite, benchmark-harness tests included
    python -m pytest -m bench             # the benchmark-harness tests only
"""

import os

import pytest
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

SKIP_BENCH = pytest.mark.skip(reason="benchmark harness test: run with --run-bench")


def pytest_addoption(parser):
    parser.addoption("--run-bench", action="store_true",
                     help="also run the tests marked bench (the benchmark harness's)")


def pytest_collection_modifyitems(config, items):
    # ``-m bench`` (or any -m naming bench) chooses for itself what runs.
    if config.getoption("--run-bench") or "bench" in config.getoption("markexpr", ""):
        return
    for item in items:
        if item.get_closest_marker("bench"):
            item.add_marker(SKIP_BENCH)
