"""How many threads mllib may use, and sections whose bits no thread count changes.

Two thread counts matter to a training step: mllib's own, for the blockwise
optimizer updates (:mod:`.blocks`), and the BLAS library's, for every matrix
product. mllib's own never changes a bit (every element gets the same
arithmetic whichever thread runs it). BLAS's does: OpenBLAS splits a product
among its threads, and with 2 threads its kernels may sum in another order
than with one: float32 products of a training step's shapes (a batch of
128 or 256 against layers of 64 to 784 units) differ in the last bits
between 1 and 2 threads in 7 of 12 such shapes with OpenBLAS's Haswell
kernels (``OPENBLAS_CORETYPE=Haswell``) and in 2 of 12 with its SkylakeX
kernels.

:func:`single_threaded` therefore runs a section with BLAS on one thread,
through ``threadpoolctl``'s controllers: a search's trials run inside it on
every back-end, so that their table does not depend on where they run or on
the thread count the process was given. A plain ``fit`` keeps BLAS's threads,
since a second thread makes an epoch faster on 2 cores; it gives
the same bits for the same thread count.

mllib's own thread count (:func:`num_threads`) is the smallest of the mllib
setting (:func:`set_num_threads`, else the environment variable
``MLLIB_NUM_THREADS``, else 1) and of BLAS's thread count as ``threadpoolctl``
reports it when it is installed (a ``threadpool_limits(1)``, or a
:func:`single_threaded` section, therefore means one thread here too).

The default is one thread because on 2 cores a second one loses: whole
epochs of the benchmark's wide network took longer with 2 (bench/RESULTS.md),
as OpenBLAS's own threads keep spinning on both cores after each product.
Machines with more cores may gain from ``MLLIB_NUM_THREADS``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import warnings

ENVIRONMENT = "MLLIB_NUM_THREADS"
_SETTING = {"threads": None}    # set_num_threads's value; None: the environment's
_BLAS = {}                      # "libs": threadpoolctl's BLAS controllers, or ()
# single_threaded's sections, counted over all threads: the first to enter
# pins BLAS and the last to leave restores it, so that two trials running in
# two threads of one Dask worker cannot restore the count under each other.
_PINNED = {"depth": 0, "saved": ()}
_PIN_LOCK = threading.Lock()


def set_num_threads(threads: int | None) -> None:
    """Use at most ``threads`` threads for blockwise updates; None returns to the default.

    The default is ``MLLIB_NUM_THREADS`` when set, else 1 (see the module's
    docstring for why). A lower BLAS limit still applies (see :func:`num_threads`).
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    _SETTING["threads"] = threads


def num_threads() -> int:
    """The threads a blockwise update may use now: mllib's setting, capped by BLAS's limit."""
    wanted = _SETTING["threads"]
    if wanted is None:
        wanted = _from_environment()
    blas = blas_threads()
    return max(1, min(wanted, blas) if blas else wanted)


def _from_environment() -> int:
    text = os.environ.get(ENVIRONMENT, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"{ENVIRONMENT} must be a positive integer, got {text!r}")
        return int(text)
    return 1


def _blas_libraries() -> tuple:
    """threadpoolctl's controllers of the loaded BLAS libraries, found once; () without it.

    Finding them takes a long time beside reading or setting a count through
    one, a single library call.
    """
    if "libs" not in _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:    # an optional extra: without it, BLAS keeps its own count
            _BLAS["libs"] = ()
        else:
            _BLAS["libs"] = tuple(lib for lib in ThreadpoolController().lib_controllers
                                  if lib.user_api == "blas")
    return _BLAS["libs"]


def blas_threads() -> int | None:
    """BLAS's current thread count by threadpoolctl, or None without it (or without BLAS)."""
    counts = [lib.num_threads for lib in _blas_libraries()]
    return min(counts) if counts else None


@contextlib.contextmanager
def single_threaded():
    """Run the section with BLAS on one thread, whatever its count outside; re-entrant.

    Inside it, every matrix product has the bits of a one-thread product,
    whatever ``OPENBLAS_NUM_THREADS``, ``threadpool_limits`` or the number of
    cores says. The limit is the process's: other threads of the process that
    use BLAS meanwhile get one thread too. Without ``threadpoolctl`` nothing
    can be pinned; that is warned about once, since the bits may then follow
    BLAS's thread count.
    """
    with _PIN_LOCK:
        if _PINNED["depth"] == 0:
            _PINNED["saved"] = _pin_blas()
        _PINNED["depth"] += 1
    try:
        yield
    finally:
        with _PIN_LOCK:
            _PINNED["depth"] -= 1
            if _PINNED["depth"] == 0:
                for lib, count in _PINNED["saved"]:
                    lib.set_num_threads(count)
                _PINNED["saved"] = ()


_FOR_GOOD = []   # the section single_threaded_from_now entered, never to leave


def single_threaded_from_now() -> None:
    """BLAS on one thread for the rest of this process, as in a :func:`single_threaded`
    section that never ends: for a search's worker processes, which run only trials.

    Trials pin BLAS themselves; pinning the worker for good as well keeps OpenBLAS's
    second thread from ever starting between them, where it would wait on a core that
    the other worker needs.
    """
    if not _FOR_GOOD:
        section = single_threaded()
        section.__enter__()
        _FOR_GOOD.append(section)


def _pin_blas() -> tuple:
    libs = _blas_libraries()
    if not libs:
        _warn_once_unpinned()
    saved = tuple((lib, lib.num_threads) for lib in libs)
    for lib, _ in saved:
        lib.set_num_threads(1)
    return saved


_WARNED = []


def _warn_once_unpinned() -> None:
    if not _WARNED:
        _WARNED.append(True)
        warnings.warn("threadpoolctl is not installed, so BLAS keeps its own thread count "
                      "and results may differ in the last bits between thread counts and "
                      "back-ends; pip install threadpoolctl (or mllib[tune])", RuntimeWarning,
                      stacklevel=4)


def _forget_the_pin() -> None:
    """In a forked child: no section of the parent's threads is running here."""
    global _PIN_LOCK
    _PIN_LOCK = threading.Lock()
    _PINNED.update(depth=0, saved=())
    _FOR_GOOD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_the_pin)
