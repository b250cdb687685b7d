"""What a call to ``fit`` will train on, worked out before the model changes.

:func:`plan_fit` checks the data of one ``fit`` call and prepares, on local
values only, everything the call then commits to the model: the training
rows and targets, the dev set, the label classes, the standardizer and the
output width. A call that raises leaves the model as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import Standardizer
from .inputs import check_X, rows_of
from .targets import TargetEncoder


@dataclass
class FitPlan:
    X: np.ndarray                 # training rows, in the caller's dtype (never copied whole)
    Y: np.ndarray                 # their targets, (n_rows, n_out) in the model's dtype
    targets: TargetEncoder        # with the classes fixed
    n_out: int                    # nodes[L]
    validation: tuple | None      # (X_dev, Y_dev) or None
    standardizer: Standardizer | None


def plan_fit(model, X, y, validation_data, validation_split, batch_size) -> FitPlan:
    """Check the data of ``model.fit(X, y, ...)`` and prepare what the call needs."""
    X = check_X(X, n_features=model.n_features, dtype=model.dtype)
    y = rows_of(y, X)
    X, y, X_dev, y_dev = split_validation(X, y, validation_data, validation_split)
    check_batch_norm(model, X.shape[0], batch_size)
    n_out_given = model.config["nodes"][-1]
    targets = model.targets_.fitted(y, n_out_given)
    n_out = n_out_given or targets.n_outputs(y)
    validation = None
    if X_dev is not None:
        X_dev = check_X(X_dev, name="X_dev", dtype=model.dtype)
        if X_dev.shape[1] != X.shape[1]:
            raise ValueError(f"X_dev has {X_dev.shape[1]} features but X has {X.shape[1]}")
        y_dev = rows_of(y_dev, X_dev, "X_dev", "y_dev")
        try:
            validation = (X_dev, targets.transform(y_dev, n_out, model.dtype))
        except ValueError as err:
            raise ValueError(f"y_dev: {err}") from None
    scaler = model.standardizer_
    if model.standardize and scaler is None:
        scaler = Standardizer().fit(X)
    return FitPlan(X=X, Y=targets.transform(y, n_out, model.dtype), targets=targets,
                   n_out=n_out, validation=validation, standardizer=scaler)


def split_validation(X, y, validation_data, validation_split):
    """Training rows and dev rows; a split takes the last rows, as Keras does."""
    if validation_data is not None:
        return X, y, validation_data[0], validation_data[1]
    if not validation_split:
        return X, y, None, None
    n_dev = int(round(X.shape[0] * validation_split))
    if n_dev < 1 or n_dev >= X.shape[0]:
        raise ValueError(f"validation_split={validation_split} leaves {n_dev} of "
                         f"{X.shape[0]} rows for validation")
    cut = X.shape[0] - n_dev
    return X[:cut], y[:cut], X[cut:], y[cut:]


def check_batch_norm(model, n_rows, batch_size):
    """Batch norm needs at least two rows in every batch (the variance of one is 0)."""
    if not model.needs_two_rows:
        return
    if batch_size == 1:
        raise ValueError("batch_size=1 cannot train a network with batch norm: a batch of "
                         "one row has variance 0; use batch_size >= 2")
    if n_rows < 2:
        raise ValueError(f"the training set has {n_rows} row; a network with batch norm "
                         "needs at least 2 rows to train on")
