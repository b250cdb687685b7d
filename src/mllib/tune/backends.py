"""Where trials run: in this process, or in local worker processes.

A back-end runs a list of tasks, each ``(candidate, epochs, state)``, and
calls ``done(candidate, outcome)`` in this process as each one finishes, in
any order. The data is sent to each worker once, when it starts, not with
every task; each worker caps its BLAS threads at one (with threadpoolctl,
when installed), so that parallel trials do not oversubscribe the cores.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from .._validation import check_int
from .trial import run_trial


def get_backend(backend, workers):
    """``"serial"``, or ``"processes"`` with ``workers`` processes (default: the cores)."""
    if backend == "serial":
        if workers not in (None, 1):
            raise ValueError(f"workers={workers!r} needs backend='processes' or a Dask cluster")
        return Serial()
    if backend == "processes":
        workers = (os.cpu_count() or 1) if workers is None else check_int("workers", workers, 1)
        return Processes(workers)
    raise ValueError(f"backend must be 'serial' or 'processes', got {backend!r}")


def _run(task, train, dev):
    candidate, epochs, state = task
    return run_trial(candidate.trial, candidate.params, candidate.settings, candidate.seed,
                     train, dev, epochs=epochs, state=state)


class Serial:
    """Every trial in this process, one after another, in trial order."""

    def run(self, tasks, train, dev, done) -> None:
        for task in tasks:
            done(task[0], _run(task, train, dev))


# The data of a worker process, set once by _start_worker.
_DATA = {}


def _start_worker(train, dev):
    _DATA["train"], _DATA["dev"] = train, dev
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # the trials still run, with BLAS's own thread count
        return
    _DATA["limits"] = threadpool_limits(limits=1)


def _run_in_worker(task):
    return _run(task, _DATA["train"], _DATA["dev"])


class Processes:
    """Trials in ``workers`` local processes, started fresh ("spawn") for each search."""

    def __init__(self, workers):
        self.workers = workers

    def run(self, tasks, train, dev, done) -> None:
        if not tasks:
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)), mp_context=context,
                                 initializer=_start_worker, initargs=(train, dev)) as pool:
            futures = {pool.submit(_run_in_worker, task): task[0] for task in tasks}
            for future in as_completed(futures):
                done(futures[future], future.result())
