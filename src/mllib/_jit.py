"""The one switch of the compiled kernels (the ``mllib[fast]`` extra): numba, or NumPy.

NumPy is mllib's reference and its only required dependency. With the extra
installed, a few passes run as numba kernels instead (:mod:`mllib.optim._kernels`,
:mod:`mllib.nn._kernels`), each beside the NumPy code it mirrors and with its
bits: it does the same IEEE operations on each element, in the same order,
each rounded to the arrays' dtype. Numba compiles them serial and without
fastmath, so LLVM may neither reorder them nor contract a·b + c into one fused
multiply-add, whose single rounding would change the bits; ``error_model="numpy"``
gives x/0 NumPy's ±inf or NaN rather than Python's exception. The tests run
both paths and compare the bits, and show that a kernel with a contracted
multiply-add or another order fails them.

When the kernels run is decided at each ``fit`` and ``predict`` call, from the
environment variable ``MLLIB_KERNELS`` (read once for a whole training run,
:func:`pinned`, and at each step of an optimizer used on its own):

- ``numpy``: never; the reference path.
- ``numba``: whenever numba imports, for a model of any size.
- unset, empty or ``auto``: when numba imports and the model has at least
  :data:`MIN_PARAMETERS` parameters.

Below that size the kernels cannot repay what they cost a process once:
``import numba``, and loading the cached kernels at their first call (compiling
them, the first time ever), which a short CLI run or each worker of a search would
pay (bench/RESULTS.md has the figures). The kernels are for float32 and float64
arrays; other dtypes take the NumPy path.

Nothing here is an error. numba not installed: the NumPy path, silently under
``auto`` (the extra is optional), with one warning if ``numba`` was asked for.
numba installed but failing to import or to compile a kernel: the NumPy path,
with one warning. No writable cache directory (``NUMBA_CACHE_DIR`` and the
package's ``__pycache__`` read-only): the kernels are compiled in each process
instead, with one warning. The warnings are :class:`KernelWarning`.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
import sys
import threading
import warnings

import numpy as np

ENVIRONMENT = "MLLIB_KERNELS"
CHOICES = ("auto", "numba", "numpy")
#: The smallest model, in parameters, for which ``auto`` uses the kernels (a 784-128-10
#: network has 101,770): there ten epochs of 60,000 rows in batches of 128 repay the
#: process's cost of the kernels (bench/RESULTS.md has the measurements).
MIN_PARAMETERS = 100_000
DTYPES = ("float32", "float64")
_CHARS = ("f", "d")   # the one-letter codes of DTYPES

# The C library's floating-point exception bits (<fenv.h>), which the optimizer
# kernels read: FE_UNDERFLOW, and those NumPy reports by its error state.
_FLAGS = {"x86_64": {"invalid": 0x01, "divide": 0x04, "over": 0x08, "under": 0x10},
          "aarch64": {"invalid": 0x01, "divide": 0x02, "over": 0x04, "under": 0x08}}
_MACHINES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64"}
# POSIX systems only: Windows has another <fenv.h>, and fetestexcept in another library.
MACHINE = os.uname().machine.lower() if hasattr(os, "uname") else sys.platform
FLAGS = _FLAGS.get(_MACHINES.get(MACHINE, ""), {})


#: numba's options for every kernel: serial, IEEE arithmetic as written, x/0 as NumPy does.
OPTIONS = {"error_model": "numpy", "fastmath": False, "parallel": False}


class KernelWarning(RuntimeWarning):
    """The compiled kernels could not be used as they are: mllib falls back, never fails."""


_LOCK = threading.RLock()
_LOADED = {}      # module name -> the kernel module, or None if it could not be imported
_STATE = {"cache": True, "broken": False}
_WARNED = set()


# MLLIB_KERNELS as read at the start of the training run under way in this context,
# if any: reading the environment at each step cost 1–2 % of a small model's step.
_PINNED = contextvars.ContextVar("mllib_kernels", default=None)


@contextlib.contextmanager
def pinned():
    """Within it, :func:`choice` is ``MLLIB_KERNELS`` as it was on entering: a training
    run reads the environment once, not at each of its steps."""
    token = _PINNED.set(choice())
    try:
        yield
    finally:
        _PINNED.reset(token)


def choice() -> str:
    """``MLLIB_KERNELS`` now (or as :func:`pinned`): ``"auto"``, ``"numba"`` or ``"numpy"``
    (ValueError otherwise)."""
    chosen = _PINNED.get()
    if chosen is not None:
        return chosen
    text = os.environ.get(ENVIRONMENT, "").strip().lower() or "auto"
    if text not in CHOICES:
        raise ValueError(f"{ENVIRONMENT} must be one of {', '.join(CHOICES)}, got "
                         f"{os.environ[ENVIRONMENT]!r}")
    return text


def wanted(parameters: int, dtype) -> bool:
    """Whether a model of ``parameters`` parameters in ``dtype`` should use the kernels,
    by ``MLLIB_KERNELS`` and the size (see the module's docstring); imports nothing."""
    chosen = choice()
    if chosen == "numpy" or (chosen == "auto" and parameters < MIN_PARAMETERS):
        return False
    # The dtype's one-letter code: its name is made in Python, a few µs at every step.
    return np.dtype(dtype).char in _CHARS and bool(FLAGS) and not _STATE["broken"]


def load(name: str, parameters: int, dtype):
    """The kernel module ``name`` if the model should use it (:func:`wanted`) and it
    imports, else None: the caller then takes its NumPy path.

    The first import of numba happens here. If it fails, the NumPy path is used
    for the rest of the process, after one :class:`KernelWarning` (none when numba
    is not installed and ``MLLIB_KERNELS`` is not ``numba``).
    """
    if not wanted(parameters, dtype):
        return None
    module = _LOADED.get(name)
    if module is None or module is _MISSING:
        with _LOCK:
            module = _LOADED.get(name)
            if module is None or (module is _MISSING and choice() == "numba"):
                module = _LOADED[name] = _import(name)
    return None if module is _MISSING else module


_MISSING = object()   # _LOADED's mark of a kernel module whose numba is not installed


def _import(name: str):
    """The module, _MISSING if numba is not installed under ``auto``, or None (warned)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == "numba" and choice() == "auto":
            return _MISSING    # the extra is not installed: NumPy, as documented
        _off(f"numba could not be imported ({error})")
    except Exception as error:   # a broken install raises anything: fall back, never fail
        _off(f"numba could not be imported ({type(error).__name__}: {error})")
    return None


def njit(function):
    """``numba.njit`` as the kernels are compiled: serial, no fastmath, NumPy's error
    model, cached on disk; without the cache (one warning) where no directory for
    it is writable."""
    import numba

    if _STATE["cache"]:
        try:
            return numba.njit(cache=True, **OPTIONS)(function)
        except RuntimeError as error:   # "cannot cache function ...: no locator available"
            _no_cache(error)
    return numba.njit(cache=False, **OPTIONS)(function)


def _no_cache(error) -> None:
    _STATE["cache"] = False
    _warn_once("cache", f"numba cannot cache mllib's kernels ({error}); they are compiled "
                        f"again in each process. Set NUMBA_CACHE_DIR to a writable folder "
                        f"to keep them.")


def call(module, name: str, *args):
    """``module.<name>(*args)``, or None if the kernel could not be compiled: then the
    NumPy path is used from now on, after one warning. (No kernel returns None.)

    A kernel is compiled at its first call for each dtype, before it touches any
    array, so a kernel that fails has changed nothing. A cache that cannot be
    written then is dropped (one warning) and the kernel compiled again without it.
    """
    kernel = getattr(module, name)
    try:
        return kernel(*args)
    except OSError as error:   # the cache directory refused the compiled kernel
        with _LOCK:
            _no_cache(error)
            kernel = njit(kernel.py_func)
            setattr(module, name, kernel)
        try:
            return kernel(*args)
        except Exception as again:   # noqa: BLE001 (reported, then NumPy)
            error = again
    except Exception as failed:   # noqa: BLE001 (numba's compile errors: reported, then NumPy)
        error = failed
    _off(f"the kernel {module.__name__}.{name} could not be compiled "
         f"({type(error).__name__}: {error})")
    return None


def _off(why: str) -> None:
    _STATE["broken"] = True
    _warn_once("off", f"{why}; mllib uses its NumPy path, with the same results. "
                      f"{ENVIRONMENT}=numpy chooses it without this warning.")


def _warn_once(key: str, message: str) -> None:
    with _LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    warnings.warn(message, KernelWarning, stacklevel=3)


def report(flags: int, where: str) -> None:
    """Handle the floating-point errors a kernel raised as NumPy's error state says
    (``np.seterr``, ``np.errstate``), as NumPy would have for the ufuncs it replaced:
    ignore, warn, raise FloatingPointError, call or log. Underflow is the kernel's own
    business (the optimizers read it to flush tiny moments), not reported here."""
    for kind in ("divide", "over", "invalid"):
        if not flags & FLAGS[kind]:
            continue
        what = {"divide": "divide by zero", "over": "overflow",
                "invalid": "invalid value"}[kind] + f" encountered in {where}"
        mode = np.geterr()[kind]
        if mode == "warn":
            warnings.warn(what, RuntimeWarning, stacklevel=3)
        elif mode == "raise":
            raise FloatingPointError(what)
        elif mode == "call":
            np.geterrcall()(what, FLAGS[kind])
        elif mode == "print":
            print(f"Warning: {what}")
        elif mode == "log":
            np.geterrcall().write(f"Warning: {what}\n")


def describe() -> str:
    """Which path runs, for ``mllib --version`` and the benchmark; imports nothing."""
    try:
        chosen = choice()
    except ValueError as error:
        return f"kernels: {error}"
    if chosen == "numpy":
        return f"kernels: numpy, by {ENVIRONMENT}=numpy"
    if not FLAGS:
        return f"kernels: numpy, none for {MACHINE}"
    if _STATE["broken"]:
        return "kernels: numpy, numba failed (see its warning)"
    import importlib.util

    try:
        found = importlib.util.find_spec("numba") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        return "kernels: numpy, numba is not installed (mllib[fast])"
    size = "any model" if chosen == "numba" else f"models of {MIN_PARAMETERS:,}+ parameters"
    return f"kernels: numba, for {size}"
