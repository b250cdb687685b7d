"""From the caller's arrays to what the passes take: prepared rows, targets, weights.

:class:`Preparation` gives :class:`~.network.NeuralNetwork` the methods that
turn X, y and ``sample_weight`` into the model's dtype, standardized inputs
(``standardize``), encoded targets (standardized if ``standardize_target``, see
:mod:`.target_scaling`) and checked weights, for ``gradients``, ``cost``,
``evaluate`` and the fit loop. A sparse X stays sparse (:mod:`.sparse`).
"""

from __future__ import annotations

import numpy as np

from .._validation import is_sparse
from .chunks import evaluate_in_chunks
from .inputs import check_sample_weight, check_X, rows_of
from .sparse import check_sparse_use, sparse_rows
from .target_scaling import scale_targets


class Preparation:
    """Needs ``dtype``, ``config``, ``standardizer_``, ``targets_``, ``target_scaler_``,
    ``built`` and ``build`` of the network."""

    def batch_input(self, X, rows):
        """Rows of X in the model's dtype, standardized if the model standardizes;
        CSR rows of a sparse X (whose model never standardizes, see :mod:`.sparse`)."""
        if is_sparse(X):
            return sparse_rows(X, rows, self.dtype)
        batch = np.asarray(X[rows], dtype=self.dtype)
        if self.standardizer_ is not None:
            batch = self.standardizer_.transform(batch)
        return batch

    def evaluate_targets(self, X, Y, sample_weight=None) -> dict:
        """:meth:`evaluate` on checked X, encoded targets Y and checked weights, by chunks."""
        return evaluate_in_chunks(self, X, Y, sample_weight)

    def encode_targets(self, y) -> np.ndarray:
        """The targets Y of the loss, (N, n[L]) in the model's dtype: encoded labels, or
        regression targets, as (y − μ)/σ when the model standardizes them."""
        Y = self.targets_.transform(y, self.config["nodes"][-1], self.dtype)
        return scale_targets(Y, self.target_scaler_)

    def _build_for(self, X, y):
        """Build the layers once the data gives the widths left as None."""
        if not self.built:
            self.build(X.shape[1], self.config["nodes"][-1] or self.targets_.n_outputs(y))

    def _check_data(self, X, y, *, sample_weight=None, training=True, convert=True):
        """``(X, Y, w)``: X checked (prepared if ``convert``), Y encoded, w checked or None."""
        X = check_X(X, n_features=self.n_features, dtype=self.dtype)
        check_sparse_use(self, X, training=training)
        y = rows_of(y, X)
        w = check_sample_weight(sample_weight, X.shape[0])
        self._build_for(X, y)
        if convert:
            X = self.batch_input(X, slice(None))
        return X, self.encode_targets(y), w
