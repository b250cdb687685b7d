"""The Dask back-end: trials as tasks of a Dask cluster (see :mod:`.backends`).

The data never passes through the scheduler: the search writes it once as
.npy files in ``data_dir`` (:mod:`.datafiles`), and each trial's task carries
only their folder and hashes; each worker reads and maps them on its first
trial, so that trials spread over every worker, and a worker that replaces a
lost one reads them again. A trial whose worker dies is run again elsewhere;
one that keeps killing workers (``KilledWorker``) is recorded as failed.
A worker's first trial also undoes the nanny's malloc trim threshold, which
makes trials about 2.3× slower (:mod:`.allocator`).

The cluster can stop a search in two ways that lose nothing finished: no
worker joins the scheduler within ``wait_for_workers`` seconds
(:class:`NoWorkers`), or the connection to the scheduler is lost
(:class:`SchedulerLost`). The search adds to either how many trials it kept,
and where; running it again resumes. Nothing connects, waits or writes until
the search has trials to run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os

from .._validation import check_positive
from ..optim.threads import single_threaded_from_now
from . import datafiles
from .allocator import undo_nanny_trim_threshold
from .trial import Outcome, failed_row, run_task

DASK_SCHEMES = ("tcp://", "tls://", "inproc://", "ws://", "wss://", "ucx://")
TLS_SCHEMES = ("tls://", "wss://")
CONNECT_SECONDS = 10


class ClusterError(RuntimeError):
    """The Dask cluster stopped the search; every trial that finished is kept.

    ``str(error)`` says what happened, and after :meth:`resumable` what the
    search kept and how to resume it.
    """

    KEPT = ("{what} after {progress}; the finished trials are kept in {out}: run the same "
            "command again to resume")
    UNKEPT = "{what} after {progress}; none is kept, since the search has no out=DIR"

    def __init__(self, message, address):
        super().__init__(message)
        self.address = address

    def resumable(self, progress, out) -> ClusterError:
        """This error, saying ``progress`` (``"K of N trials"``) and how to resume."""
        template = self.UNKEPT if out is None else self.KEPT
        return type(self)(template.format(what=self, progress=progress, out=out,
                                          address=self.address), self.address)


class SchedulerLost(ClusterError):
    """The connection to the Dask scheduler broke during the search."""


class NoWorkers(ClusterError):
    """No worker joined the Dask scheduler in time."""

    KEPT = ("{what}: start workers (dask worker {address}), then run the same command again "
            "to resume from {out}, which keeps {progress}")
    UNKEPT = ("{what}: start workers (dask worker {address}), then run the search again "
              "(with out=DIR, it would resume; {progress} were finished)")


class DataUnreadable(ValueError):
    """A Dask worker cannot read the search's data files as the search wrote them."""


