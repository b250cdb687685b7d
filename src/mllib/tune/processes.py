"""Trials in local worker processes, of which nothing outlives the search's process.

:class:`Processes` runs the trials in a ``ProcessPoolExecutor`` of "spawn"
processes. Even when the search's process is killed with SIGKILL, which runs
no cleanup at all, it leaves neither processes nor files behind:

- **The data has no name on disk.** Each array is written once per search into
  an anonymous temporary file (:func:`tempfile.TemporaryFile`: created with
  ``O_TMPFILE`` on Linux, so that it never has a name, or removed right after
  its creation elsewhere on POSIX), and every worker memory-maps it, read-only,
  from a file descriptor it inherits when it starts (:class:`_SharedArray`), so
  that the operating system shares one copy and no worker unpickles its own.
  The disk space goes back when the last descriptor or map closes: when the
  search and its workers have ended, however they ended. No folder is named,
  so there is none to remove and none that a kill can leave, whereas removing
  one when every worker has mapped it would leave it after a kill while
  workers start, and could not serve the new workers started after a worker
  dies (:meth:`Processes._run`): these get the same descriptors, which the
  search's process holds open until the search ends. (Where a process cannot
  inherit a descriptor, on Windows, each worker gets a pickled copy instead.)
- **Workers end with the search's process.** Each worker watches it from a
  thread (:func:`_exit_with_parent`) and ends itself with ``os._exit`` at
  once when it is gone, even in the middle of a trial. It waits on the pipe
  multiprocessing gives every spawned child (``parent_process().sentinel``),
  whose other end only the parent holds: it reads end-of-file the moment the
  parent dies, however it dies, on every platform. Once a second it also
  compares ``os.getppid()`` with the parent's pid, in case a process forked
  from the parent holds a copy of that end. ``prctl(PR_SET_PDEATHSIG)`` would
  be Linux-only, and it fires when the *thread* that started the worker ends,
  which is not the process's end here: a search may run in a thread, and the
  pool starts workers from whichever thread submits.
- **The resource tracker follows.** multiprocessing's resource tracker ends
  when every holder of its pipe (the search's process and its workers) has
  ended, so it goes with the last worker (it then warns on stderr of the
  semaphores it cleans up).
"""

from __future__ import annotations

import contextlib
import mmap
import multiprocessing
import os
import tempfile
import threading
from concurrent import futures
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import reduction
from multiprocessing.connection import wait
from multiprocessing.context import get_spawning_popen

import numpy as np

from ..optim.threads import single_threaded_from_now
from .trial import Outcome, failed_row, run_task

# Seconds between two looks at os.getppid(); the pipe wakes the watch at once.
WATCH_SECONDS = 1.0
# The exit status of a worker that ends because the search's process is gone.
ORPHANED = 70

# Whether a spawned process can inherit a file descriptor (POSIX); without it, each
# worker receives its own pickled copy of the data.
_PASSES_FILES = hasattr(reduction, "DupFd")


class Processes:
    """Trials in ``workers`` local processes, started ("spawn") once per search."""

    def __init__(self, workers):
        self.workers = workers

    @contextlib.contextmanager
    def session(self, train, dev):
        with contextlib.ExitStack() as files:
            self._shared = (_share(train, files), _share(dev, files))
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
        """Run ``tasks``, one per worker at a time (a task is taken from ``tasks`` only when
        a worker is free for it, see :mod:`.backends`); when a worker dies (out of memory,
        say), the trials it interrupted run once more in a new pool, before the rest, and
        whatever the new pool's breaking interrupts, or has not started, is recorded as
        failed."""
        feed = Feed(tasks)
        for attempt in (1, 2):
            if not self._run_until_broken(feed, done, last=attempt == 2):
                return
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = self._new_pool()

    def _run_until_broken(self, feed, done, last) -> bool:
        """Whether the pool broke (not on the ``last`` attempt): then the trials it
        interrupted are back at the front of ``feed``."""
        running, broken = {}, False
        while True:
            while not broken and len(running) < self.workers and (task := feed.next()) is not None:
                try:
                    running[self._pool.submit(_run_in_worker, task)] = task
                except BrokenProcessPool:     # it broke before this trial could start
                    if not last:
                        feed.again(task)
                        broken = True
                    else:                     # the last attempt's pool: fail the rest
                        done(task[0], _broken(task))
            if not running:
                return broken
            finished, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
            for future in sorted(finished, key=lambda f: running[f][0].trial):
                task = running.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    if not last:
                        feed.again(task)
                        broken = True
                        continue
                    outcome = _broken(task)
                done(task[0], outcome)


