"""The target column: its kind, its values, and the figures of a regression.

The target's kind: text or true/false, or integers with at most
:data:`MAX_INTEGER_CLASSES` distinct values, are class labels; other numbers
are a regression target. Rows whose target is missing are left out of
training and evaluation (the caller says how many).

A regression target's scaling is the network's own
(``NeuralNetwork(standardize_target=True)``, the ``standardize_target``
setting, on by default for a linear output): the model file holds μ and σ, and
``predict`` answers in the target's units, so :func:`score` needs nothing
beside the model to report ``rmse`` and ``mae`` in those units.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError
from .read import pandas, value_text

MAX_INTEGER_CLASSES = 20


def target_kind(series) -> str:
    """"bool", "int", "float" or "str": how the target's labels are stored."""
    pd = pandas()
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        values = series.dropna().to_numpy()
        # A column of integers with empty cells is read as floats: it is still integers.
        if values.size < len(series) and np.array_equal(values, np.round(values)):
            return "int"
        return "float"
    return "str"


def is_classification(kind: str, labels) -> bool:
    """Class labels (True) or numbers to regress on (False); see the module notes."""
    if kind in ("str", "bool"):
        return True
    return kind == "int" and np.unique(labels).size <= MAX_INTEGER_CLASSES


def target_values(series, kind, name):
    """The target column (no missing cells) as a NumPy array of ``kind``; else DataError."""
    pd = pandas()
    if series.isna().any():
        raise DataError(f"target column {name!r} has missing values")
    if kind == "str":
        return series.astype(str).to_numpy(dtype=str)
    if kind == "bool":
        if not pd.api.types.is_bool_dtype(series):
            raise DataError(f"target column {name!r} must hold true/false values, as in training")
        return series.to_numpy(dtype=bool)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(f"target column {name!r} must hold finite numbers; found "
                        f"{value_text(series, bad[0])} in data row {series.index[bad[0]] + 1}")
    if kind == "int":
        if not np.array_equal(values, np.round(values)):
            raise DataError(f"target column {name!r} must hold integers, as in training")
        return values.astype(np.int64)
    return values


def score(model, X, y) -> dict:
    """``{"cost", "accuracy"}`` or ``{"cost", "r2", "rmse", "mae"}``, and ``"n"``.

    ``cost`` and the R² are ``model.evaluate``'s: the objective the network
    minimized (on the standardized target when the model standardizes it) and
    a unit-free R². ``rmse`` and ``mae`` are in the target's own units.
    """
    result = {key: float(value) for key, value in model.evaluate(X, y).items()}
    if model.score_name == "r2":
        error = np.asarray(model.predict(X), dtype=np.float64) - np.asarray(y, dtype=np.float64)
        result["rmse"] = float(np.sqrt(np.mean(error ** 2)))
        result["mae"] = float(np.mean(np.abs(error)))
    return {**result, "n": int(X.shape[0])}


def r2_note(r2: float, scaled: bool) -> str:
    """What a training R² below 0 means, and what to try."""
    fix = ("drop --no-standardize-target, so that the network learns the standardized "
           "target" if not scaled else "try a smaller --learning-rate, more --epochs, or "
           "--standardize for the inputs")
    return (f"the training R² is {r2:.3g}, below 0: the network predicts worse than the mean "
            f"of the target; {fix}")