class DaskBackend:
    """Trials as tasks of a Dask cluster.

    Parameters
    ----------
    scheduler : str or distributed.Client
        A scheduler's address (``"tcp://host:8786"``, ``"tls://host:8786"``), to
        which each search connects, closing the connection when it ends; or a
        ``Client``, which searches use and leave open.
    security : distributed.security.Security, optional
        TLS credentials for a ``tls://`` address; default: those of Dask's
        configuration (``distributed.comm.tls.*``). A ``Client`` has its own.
    data_dir : path, optional
        The folder in which each search writes its data for the workers to
        read: it must be visible at the same path to every worker. Default:
        the temp folder, which serves a cluster on this machine only.
    wait_for_workers : float
        Seconds to wait for a first worker before giving up (:class:`NoWorkers`).
    """

    def __init__(self, scheduler, *, security=None, data_dir=None, wait_for_workers=60.0):
        self.own = isinstance(scheduler, str)
        if not (self.own and scheduler.startswith(DASK_SCHEMES)) and not is_client(scheduler):
            raise ValueError(f"scheduler must be a dask.distributed.Client or an address such "
                             f"as 'tcp://host:8786', got {scheduler!r}")
        if security is not None and not self.own:
            raise ValueError("security= is for a scheduler address: a Client has its own")
        if data_dir is not None and not os.path.isdir(data_dir):
            raise ValueError(f"data_dir={str(data_dir)!r} is not a folder: give one that every "
                             "Dask worker can read at the same path")
        self.scheduler, self.security, self.data_dir = scheduler, security, data_dir
        self.wait = check_positive("wait_for_workers", wait_for_workers)

    def connect(self) -> DaskBackend:
        """Check now, before the search writes anything, that the scheduler answers."""
        if self.own:
            self._check_security()
            self._client().close()
        return self

    def _check_security(self):
        from distributed.security import Security

        security = self.security if self.security is not None else Security()
        try:
            context = security.get_connection_args("client").get("ssl_context")
        except (OSError, ValueError) as err:
            raise ValueError(f"cannot load the TLS credentials for {self.scheduler}: "
                             f"{err}") from None
        if self.scheduler.startswith(TLS_SCHEMES) and context is None:
            raise ValueError(
                f"the scheduler {self.scheduler} needs TLS credentials: give security="
                "Security(tls_ca_file=..., tls_client_cert=..., tls_client_key=...) (mllib "
                "tune: --tls-ca-file, --tls-cert, --tls-key), or set them in Dask's "
                "configuration (distributed.comm.tls.ca-file, .client.cert, .client.key)")
        if self.security is not None and context is not None \
                and not self.scheduler.startswith(TLS_SCHEMES):
            raise ValueError(f"TLS credentials are given, but the scheduler address "
                             f"{self.scheduler} is not tls://")

    def _client(self):
        from distributed import Client

        try:
            return Client(self.scheduler, timeout=f"{CONNECT_SECONDS}s", security=self.security,
                          set_as_default=False)
        except (OSError, TimeoutError, asyncio.TimeoutError) as err:
            raise ValueError(f"cannot reach the Dask scheduler at {self.scheduler!r}: "
                             f"{' '.join(str(err).split())}") from None

    @contextlib.contextmanager
    def session(self, train, dev):
        session = _Session(self, train, dev)
        try:
            yield session.run
        finally:
            session.close()


def is_client(value) -> bool:
    return type(value).__name__ == "Client" and type(value).__module__.startswith("distributed")


class _Session:
    """One search on the cluster: it connects, waits for a worker and writes the data when it
    first has trials to run, so that a search with none left does not need the cluster."""

    def __init__(self, backend, train, dev):
        self.backend, self.data = backend, (train, dev)
        self.client = self.files = self.quiet = self.address = None

    def run(self, tasks, done):
        try:
            if self.files is None:
                self._start()
            self._run(tasks, done)
        except SchedulerLost:
            if self.quiet is not None:
                self.quiet.lost = True
            raise

    def _start(self):
        backend = self.backend
        if backend.own:
            self.quiet = _QuietLoss.install()
            self.client = backend._client()
            self.address = backend.scheduler
        else:
            self.client = backend.scheduler
            self.address = self.client.scheduler.address
        self._wait_for_a_worker("no worker joined the Dask scheduler at {address} within "
                                "{wait:g} s")
        self.files = datafiles.write(*self.data, backend.data_dir)

    def _wait_for_a_worker(self, what):
        """Until a worker has joined; else NoWorkers, saying ``what`` (with ``{address}``
        and ``{wait}`` to fill in) and how to wait longer."""
        wait = self.backend.wait
        try:
            self.client.wait_for_workers(1, timeout=wait)
        except (TimeoutError, asyncio.TimeoutError):
            what = what.format(address=self.address, wait=wait)
            raise NoWorkers(f"{what} (wait_for_workers; mllib tune --wait-for-workers)",
                            self.address) from None
        except OSError:
            raise self._lost() from None

    def _lost(self):
        return SchedulerLost(f"lost the Dask scheduler at {self.address}", self.address)

    def _run(self, tasks, done):
        """Run ``tasks``, calling ``done`` with each outcome; cancel the rest on the way out.

        A task is taken from ``tasks`` and submitted only when a worker's thread is free
        for it (see :mod:`.backends`), so that the cluster runs one trial per thread.
        """
        if self.client.status != "running":      # lost between two rungs of halving
            raise self._lost()
        feed, running = iter(tasks), {}
        try:
            self._submit(feed, running)
            while running:
                finished, _ = self._finished(set(running))
                for future in sorted(finished, key=lambda f: running[f].trial):
                    candidate = running.pop(future)
                    done(candidate, _outcome(future, candidate, self._lost))
                self._submit(feed, running)
        finally:
            unfinished = [future for future in running if not future.done()]
            if unfinished and self.client.status == "running":
                with contextlib.suppress(OSError, TimeoutError, asyncio.TimeoutError):
                    self.client.cancel(unfinished)

    def _submit(self, feed, running):
        """Submit tasks of ``feed`` until as many run as the cluster has threads (one at
        least, while workers come back)."""
        try:
            threads = sum(self.client.nthreads().values())
        except OSError:
            raise self._lost() from None
        while len(running) < max(1, threads) and (task := next(feed, None)) is not None:
            running[self.client.submit(_run_on_dask, task, self.files, pure=False)] = task[0]

    def _finished(self, pending):
        """``(finished, pending)``, at least one finished; NoWorkers once the scheduler has
        had no worker for ``wait_for_workers`` seconds, and SchedulerLost if it is lost."""
        from distributed import wait

        while True:
            try:
                with self.client.as_current():     # wait() uses the current client
                    return wait(pending, timeout=self.backend.wait,
                                return_when="FIRST_COMPLETED")
            except (TimeoutError, asyncio.TimeoutError):
                try:
                    workers = self.client.nthreads()
                except OSError:
                    raise self._lost() from None
                if not workers:
                    self._wait_for_a_worker("every worker left the Dask scheduler at "
                                            "{address}, and none joined within {wait:g} s")
            except concurrent.futures.CancelledError as err:
                if self.client.status != "running" or "scheduler-connection-lost" in str(err):
                    raise self._lost() from None
                raise

    def close(self):
        try:
            if self.files is not None:
                if self.client.status == "running":
                    with contextlib.suppress(OSError, concurrent.futures.CancelledError,
                                             TimeoutError, asyncio.TimeoutError):
                        self.client.run(datafiles.release, self.files, on_error="ignore")
                datafiles.remove(self.files)
        finally:
            if self.backend.own and self.client is not None:
                self.client.close()
            if self.quiet is not None:
                self.quiet.remove()