def _broken(task):
    return Outcome(failed_row(task[0], "BrokenProcessPool: a worker process died while this "
                              "trial ran, twice"))


class Feed:
    """The tasks of one ``run``, taken one at a time; those given back (:meth:`again`) come
    first, in trial order."""

    def __init__(self, tasks):
        self.tasks, self.returned = iter(tasks), []

    def next(self):
        """The next task; None when there is none left."""
        if self.returned:
            return self.returned.pop(0)
        return next(self.tasks, None)

    def again(self, task):
        self.returned.append(task)
        self.returned.sort(key=lambda t: t[0].trial)


def _share(pair, files):
    """``pair`` with each array as a :class:`_SharedArray`, its file entered in ``files``
    (an ExitStack, which closes it); object arrays, which need pickle, and empty ones,
    which cannot be mapped, as they are."""
    shared = []
    for array in pair:
        array = np.asarray(array)
        if array.dtype.hasobject or array.nbytes == 0 or not _PASSES_FILES:
            shared.append(array)
            continue
        file = files.enter_context(tempfile.TemporaryFile(prefix="mllib-search-"))
        fortran = array.flags.f_contiguous and not array.flags.c_contiguous
        (array.T if fortran else array).tofile(file)   # as np.save lays it out
        file.flush()
        shared.append(_SharedArray(file, array.dtype, array.shape, "F" if fortran else "C"))
    return tuple(shared)


class _SharedArray:
    """An array in an anonymous file of the search's process, which a worker receives as
    that file's descriptor and maps; it can only be pickled while a process is spawned."""

    def __init__(self, file, dtype, shape, order):
        self.file, self.dtype, self.shape, self.order = file, dtype, shape, order

    def __reduce__(self):
        if get_spawning_popen() is None:   # DupFd would then start a thread to serve it
            raise TypeError("a _SharedArray is only sent to a process being started")
        return _mapped, (reduction.DupFd(self.file.fileno()), self.dtype, self.shape,
                         self.order)


def _mapped(fd, dtype, shape, order):
    """The array of a :class:`_SharedArray`, in the worker: mapped read-only."""
    descriptor = fd.detach()
    try:
        pages = mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ)
    finally:
        os.close(descriptor)   # the map keeps its own
    return np.ndarray(shape, dtype, buffer=pages, order=order)


# The data of a worker process, set once by _start_worker.
_DATA = {}


def _start_worker(train, dev):
    _exit_with_parent()
    single_threaded_from_now()
    _DATA["train"], _DATA["dev"] = train, dev


def _run_in_worker(task):
    return run_task(task, _DATA["train"], _DATA["dev"])


def _exit_with_parent():
    """Watch the search's process from a thread, and end this one when it is gone."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_watch, args=(parent.sentinel, parent.pid), daemon=True,
                         name="mllib-watch-parent").start()


def _watch(sentinel, parent_pid):
    """Return never: ``os._exit`` once ``sentinel`` reads end-of-file or this process has
    another parent than ``parent_pid`` (it was re-parented: its parent died)."""
    while not wait([sentinel], timeout=WATCH_SECONDS) and os.getppid() == parent_pid:
        pass
    os._exit(ORPHANED)
