"""Where trials run: in this process, in local worker processes, or on a Dask cluster.

A back-end runs a list of tasks, each ``(candidate, epochs, state)``, and
calls ``done(candidate, outcome)`` in this process as each one finishes, in
any order. The data is sent once per search, not with every task, and each
trial runs with its BLAS threads capped at one (with threadpoolctl, when
installed), so that parallel trials do not oversubscribe the cores.

On Dask (:class:`Dask`), the data is not scattered, since scattered data dies
with the worker that holds it: it is the result of a small task whose
arguments the scheduler keeps, so that a lost copy is made again on another
worker. It is then copied to every worker, so that trials spread over all of
them instead of queueing where the one copy is. A trial whose worker dies is run again elsewhere; one that keeps
killing workers (``KilledWorker``) is recorded as failed. Everything the
search has learnt is held here, in the client, and in ``out``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np

from .._validation import check_int
from .trial import run_trial


DASK_SCHEMES = ("tcp://", "tls://", "inproc://", "ws://", "wss://", "ucx://")


def get_backend(backend, workers):
    """``"serial"``; ``"processes"`` with ``workers`` processes (default: the cores); a
    ``dask.distributed.Client``, or the address of a Dask scheduler (``"tcp://host:8786"``)."""
    if _is_dask_client(backend) or (isinstance(backend, str) and backend.startswith(DASK_SCHEMES)):
        if workers is not None:
            raise ValueError(f"workers={workers!r} is for backend='processes'; a Dask cluster "
                             "has the workers it was started with")
        return Dask(backend)
    if backend == "serial":
        if workers not in (None, 1):
            raise ValueError(f"workers={workers!r} needs backend='processes' or a Dask cluster")
        return Serial()
    if backend == "processes":
        workers = (os.cpu_count() or 1) if workers is None else check_int("workers", workers, 1)
        return Processes(workers)
    raise ValueError(f"backend must be 'serial', 'processes', a dask.distributed.Client or a "
                     f"scheduler address such as 'tcp://host:8786', got {backend!r}")


def _is_dask_client(value) -> bool:
    return type(value).__name__ == "Client" and type(value).__module__.startswith("distributed")


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
    with _one_blas_thread():
        return _run(task, _DATA["train"], _DATA["dev"])


def _one_blas_thread():
    """A context that caps BLAS at one thread, or does nothing without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:   # the trials still run, with BLAS's own thread count
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


class Processes:
    """Trials in ``workers`` local processes, started fresh ("spawn") for each search.

    The data is written once to a temporary folder as .npy files, which every
    worker maps read-only: the operating system shares one copy in its page
    cache, and no worker unpickles a copy of its own.
    """

    def __init__(self, workers):
        self.workers = workers

    def run(self, tasks, train, dev, done) -> None:
        if not tasks:
            return
        context = multiprocessing.get_context("spawn")
        with tempfile.TemporaryDirectory(prefix="mllib-search-") as folder:
            shared = (_share(train, folder, "train"), _share(dev, folder, "dev"))
            with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks)),
                                     mp_context=context, initializer=_start_worker,
                                     initargs=shared) as pool:
                futures = {pool.submit(_run_in_worker, task): task[0] for task in tasks}
                for future in as_completed(futures):
                    done(futures[future], future.result())


def _data(train, dev):
    """The search's data, as the result of a task the scheduler can run again."""
    return train, dev


def _run_on_dask(task, data):
    with _one_blas_thread():
        return _run(task, *data)


class Dask:
    """Trials as tasks of a Dask cluster: a ``Client``, or a scheduler's address."""

    def __init__(self, client):
        self.client = client

    def run(self, tasks, train, dev, done) -> None:
        if not tasks:
            return
        from distributed import Client, KilledWorker, as_completed as dask_completed, wait

        client = Client(self.client) if isinstance(self.client, str) else self.client
        try:
            with warnings.catch_warnings():
                # The data travels in the graph on purpose, so that it can be made again.
                warnings.filterwarnings("ignore", message="Sending large graph")
                data = client.submit(_data, train, dev, pure=False)
            wait(data)
            # A copy on every worker; else the scheduler keeps the trials next to the one
            # copy, on one worker.
            client.replicate([data])
            futures = {client.submit(_run_on_dask, task, data, pure=False): task[0]
                       for task in tasks}
            for future in dask_completed(futures):
                candidate = futures[future]
                try:
                    outcome = future.result()
                except KilledWorker as err:
                    outcome = _killed(candidate, err)
                done(candidate, outcome)
        finally:
            if isinstance(self.client, str):
                client.close()


def _killed(candidate, err):
    """The failed row of a trial that kept killing the workers that ran it."""
    from .trial import Outcome

    row = {"trial": candidate.trial, "params": candidate.params, "seed": candidate.seed,
           "status": "failed", "error": f"KilledWorker: the trial's worker died each time it "
           f"ran ({' '.join(str(err).split())[:200]})", "train_error": None, "dev_error": None,
           "train_cost": None, "dev_cost": None, "epochs": None, "seconds": 0.0}
    return Outcome(row)
