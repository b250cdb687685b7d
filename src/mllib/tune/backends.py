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

The local processes (:mod:`.processes`) map the data read-only from files
written once per search, which nothing outlives, even ``kill -9`` of the search.
On Dask (:class:`Dask`), the data is not scattered, since scattered data dies
with the worker that holds it: it is the result of a small task whose
arguments the scheduler keeps, so that a lost copy is made again on another
worker. It is then copied to every worker, so that trials spread over all of
them instead of queueing where the one copy is. A trial whose worker dies is
run again elsewhere; one that keeps killing workers (``KilledWorker``), or a
local process that dies, is recorded as failed. Everything the search has
learnt is held here, in the client, and in ``out``.
"""

from __future__ import annotations

import contextlib
import os
import warnings

from .._validation import check_int
from .processes import Processes
from .trial import Outcome, failed_row
from .trial import run_task as _run

DASK_SCHEMES = ("tcp://", "tls://", "inproc://", "ws://", "wss://", "ucx://")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one, as
    under ``taskset`` or a container's CPU set), else the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def get_backend(backend, workers):
    """``"serial"``; ``"processes"`` with ``workers`` processes (default: the usable cores); a
    ``dask.distributed.Client``, or the address of a Dask scheduler (``"tcp://host:8786"``),
    connected to here, before anything of the search is written."""
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
        workers = usable_cores() if workers is None else check_int("workers", workers, 1)
        return Processes(workers)
    raise ValueError(f"backend must be 'serial', 'processes', a dask.distributed.Client or a "
                     f"scheduler address such as 'tcp://host:8786', got {backend!r}")


def _is_dask_client(value) -> bool:
    return type(value).__name__ == "Client" and type(value).__module__.startswith("distributed")


class Serial:
    """Every trial in this process, one after another, in trial order."""

    @contextlib.contextmanager
    def session(self, train, dev):
        def run(tasks, done):
            for task in tasks:
                done(task[0], _run(task, train, dev))

        yield run


def _data(train, dev):
    """The search's data, as the result of a task the scheduler can run again."""
    return train, dev


def _run_on_dask(task, data):
    return _run(task, *data)


class Dask:
    """Trials as tasks of a Dask cluster: a ``Client``, or a scheduler's address."""

    def __init__(self, client):
        from distributed import Client

        self.own = isinstance(client, str)
        try:
            self.client = Client(client, timeout="10s") if self.own else client
        except (OSError, TimeoutError) as err:
            raise ValueError(f"cannot reach the Dask scheduler at {client!r}: {err}") from None

    @contextlib.contextmanager
    def session(self, train, dev):
        from distributed import wait

        try:
            with warnings.catch_warnings():
                # The data travels in the graph on purpose, so that it can be made again.
                warnings.filterwarnings("ignore", message="Sending large graph")
                data = self.client.submit(_data, train, dev, pure=False)
            wait(data)
            self.client.replicate([data])
            yield lambda tasks, done: self._run(tasks, data, done)
        finally:
            if self.own:
                self.client.close()

    def _run(self, tasks, data, done):
        from distributed import KilledWorker, as_completed as dask_completed

        futures = {self.client.submit(_run_on_dask, task, data, pure=False): task[0]
                   for task in tasks}
        for future in dask_completed(futures):
            candidate = futures[future]
            try:
                outcome = future.result()
            except KilledWorker as err:
                outcome = Outcome(failed_row(candidate, "KilledWorker: the trial's worker died "
                                             f"each time it ran ({' '.join(str(err).split())})"))
            done(candidate, outcome)
