"""The tests of the benchmark harness (``bench/benchmark.py``) are slow, so only one smoke
test of it runs by default. The others carry the ``bench`` marker and are skipped, with
the reason shown in the summary, unless asked for:

    python -m pytest --run-bench          # the whole suite, benchmark-harness tests included
    python -m pytest -m bench             # the benchmark-harness tests only
"""

import pytest

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
