"""Elementwise updates over long flat arrays, in cache-sized blocks, on every allowed core.

An optimizer's update is a dozen elementwise NumPy calls over arrays as long
as the model (235k float32 values, about 1 MB each, for the benchmark's wide
network). Run over whole arrays, each call streams every array from memory
again. Run block by block, all the calls on one block find its data in the
core's cache; and since NumPy's ufuncs release the GIL, the blocks can be
shared among a few threads, each taking the next block when it is free.

The result has the same bits whatever the split: every element gets the same
arithmetic, in the same order, whichever thread and block it falls in, so the
bits depend neither on the block size nor on the number of threads (tests
prove both).

The number of threads is :func:`mllib.optim.threads.num_threads`, which follows
the process's limits, so that parallel trials of a search never oversubscribe
the cores.

``np.errstate`` is thread-local, so each worker runs its blocks under the
caller's error state and error callback: an ``errstate(under="call")`` around
the call sees underflow in every thread, and ``errstate(all="raise")`` raises
in every thread, the error then re-raised in the caller once all have finished.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from .threads import num_threads

# 2¹⁶ elements: 256 KiB of float32 per array, so that the five arrays of an
# Adam step (θ, g, m, v and scratch), 1.25 MiB together, stay in a core's L2
# cache (2 MiB on many x86 server cores) through all twelve passes. Each block
# costs a dozen ufunc calls of Python overhead, so smaller blocks pay more in
# calls than they save in cache: on the benchmark's 235k parameters, blocks of
# 2¹⁴ made one thread's Adam step longer (bench/RESULTS.md has the figures).
# 235k parameters make 4 blocks to share between threads.
BLOCK = 1 << 16

_POOL = {"pid": None, "executor": None, "size": 0}
_LOCK = threading.Lock()


def threads_for(n: int, block: int = BLOCK) -> int:
    """How many threads :func:`blockwise` uses on arrays of ``n`` elements: one per block at most."""
    if n <= block:
        return 1
    return min(num_threads(), -(-n // block))


def blockwise(update, arrays, scratch: np.ndarray, block: int = BLOCK, threads: int = 1) -> None:
    """Call ``update(*parts, scratch_part)`` on aligned blocks of the 1-D ``arrays``.

    Every array in ``arrays`` has the same length n; ``scratch`` is a 1-D
    array of at least ``threads · min(block, n)`` elements, free for
    ``update`` to use, each thread in its own part. ``threads`` threads,
    the calling one among them, take the blocks one at a time from a shared
    queue; the call returns when every block is done.
    """
    n = arrays[0].shape[0]
    if n <= block:   # the common case of a small model: no slicing at all
        update(*arrays, scratch[:n] if scratch.shape[0] > n else scratch)
        return
    threads = max(1, min(threads, -(-n // block)))
    # One queue of blocks for all threads: each takes the next block when it is
    # free (next() on the shared iterator holds the GIL), so a worker that starts
    # late, on a core busy with other work, leaves its blocks to the caller
    # instead of holding up the step.
    queue = iter(range(0, n, block))

    def run(i):
        buf = scratch[i * block:(i + 1) * block]
        for start in queue:
            stop = min(start + block, n)
            update(*(a[start:stop] for a in arrays), buf[:stop - start])

    if threads == 1:
        run(0)
        return
    errors, call = np.geterr(), np.geterrcall()

    def run_under_callers_errstate(i):
        with np.errstate(call=call, **errors):
            run(i)

    futures = [_executor(threads - 1).submit(run_under_callers_errstate, i)
               for i in range(1, threads)]
    try:
        run(0)
    finally:
        # A worker that has not started (its thread busy elsewhere) has nothing
        # left to do; one that has must finish before the arrays are returned.
        wait([future for future in futures if not future.cancel()])
    for future in futures:
        if not future.cancelled():
            future.result()   # a worker's error, raised here


def _forget_the_pool() -> None:
    """In a forked child: the parent's pool threads do not exist here, and its lock may be held."""
    global _LOCK
    _LOCK = threading.Lock()
    _POOL.update(pid=None, executor=None, size=0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_the_pool)


def _executor(workers: int) -> ThreadPoolExecutor:
    """The process's pool of at least ``workers`` threads, made again after a fork."""
    with _LOCK:
        pool = _POOL
        if pool["pid"] != os.getpid() or pool["size"] < workers:
            # A forked child has the object but not its threads; a larger count
            # replaces the pool, whose old threads end once their queue is empty.
            if pool["executor"] is not None and pool["pid"] == os.getpid():
                pool["executor"].shutdown(wait=False)
            pool.update(pid=os.getpid(), size=workers,
                        executor=ThreadPoolExecutor(workers, thread_name_prefix="mllib-blocks"))
        return pool["executor"]


def flush_tiny(arrays, scratch: np.ndarray, tiny: float) -> None:
    """Set the entries with |x| < ``tiny`` (subnormal numbers) of each 1-D array to 0, in place.

    ``scratch`` is a float array of the arrays' length, overwritten. Every other entry
    keeps its bits.
    """
    for a in arrays:
        np.copyto(a, 0, where=np.less(np.abs(a, out=scratch), tiny))
