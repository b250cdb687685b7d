"""The target column: its kind, its values, and the scaling of a regression target.

The target's kind: text or true/false, or integers with at most
:data:`MAX_INTEGER_CLASSES` distinct values, are class labels; other numbers
are a regression target. Rows whose target is missing are left out of
training and evaluation (the caller says how many).

A regression target is standardized with the training rows' mean and standard
deviation (:class:`TargetScaling`, saved in ``preprocessing.json``): the network
learns ``(y − μ)/σ`` and its predictions are mapped back, so that a target in
grams trains as well as one in kilograms and every figure the user sees is in
the target's units. This is the CLI's own place for it, until
``NeuralNetwork(standardize_target=True)`` does the same in the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .csvread import pandas, value_text
from .errors import CLIError

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
    """The target column (no missing cells) as a NumPy array of ``kind``; else CLIError."""
    pd = pandas()
    if series.isna().any():
        raise CLIError(f"target column {name!r} has missing values")
    if kind == "str":
        return series.astype(str).to_numpy(dtype=str)
    if kind == "bool":
        if not pd.api.types.is_bool_dtype(series):
            raise CLIError(f"target column {name!r} must hold true/false values, as in training")
        return series.to_numpy(dtype=bool)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise CLIError(f"target column {name!r} must hold finite numbers; found "
                       f"{value_text(series, bad[0])} in data row {series.index[bad[0]] + 1}")
    if kind == "int":
        if not np.array_equal(values, np.round(values)):
            raise CLIError(f"target column {name!r} must hold integers, as in training")
        return values.astype(np.int64)
    return values


@dataclass(frozen=True)
class TargetScaling:
    """``(y − mean)/std`` for training, ``a·std + mean`` back: a regression target's units."""

    mean: float
    std: float

    @classmethod
    def fit(cls, y):
        """The mean and standard deviation of the training targets (std 1 if they are equal)."""
        y = np.asarray(y, dtype=np.float64)
        std = float(np.std(y))
        return cls(float(np.mean(y)), std if std > 0 else 1.0)

    def scale(self, y) -> np.ndarray:
        return (np.asarray(y, dtype=np.float64) - self.mean) / self.std

    def unscale(self, a) -> np.ndarray:
        return np.asarray(a, dtype=np.float64) * self.std + self.mean

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, document):
        """From :meth:`to_dict`'s dict, or None from None; ValueError if it is not one."""
        if document is None:
            return None
        mean, std = float(document["mean"]), float(document["std"])
        if not (np.isfinite(mean) and np.isfinite(std) and std > 0):
            raise ValueError(f"bad target scaling {document!r}")
        return cls(mean, std)


def predictions(model, X, scaling=None) -> np.ndarray:
    """``model.predict(X)``, in the target's units when the target was scaled."""
    predicted = np.asarray(model.predict(X))
    return predicted if scaling is None else scaling.unscale(predicted)


def score(model, X, y, scaling=None) -> dict:
    """``{"cost", "accuracy"}`` or ``{"cost", "r2", "rmse", "mae"}``, and ``"n"``.

    ``cost`` is the objective the network minimized (on the scaled target when
    ``scaling`` is given); R² is the same in any units; ``rmse`` and ``mae``
    are in the target's own units.
    """
    logs = model.evaluate(X, y if scaling is None else scaling.scale(y))
    result = {key: float(value) for key, value in logs.items()}
    if model.score_name == "r2":
        error = predictions(model, X, scaling) - np.asarray(y, dtype=np.float64)
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
