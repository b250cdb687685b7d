"""Elementwise updates over long flat arrays, one cache-sized block at a time.

An optimizer's update is a dozen elementwise NumPy calls over arrays as long
as the model (235k float32 values, about 1 MB each, for the benchmark's wide
network). Run over whole arrays, each call streams every array from memory
again. Run block by block, all the calls on one block find its data in the
core's L2 cache, and the result is the same: every element gets the same
arithmetic whatever the split, so the bits do not depend on the block size
(a test proves it).

The block is large enough that the Python overhead per block (a dozen ufunc
calls, a few µs) stays small against the work in it.
"""

from __future__ import annotations

import numpy as np

# 2¹⁶ elements: 256 KiB of float32 per array, so the five arrays of an Adam
# step (θ, g, m, v and scratch) fit in a 2 MiB L2 together.
BLOCK = 1 << 16


def blockwise(update, arrays, scratch: np.ndarray, block: int = BLOCK) -> None:
    """Call ``update(*parts, scratch_part)`` on aligned blocks of the 1-D ``arrays``.

    Every array in ``arrays`` has the same length; ``scratch`` is a 1-D array
    of at least ``min(block, length)`` elements, free for ``update`` to use.
    """
    n = arrays[0].shape[0]
    if n <= block:   # the common case of a small model: no slicing at all
        update(*arrays, scratch[:n] if scratch.shape[0] > n else scratch)
        return
    for start in range(0, n, block):
        stop = min(start + block, n)
        update(*(a[start:stop] for a in arrays), scratch[:stop - start])


def flush_tiny(arrays, scratch: np.ndarray, tiny: float) -> None:
    """Set the entries with |x| < ``tiny`` (subnormal numbers) of each 1-D array to 0, in place.

    ``scratch`` is a float array of the arrays' length, overwritten. Every other entry
    keeps its bits.
    """
    for a in arrays:
        np.copyto(a, 0, where=np.less(np.abs(a, out=scratch), tiny))
