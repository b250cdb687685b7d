"""glibc's thresholds in a Dask worker: what the nanny's trim threshold costs, and its undoing.

Each case runs in a fresh interpreter, since glibc reads ``MALLOC_TRIM_THRESHOLD_``
once, at a process's first allocation, and ``mallopt`` cannot be taken back.
"""

import json
import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc",
                                reason="the thresholds are glibc's")

# Page faults while a 1 MiB array is made, written and freed 200 times: each one is
# a fresh mapping of 256 pages when glibc maps it, and none once the heap holds it.
PROBE = """
import json, resource, sys
import numpy as np
from mllib.tune.allocator import undo_nanny_trim_threshold
undone = undo_nanny_trim_threshold() if sys.argv[1] == "undo" else None
np.ones(2**18, np.float32)          # the heap grows to hold one
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    np.ones(2**18, np.float32)
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"undone": undone, "faults": faults, "again": undo_nanny_trim_threshold()}))
"""
MAPPED = 200 * 256      # the faults of 200 fresh mappings of 256 pages


def probe(action, trim=None):
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    if trim is not None:
        environment["MALLOC_TRIM_THRESHOLD_"] = str(trim)
    done = subprocess.run([sys.executable, "-c", PROBE, action], env=environment,
                          capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout)


def test_the_nannys_trim_threshold_maps_every_large_temporary_afresh():
    assert probe("keep", trim=65536)["faults"] >= MAPPED
    assert probe("keep")["faults"] < MAPPED // 10   # glibc's dynamic threshold: in the heap


def test_undoing_it_keeps_large_temporaries_in_the_heap_and_is_done_once():
    undone = probe("undo", trim=65536)
    assert undone["undone"] is True and undone["again"] is True
    assert undone["faults"] < MAPPED // 10


def test_without_the_variable_nothing_is_changed():
    assert probe("undo")["undone"] is False
