"""What a call to ``fit`` will train on, worked out before the model changes.

:func:`plan_fit` checks the data of one ``fit`` call and prepares, on local
values only, everything the call then commits to the model: the training
rows and targets, the dev set, the label classes, the standardizer and the
output width, the training rows' sample weights and the target
standardizer. A call that raises leaves the model as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...data import Standardizer
from ..rows.inputs import check_sample_weight, check_X, rows_of
from ..rows.sparse import check_sparse_use
from ..rows.target_scaling import fit_target_scaler, scale_targets
from ..rows.targets import TargetEncoder


@dataclass
class FitPlan:
    X: np.ndarray                 # training rows, in the caller's dtype (never copied whole)
    Y: np.ndarray                 # their targets, (n_rows, n_out) in the model's dtype
    targets: TargetEncoder        # with the classes fixed
    n_out: int                    # nodes[L]
    validation: tuple | None      # (X_dev, Y_dev, w_dev) or None; w_dev may be None
    standardizer: Standardizer | None
    W: np.ndarray | None = None   # the training rows' sample weights, None if unweighted
    target_scaler: Standardizer | None = None   # standardize_target's μ and σ of Y


def plan_fit(model, X, y, validation_data, validation_split, batch_size,
             sample_weight=None, *, batch=False) -> FitPlan:
    """Check the data of ``model.fit(X, y, ...)`` and prepare what the call needs;
    ``batch``: of ``train_on_batch(X, y)``, whose y may show one class of several."""
    X = check_X(X, n_features=model.n_features, dtype=model.dtype)
    check_sparse_use(model, X, training=True)
    y = rows_of(y, X)
    w = check_sample_weight(sample_weight, X.shape[0])
    X, y, w, dev = split_validation(X, y, w, validation_data, validation_split)
    check_batch_norm(model, X.shape[0], batch_size)
    n_out_given = model.config["nodes"][-1]
    targets = model.targets_.fitted(y, n_out_given, batch=batch)
    n_out = n_out_given or targets.n_outputs(y)
    Y = targets.transform(y, n_out, model.dtype)
    target_scaler = model.target_scaler_
    if model.standardize_target and target_scaler is None:
        target_scaler = fit_target_scaler(Y)
    validation = None
    if dev is not None:
        validation = plan_validation(model, X, dev, targets, n_out, target_scaler)
    scaler = model.standardizer_
    if model.standardize and scaler is None:
        scaler = Standardizer().fit(X)
    return FitPlan(X=X, Y=scale_targets(Y, target_scaler), targets=targets, n_out=n_out,
                   validation=validation, standardizer=scaler, W=w,
                   target_scaler=target_scaler)


def plan_validation(model, X, dev, targets, n_out, target_scaler):
    """``(X_dev, Y_dev, w_dev)``, checked, from the dev rows ``(X_dev, y_dev, weights)``."""
    X_dev, y_dev, w_dev = dev
    X_dev = check_X(X_dev, name="X_dev", dtype=model.dtype)
    check_sparse_use(model, X_dev, training=False, name="X_dev")
    if X_dev.shape[1] != X.shape[1]:
        raise ValueError(f"X_dev has {X_dev.shape[1]} features but X has {X.shape[1]}")
    y_dev = rows_of(y_dev, X_dev, "X_dev", "y_dev")
    w_dev = check_sample_weight(w_dev, X_dev.shape[0], "sample_weight_dev")
    try:
        Y_dev = targets.transform(y_dev, n_out, model.dtype)
    except ValueError as err:
        raise ValueError(f"y_dev: {err}") from None
    return X_dev, scale_targets(Y_dev, target_scaler), w_dev


def split_validation(X, y, w, validation_data, validation_split):
    """Training rows and dev rows, with their weights; a split takes the last rows,
    as Keras does. The dev part is ``(X_dev, y_dev, w_dev)``, or None."""
    if validation_data is not None:
        dev = tuple(validation_data)
        return X, y, w, dev if len(dev) == 3 else (*dev, None)
    if not validation_split:
        return X, y, w, None
    n_dev = int(round(X.shape[0] * validation_split))
    if n_dev < 1 or n_dev >= X.shape[0]:
        raise ValueError(f"validation_split={validation_split} leaves {n_dev} of "
                         f"{X.shape[0]} rows for validation")
    cut = X.shape[0] - n_dev
    if w is None:
        return X[:cut], y[:cut], None, (X[cut:], y[cut:], None)
    for part, rows in (("training", w[:cut]), ("validation", w[cut:])):
        if not rows.any():
            raise ValueError(f"sample_weight is 0 on every {part} row of validation_split="
                             f"{validation_split}; give those rows some weight")
    return X[:cut], y[:cut], w[:cut], (X[cut:], y[cut:], w[cut:])


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
