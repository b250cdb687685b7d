"""Finite in, finite out, or a clear error (issue 11): the checks of what inference returns.

``predict``, ``predict_proba`` and ``evaluate`` take finite X only (the model's
dtype must hold it, :mod:`mllib.training.rows.inputs`), and a model's weights are finite. Even
so a value can overflow on its way through the network: X·Wᵀ for rows of
1e38 in float32, or a cost of 1e600 in float64. The passes then run with
overflow and invalid operations silenced, since where it is defined the
result is still right: a logit that overflowed to +∞ gives σ = 1, a hidden
unit at +∞ gives tanh = 1. What is not finite at the end (a NaN from ∞ − ∞,
an output or a cost of ±∞) raises :class:`NonFiniteOutputError`, which names
the rows and the remedy; no NaN or infinity is ever returned.
"""

from __future__ import annotations

import math

import numpy as np

from .sparse import largest_abs


class NonFiniteOutputError(ValueError, OverflowError):
    """A network's output or cost is not finite although its inputs and weights are:
    a value overflowed the model's dtype on the way.

    It is a ValueError, as every refusal of the data given to a method, and an
    OverflowError, since an arithmetic result is too large to represent.
    """


def check_outputs(a: np.ndarray, X, start: int, dtype) -> None:
    """Raise :class:`NonFiniteOutputError` unless every entry of ``a``, the outputs
    of rows ``start, start + 1, ...`` of X, is finite."""
    bad = ~np.isfinite(a).all(axis=1)
    if not bad.any():
        return
    rows = np.flatnonzero(bad)
    largest = largest_abs(X[rows + start])
    raise NonFiniteOutputError(
        f"the network's output is not finite for {rows.size} row(s) of X (the first is "
        f"row {rows[0] + start}), although X and the weights are finite: a value "
        f"overflowed {np.dtype(dtype).name} on the way through the network (the largest "
        f"|x| in those rows is {largest:.3g}). {_REMEDY}")


def check_cost(logs: dict, dtype) -> dict:
    """``logs`` of ``evaluate``, or :class:`NonFiniteOutputError` if its cost is not finite."""
    if not math.isfinite(logs["cost"]):
        raise NonFiniteOutputError(
            f"the cost is {logs['cost']}, although X, y and the weights are finite: it "
            f"overflowed {np.dtype(dtype).name} (the outputs are too far from the targets, "
            f"or the weights too large, to compute it). {_REMEDY}")
    return logs


_REMEDY = "Scale or standardize X, or use dtype='float64'"
