"""Sparse first-layer input: a SciPy CSR or CSC X, multiplied without densifying it.

The core never imports SciPy: a sparse X is known by its methods
(:func:`mllib._validation.is_sparse`). It is turned into CSR once (a copy of
its stored values if it was CSC or another format, never a dense array), and
mini-batches are gathered as CSR rows, ``X[index]``. The first Dense layer
computes ``Z = X Wᵀ + b`` and ``∂J/∂W = δᵀ X = (Xᵀ δ)ᵀ`` as SciPy's sparse ×
dense products, whose results are dense (N, n[1]) and (n[1], n[0]) arrays.

What would densify X is refused, with the reason:

- ``standardize=True``: centering x − μ turns every stored 0 into −μ/σ;
- dropout on the input (``keep_probs[0] < 1``) in training: X ⊙ D is a new
  array of X's shape.

Prediction and evaluation read X a chunk of rows at a time, as for dense X.
"""

from __future__ import annotations

import numpy as np

from ..._validation import is_sparse


def check_sparse_X(X, *, n_features=None, name="X", dtype=None):
    """A sparse ``X`` as CSR, after the checks of :func:`mllib.training.rows.inputs.check_X`."""
    shape = tuple(X.shape)
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {shape}")
    if shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    if X.format != "csr":
        X = X.tocsr()
    data = np.asarray(X.data)
    if data.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be real numbers, got dtype {data.dtype}")
    if n_features is not None and shape[1] != n_features:
        raise ValueError(f"{name} has {shape[1]} features, but the network expects "
                         f"nodes[0] = {n_features}")
    if data.size and not np.isfinite(data).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if data.size and dtype is not None and data.dtype.kind == "f" \
            and data.dtype.itemsize > np.dtype(dtype).itemsize:
        largest, extreme = float(np.finfo(dtype).max), float(np.abs(data).max())
        if extreme > largest:
            raise ValueError(f"{name} has values as large as {extreme:.3g}, beyond the largest "
                             f"{np.dtype(dtype).name}, {largest:.3g}, which the model computes "
                             f"in; scale X, or use dtype='float64'")
    return X


def check_sparse_use(model, X, *, training, name="X") -> None:
    """ValueError if the model cannot take the sparse ``X`` without densifying it."""
    if not is_sparse(X):
        return
    if model.standardize:
        raise ValueError(f"{name} is sparse, but this network has standardize=True: centering "
                         "(x − μ)/σ turns every 0 into −μ/σ and would densify it; pass "
                         "standardize=False and scale the columns without centering (divide "
                         "each by its largest |x|, say)")
    keep = model.config["keep_probs"][0]
    if training and keep < 1.0:
        raise ValueError(f"{name} is sparse, but this network drops inputs in training "
                         f"(keep_probs[0] = {keep}): the mask X ⊙ D would densify it; "
                         "use keep_probs[0] = 1")


def sparse_rows(X, rows, dtype):
    """Rows of a CSR X as CSR in ``dtype`` (row indexing copies only their stored values)."""
    return X[rows].astype(dtype, copy=False)


def largest_abs(X_rows) -> float:
    """max |x| over some rows of X, dense or sparse (for error messages)."""
    if is_sparse(X_rows):
        return float(abs(X_rows).max()) if X_rows.nnz else 0.0
    return float(np.max(np.abs(X_rows), initial=0.0))
