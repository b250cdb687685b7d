"""The scores ``mllib`` reports for a model on some rows, and its note on a training R²
below 0.

A regression target's scaling is the network's own
(``NeuralNetwork(standardize_target=True)``, the ``standardize_target``
setting, on by default for a linear output): the model file holds μ and σ, and
``predict`` answers in the target's units, so :func:`score` needs nothing
beside the model to report ``rmse`` and ``mae`` in those units.
"""

from __future__ import annotations

import numpy as np


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