def _outcome(future, candidate, lost):
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker as err:
        return Outcome(failed_row(candidate, "KilledWorker: the trial's worker died each "
                                  f"time it ran ({' '.join(str(err).split())})"))
    except concurrent.futures.CancelledError as err:
        if getattr(err, "reason", None) == "scheduler-connection-lost":
            raise lost() from None
        raise


def _run_on_dask(task, files):
    """A trial on a worker, with the search's data read from ``files`` (once per worker)."""
    single_threaded_from_now()
    undo_nanny_trim_threshold()
    try:
        train, dev = files.load()
    except (OSError, datafiles.DataMismatch) as err:
        from distributed import get_worker

        raise DataUnreadable(
            f"the Dask worker at {get_worker().address} cannot read the search's data: "
            f"{err}. data_dir (mllib tune --data-dir) must be a folder that every worker "
            "sees at the same path as this process, such as a shared file system") from None
    return run_task(task, train, dev)


class _QuietLoss(logging.Filter):
    """Drops what distributed's client logs of a lost scheduler, when it cannot reconnect or
    is closed while it tries, and once the loss is known (``lost``), the cancelled or broken
    connections of its closing: the search reports the loss itself, in one line. Installed
    only on a client that the search opened; everything else is still logged."""

    LOGGER = "distributed.client"
    CONNECTION = (asyncio.CancelledError, concurrent.futures.CancelledError, OSError)

    def __init__(self):
        super().__init__()
        self.lost = False

    @classmethod
    def install(cls):
        quiet = cls()
        logging.getLogger(cls.LOGGER).addFilter(quiet)
        return quiet

    def remove(self):
        logging.getLogger(self.LOGGER).removeFilter(self)

    def filter(self, record):
        if record.getMessage().startswith("Failed to reconnect to scheduler"):
            return False
        if not record.exc_info or record.exc_info[1] is None:
            return True
        if self.lost and isinstance(record.exc_info[1], self.CONNECTION):
            return False
        names, trace = set(), record.exc_info[2]
        while trace is not None:
            names.add(trace.tb_frame.f_code.co_name)
            trace = trace.tb_next
        return "_reconnect" not in names
