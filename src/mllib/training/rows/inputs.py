"""Checks of the arrays a user passes to a network: X, y and their rows.

Each check raises ValueError naming the argument, before anything changes.
X may be an ``np.memmap`` larger than memory: nothing here copies it whole.
X may also be a SciPy sparse matrix or array (found by duck typing, the
core does not import SciPy); it is kept sparse, as CSR (:mod:`mllib.training.rows.sparse`).
"""

from __future__ import annotations

import numpy as np

from ..._validation import is_sparse
from ...nn.fast import column_sums
from .sparse import check_sparse_X

# Rows per chunk when predicting, evaluating or checking X, to bound temporary memory.
CHUNK = 4096
# The most bytes of X that the finiteness check reads at once.
FINITE_BYTES = 16 << 20


def check_X(X, *, n_features=None, name="X", finite=True, dtype=None) -> np.ndarray:
    """``X`` as a 2-D array of real numbers with rows, in its own dtype.

    ``n_features`` (when not None) is the width the network expects;
    ``finite=False`` leaves the NaN/infinity check to the caller; ``dtype``, the
    model's, refuses values that its cast would turn into infinity. A sparse X
    comes back as CSR, its stored values always checked to be finite.
    """
    if is_sparse(X):
        return check_sparse_X(X, n_features=n_features, name=name, dtype=dtype)
    if not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool) \
            or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"{name} must be real numbers, got dtype {X.dtype}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{name} has {X.shape[1]} features, but the network expects "
                         f"nodes[0] = {n_features}")
    if finite:
        require_finite(X, name, dtype)
    return X


def rows_of(y, X, x_name="X", y_name="y") -> np.ndarray:
    """``y`` as an array with one entry (or row) per row of ``X``, else ValueError."""
    y = np.asarray(y)
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(f"{x_name} has {X.shape[0]} rows but {y_name} has shape {y.shape}")
    return y


def check_sample_weight(sample_weight, n_rows, name="sample_weight"):
    """``sample_weight`` as float64 (n_rows,), or None for None and for all ones.

    Weights must be finite numbers ≥ 0, not all 0. All ones are the unweighted
    cost, so they become None: the same code path, and the same bits, as no weights.
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.shape != (n_rows,):
        raise ValueError(f"{name} must have shape ({n_rows},), one weight per row of X, "
                         f"got shape {w.shape}")
    if w.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers, got dtype {w.dtype}")
    w = np.array(w, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(w))
    bad = bad if bad.size else np.flatnonzero(w < 0)
    if bad.size:
        raise ValueError(f"{name} must be finite and >= 0, got {float(w[bad[0]])!r} "
                         f"at row {bad[0]}")
    if not w.any():
        raise ValueError(f"{name} is 0 on all {n_rows} rows: at least one row needs a "
                         "positive weight")
    return None if (w == 1.0).all() else w


def require_finite(X, name, dtype=None) -> None:
    """ValueError unless every entry of X is finite, and stays finite cast to ``dtype``."""
    if not all_finite(X):
        raise ValueError(f"{name} contains NaN or infinite values")
    if dtype is not None and X.dtype.kind == "f" and X.dtype.itemsize > np.dtype(dtype).itemsize:
        largest = float(np.finfo(dtype).max)
        # Two passes without a temporary: X may be a memmap larger than memory.
        extreme = max(abs(float(np.min(X))), abs(float(np.max(X))))
        if extreme > largest:
            raise ValueError(f"{name} has values as large as {extreme:.3g}, beyond the largest "
                             f"{np.dtype(dtype).name}, {largest:.3g}, which the model computes "
                             f"in; scale X, or use dtype='float64'")


def all_finite(X) -> bool:
    """Whether every entry of X is finite, reading X once, a few MiB of rows at a time.

    Sums in X's own dtype are finite when every entry is: a NaN or ±inf term makes
    its sum NaN or ±inf, whatever the order of the additions. Only where they are
    not, because of NaN, ±inf or an overflow of huge finite values, are the rows
    checked entry by entry. X may be a memmap larger than memory: no temporary is
    larger than :data:`FINITE_BYTES`.
    """
    if X.dtype.kind in "biu":
        return True
    rows = max(1, FINITE_BYTES // max(1, X.itemsize * int(np.prod(X.shape[1:]))))
    return all(_rows_finite(X[start:start + rows]) for start in range(0, X.shape[0], rows))


def _rows_finite(X) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(_sums(X)).all():
            return True
    return bool(np.isfinite(X).all())


def _sums(X) -> np.ndarray:
    """Sums of X's entries: its column sums by BLAS where BLAS can read X in place.

    BLAS's product 1ᵀ X reads float32 and float64 at memory speed on every core,
    in about a third of the time of ``np.add.reduce`` (bench/RESULTS.md).
    """
    if X.ndim == 2 and X.dtype in (np.float32, np.float64) and (
            X.flags.c_contiguous or X.flags.f_contiguous):
        return column_sums(X)
    return np.add.reduce(X, axis=None)
