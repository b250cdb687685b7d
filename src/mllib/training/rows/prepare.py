"""From the caller's arrays to what the passes take: prepared rows, targets, weights.

A network prepares its inputs with the preprocessing it has fitted (its
``standardizer_``, label encoder ``targets_`` and ``target_scaler_``): the
functions here take those as arguments. Rows become the model's dtype,
standardized if the model standardizes; labels become the targets Y of the
loss, standardized if the model standardizes them (see :mod:`mllib.training.rows.target_scaling`);
a sparse X stays sparse (:mod:`mllib.training.rows.sparse`).
"""

from __future__ import annotations

import numpy as np

from ..._validation import is_sparse
from .inputs import check_sample_weight, check_X, rows_of
from .sparse import check_sparse_use, sparse_rows
from .target_scaling import scale_targets


def prepared_rows(X, rows, dtype, standardizer):
    """Rows of X in ``dtype``, standardized by ``standardizer`` (or None); CSR rows of a
    sparse X, whose model never standardizes (see :mod:`mllib.training.rows.sparse`)."""
    if is_sparse(X):
        return sparse_rows(X, rows, dtype)
    batch = np.asarray(X[rows], dtype=dtype)
    if standardizer is not None:
        batch = standardizer.transform(batch)
    return batch


def encoded_targets(y, targets, n_outputs, dtype, target_scaler):
    """The targets Y of the loss, (N, n[L]) in ``dtype``: labels encoded by ``targets``,
    or regression targets, as (y − μ)/σ with a ``target_scaler``."""
    return scale_targets(targets.transform(y, n_outputs, dtype), target_scaler)


def checked_data(model, X, y, *, sample_weight=None, training=True, convert=True):
    """``(X, Y, w)`` of a :class:`~mllib.training.model.network.NeuralNetwork`'s caller's data: X checked
    (prepared if ``convert``), Y encoded, w checked or None.

    The model's layers are built first if their widths were left to the data.
    It uses the model's public attributes only: its widths, dtype, fitted
    preprocessing (``targets_``, ``standardizer_``, ``target_scaler_``) and ``build``.
    """
    X = check_X(X, n_features=model.n_features, dtype=model.dtype)
    check_sparse_use(model, X, training=training)
    y = rows_of(y, X)
    w = check_sample_weight(sample_weight, X.shape[0])
    n_outputs = model.config["nodes"][-1]
    if not model.built:
        model.build(X.shape[1], n_outputs or model.targets_.n_outputs(y))
        n_outputs = model.config["nodes"][-1]
    if convert:
        X = prepared_rows(X, slice(None), model.dtype, model.standardizer_)
    Y = encoded_targets(y, model.targets_, n_outputs, model.dtype, model.target_scaler_)
    return X, Y, w
