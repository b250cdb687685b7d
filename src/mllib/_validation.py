"""Argument checks shared by every layer of mllib; NumPy and the standard library only.

Each check returns the value as a plain ``int`` or ``float``, or raises
``ValueError`` naming the argument and quoting the value received. Booleans
are not numbers here, although Python counts ``True`` as 1. NumPy scalars
pass: NumPy registers its integer and float types with :mod:`numbers`, and
not ``numpy.bool_``.

>>> check_int("batch_size", 32, minimum=1)
32
>>> check_real("beta2", 1.0, 0, 1, high_open=True)
Traceback (most recent call last):
...
ValueError: beta2 must be a number in [0, 1), got 1.0
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np


def is_int(value) -> bool:
    """True for Python and NumPy integers, False for booleans and everything else."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """``int(value)`` if it is an integer ``>= minimum`` and ``<= maximum``, else ValueError."""
    if not is_int(value) or (minimum is not None and value < minimum):
        kind = {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(
            minimum, f"an integer >= {minimum}")
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum:,}, got {value!r}")
    return int(value)


def check_real(name: str, value, low: float = -math.inf, high: float = math.inf, *,
               low_open: bool = False, high_open: bool = False) -> float:
    """``float(value)`` if it is a number in the interval from ``low`` to ``high``, else ValueError.

    The ends are closed unless ``low_open`` or ``high_open``; an infinite end is
    always open, so NaN and ±inf never pass.
    """
    x = float(value) if isinstance(value, Real) and not isinstance(value, bool) else math.nan
    low_open, high_open = low_open or low == -math.inf, high_open or high == math.inf
    above = x > low if low_open else x >= low
    below = x < high if high_open else x <= high
    if not (above and below):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return x


def check_positive(name: str, value, high: float = math.inf) -> float:
    """``float(value)`` if it is a finite number in (0, high], else ValueError."""
    return check_real(name, value, 0.0, high, low_open=True)


def preview(values, n: int = 10) -> str:
    """The first ``n`` values as ``"[a, b, ...]"``, for error messages."""
    head = values[:n + 1]
    head = head.tolist() if hasattr(head, "tolist") else list(head)
    shown = ", ".join(repr(v) for v in head[:n])
    return f"[{shown}{', ...' if len(head) > n else ''}]"


def check_rng(rng, name: str = "rng") -> np.random.Generator:
    """``rng`` itself if it is a ``numpy.random.Generator``, else ValueError.

    Code that draws random numbers takes a Generator and never makes its own
    or uses the global ``np.random`` state, so that a seed fixes every draw.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"{name} must be a numpy.random.Generator such as "
                         f"np.random.default_rng(seed), got {rng!r}")
    return rng


def is_sparse(x) -> bool:
    """Whether ``x`` is a SciPy sparse matrix or array, known by its methods, not its type.

    The math imports NumPy only, so it cannot ask ``scipy.sparse.issparse``: an
    object that is not an ndarray and has ``tocsr``, ``nnz`` and ``format``
    counts as sparse. Such an X is multiplied as it is (``X @ Wᵀ`` and
    ``Xᵀ δ`` are SciPy's sparse × dense products), never densified.
    """
    return not isinstance(x, np.ndarray) and all(
        hasattr(x, name) for name in ("tocsr", "nnz", "format"))
