"""glibc's allocator in a Dask worker: undo the nanny's small trim threshold.

Dask's nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (its
setting ``distributed.nanny.pre-spawn-environ``), so that a worker hands
freed memory back to the system sooner. But setting any of glibc's malloc
thresholds switches off its dynamic mmap threshold, which otherwise rises to
the size of the blocks a program keeps freeing. Every temporary array of
128 KiB or more (a batch's activations, a layer's gradients) then becomes a
fresh ``mmap`` that the kernel zeroes and faults in page by page, and that
``free`` unmaps again. The products and ReLUs of a 256-row batch then run
about 2.3× slower, which takes away all that a second Dask worker gives a
search.

:func:`undo_nanny_trim_threshold` therefore sets, in a worker whose
environment has that variable, the two thresholds where glibc's dynamic rule
would take them at most: blocks above 32 MiB are mapped, and free memory
above 64 MiB at the top of the heap is returned. It changes speed and memory
use only, never a result. Elsewhere (another C library, no such variable)
it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import platform

NANNY_VARIABLE = "MALLOC_TRIM_THRESHOLD_"
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3          # glibc's malloc.h
MMAP_THRESHOLD = 32 * 2**20     # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit machines
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD                  # the dynamic rule's ratio
_DONE = []


def undo_nanny_trim_threshold() -> bool:
    """Raise glibc's mmap and trim thresholds in this process if the environment set the
    trim threshold (once per process); whether they are now raised."""
    if not _DONE:
        _DONE.append(NANNY_VARIABLE in os.environ and platform.libc_ver()[0] == "glibc"
                     and _mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                     and _mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _DONE[0]


def _mallopt(parameter, value) -> bool:
    try:
        return ctypes.CDLL(None).mallopt(parameter, value) == 1
    except (OSError, AttributeError):
        return False
