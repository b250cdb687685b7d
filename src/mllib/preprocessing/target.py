"""The target column: its kind and its values.

The target's kind: text or true/false, or integers with at most
:data:`MAX_INTEGER_CLASSES` distinct values, are class labels; other numbers
are a regression target. Rows whose target is missing are left out of
training and evaluation (:func:`.missing.rows_to_use`).

A regression target is left in its units: its scaling is the network's own
(``NeuralNetwork(standardize_target=True)``), which maps its predictions back
to those units.
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

