"""Where trials run: in this process, in local worker processes, or on a Dask cluster.

A back-end is opened once per search, with the search's data
(``with backend.session(train, dev) as run:``), and ``run(tasks, done)`` then
runs a list of tasks, each ``(candidate, epochs, state)``, calling
``done(candidate, outcome)`` in this process as each one finishes, in any
order. Successive halving calls ``run`` once per rung, in one session, so the
data is sent once per search, not per rung and never per task. Every trial,
on every back-end, runs with BLAS on one thread (:func:`.trial.run_trial`), so
that the bits do not depend on the back-end, and parallel trials do not
oversubscribe the cores.

The local processes map the data read-only from .npy files written once per
search: the operating system shares one copy, and no worker unpickles its own.
On Dask (:class:`.dask_backend.DaskBackend`), likewise, every worker reads and
maps the data itself, from files that the search writes into a folder all
the workers see (``data_dir``), checked by their hash; the data never passes
through the scheduler, whose tasks carry only the files' paths and hashes, and
a worker that replaces a lost one reads it again. A trial whose worker dies is
run again elsewhere; one that keeps killing workers (``KilledWorker``), or a
local process that dies, is recorded as failed. Everything the search has
learnt is held here, in the client, and in ``out``; a lost scheduler, or none
of its workers, stops the search with a :class:`.dask_backend.ClusterError`
that says how to resume it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from .._validation import check_int
from .dask_backend import DASK_SCHEMES, DaskBackend, is_client
from .trial import Outcome, failed_row, run_trial


def get_backend(backend, workers):
    """``"serial"``; ``"processes"`` with ``workers`` processes (default: the cores); a
    :class:`.DaskBackend`, a ``dask.distributed.Client`` or the address of a Dask scheduler
    (``"tcp://host:8786"``), checked here, before anything of the search is written."""
    if isinstance(backend, DaskBackend) or is_client(backend) or (
            isinstance(backend, str) and backend.startswith(DASK_SCHEMES)):
        if workers is not None:
            raise ValueError(f"workers={workers!r} is for backend='processes'; a Dask cluster "
                             "has the workers it was started with")
        return (backend if isinstance(backend, DaskBackend) else DaskBackend(backend)).connect()
    if backend == "serial":
        if workers not in (None, 1):
            raise ValueError(f"workers={workers!r} needs backend='processes' or a Dask cluster")
        return Serial()
    if backend == "processes":
        workers = (os.cpu_count() or 1) if workers is None else check_int("workers", workers, 1)
        return Processes(workers)
    raise ValueError(f"backend must be 'serial', 'processes', a DaskBackend, a "
                     f"dask.distributed.Client or a scheduler address such as "
                     f"'tcp://host:8786', got {backend!r}")


def _run(task, train, dev):
    candidate, epochs, state = task
    return run_trial(candidate.trial, candidate.params, candidate.settings, candidate.seed,
                     train, dev, epochs=epochs, state=state)


class Serial:
    """Every trial in this process, one after another, in trial order."""

    @contextlib.contextmanager
    def session(self, train, dev):
        def run(tasks, done):
            for task in tasks:
                done(task[0], _run(task, train, dev))

        yield run


# The data of a worker process, set once by _start_worker.
_DATA = {}


def _start_worker(train, dev):
    _DATA["train"], _DATA["dev"] = _mapped(train), _mapped(dev)


def _mapped(pair):
    """Arrays saved by _share come back memory-mapped, read-only; others as they came."""
    return tuple(np.load(a, mmap_mode="r") if isinstance(a, str) else a for a in pair)


def _share(pair, folder, name):
    """Each array of ``pair`` as an .npy file in ``folder`` (its path), which every worker
    maps instead of receiving a pickled copy; object arrays, which need pickle, as they are."""
    shared = []
    for i, array in enumerate(pair):
        array = np.asarray(array)
        if array.dtype.hasobject:
            shared.append(array)
            continue
        path = os.path.join(folder, f"{name}{i}.npy")
        np.save(path, array, allow_pickle=False)
        shared.append(path)
    return tuple(shared)


def _run_in_worker(task):
    return _run(task, _DATA["train"], _DATA["dev"])


class Processes:
    """Trials in ``workers`` local processes, started ("spawn") once per search."""

    def __init__(self, workers):
        self.workers = workers

    @contextlib.contextmanager
    def session(self, train, dev):
        with tempfile.TemporaryDirectory(prefix="mllib-search-") as folder:
            self._shared = (_share(train, folder, "train"), _share(dev, folder, "dev"))
            self._pool = self._new_pool()
            try:
                yield self._run
            finally:
                # On an error or Ctrl-C, the trials not yet started are not started.
                self._pool.shutdown(wait=True, cancel_futures=True)

    def _new_pool(self):
        return ProcessPoolExecutor(max_workers=self.workers,
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=self._shared)

    def _run(self, tasks, done):
        """Run ``tasks``; when a worker dies (out of memory, say), every unfinished trial
        runs once more in a new pool, and those it breaks again are recorded as failed."""
        for attempt in (1, 2):
            tasks = self._run_until_broken(tasks, done, last=attempt == 2)
            if not tasks:
                return
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = self._new_pool()

    def _run_until_broken(self, tasks, done, last):
        futures = {self._pool.submit(_run_in_worker, task): task for task in tasks}
        unfinished = []
        for future in as_completed(futures):
            task = futures[future]
            try:
                outcome = future.result()
            except BrokenProcessPool:
                if not last:
                    unfinished.append(task)
                    continue
                outcome = Outcome(failed_row(task[0], "BrokenProcessPool: a worker process "
                                             "died while this trial ran, twice"))
            done(task[0], outcome)
        return sorted(unfinished, key=lambda task: task[0].trial)
