"""Where trials run: in this process, in local worker processes, or on a Dask cluster.

A back-end is opened once per search, with the search's data
(``with backend.session(train, dev) as run:``), and ``run(tasks, done)`` then
runs an iterable of tasks (:class:`.trial.Task`), calling ``done(candidate,
outcome)`` in this process as each one finishes, in any order. A back-end
takes the next task from ``tasks`` only when a worker is free for it, after
the ``done`` of the tasks finished before: a search whose tasks depend on
the trials finished so far (pruning, :mod:`.pruning`) gives them from a
generator. Successive halving calls ``run`` once per rung, in one session, so the
data is sent once per search, not per rung and never per task. Every trial,
on every back-end, runs with BLAS on one thread (:func:`.trial.run_task`), so
that the bits do not depend on the back-end, and parallel trials do not
oversubscribe the cores.

The local processes (:mod:`.processes`) map the data read-only from files
written once per search, which nothing outlives, even ``kill -9`` of the search.
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
import os

from .._validation import check_int
from .dask_backend import DASK_SCHEMES, DaskBackend, is_client
from .processes import Processes
from .trial import run_task


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one, as
    under ``taskset`` or a container's CPU set), else the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def get_backend(backend, workers):
    """``"serial"``; ``"processes"`` with ``workers`` processes (default: the usable cores); a
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
        workers = usable_cores() if workers is None else check_int("workers", workers, 1)
        return Processes(workers)
    raise ValueError(f"backend must be 'serial', 'processes', a DaskBackend, a "
                     f"dask.distributed.Client or a scheduler address such as "
                     f"'tcp://host:8786', got {backend!r}")


class Serial:
    """Every trial in this process, one after another, in trial order."""

    @contextlib.contextmanager
    def session(self, train, dev):
        def run(tasks, done):
            for task in tasks:
                done(task[0], run_task(task, train, dev))

        yield run
