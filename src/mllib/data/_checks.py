"""Array and Generator checks shared by the modules of :mod:`mllib.data`.

Scalar and Generator checks are in :mod:`mllib._validation`, shared with the other layers.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_rng


def make_rng(rng=None, seed=None) -> np.random.Generator:
    """The Generator to draw from: ``rng`` itself, or a new one seeded by ``seed``.

    With neither, a fresh Generator seeded from the OS (never the global
    ``np.random`` state).
    """
    if rng is not None and seed is not None:
        raise ValueError(f"give rng or seed, not both (got seed={seed!r})")
    if rng is not None:
        return check_rng(rng)
    return np.random.default_rng(None if seed is None else check_int("seed", seed, 0))


def as_2d(name: str, X) -> np.ndarray:
    """``X`` as an array of shape ``(n_samples, n_features)``; memmaps stay memmaps."""
    if not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    return X


def as_int_labels(name: str, labels) -> np.ndarray:
    """1-D (or single-column) integer labels as int64; integral floats are accepted."""
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,), got shape {y.shape}")
    if y.dtype == bool or np.issubdtype(y.dtype, np.integer):
        return y.astype(np.int64)
    if np.issubdtype(y.dtype, np.floating):
        integral = np.isfinite(y) & (y == np.round(y)) & (np.abs(y) < 2.0**62)
        if not integral.all():
            raise ValueError(f"{name} must be integers, got {y[~integral][0].item()!r}")
        return y.astype(np.int64)
    raise ValueError(f"{name} must be integers, got dtype {y.dtype}; "
                     "map labels of other kinds to codes with ClassEncoder")
