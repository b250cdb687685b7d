"""Numerical gradient checking (notes §6).

For a smooth f and a small ε, the central difference

    F(x, ε)_j = [f(x + ε e_j) − f(x − ε e_j)] / (2ε)

approximates ∂f/∂x_j, and a backward pass ∇f is accepted when the notes'
relative error

    ‖F(x, ε) − ∇f(x)‖₂ / (‖F(x, ε)‖₂ + ‖∇f(x)‖₂)

is small (below about 1e-7 in float64). Two equal zero vectors count as an
error of 0.

Only NumPy is imported; :func:`check_gradients` works with any model that
has ``parameters()``, ``gradients(X, y)``, ``cost(X, y)`` and
``frozen_masks()`` (a context in which its random draws stay fixed), such
as :class:`mllib.NeuralNetwork`.
"""

from __future__ import annotations

import numpy as np


def relative_error(numeric, analytic) -> float:
    """‖F − ∇f‖ / (‖F‖ + ‖∇f‖), and 0 where both are zero."""
    numeric, analytic = np.asarray(numeric, float), np.asarray(analytic, float)
    denominator = np.linalg.norm(numeric) + np.linalg.norm(analytic)
    if denominator == 0.0:
        return 0.0
    return float(np.linalg.norm(numeric - analytic) / denominator)


def differential_check(f, x, eps=1e-6) -> float:
    """Check a reverse differential against central differences.

    Parameters
    ----------
    f : callable
        ``f(x) -> (value, r)`` for ``f: R^{m×n} → R^k`` (any shapes), where
        ``r`` holds the reverse differential: ``r[i, j, ...] = ∂value[...]/∂x[i, j]``,
        an array of shape ``x.shape + value.shape`` (the notes' layout).
    x : array_like
        The point; it is not modified.
    eps : float
        Step of the central difference. The notes use 1e-3; in float64 a
        smaller step gives a sharper check.

    Returns
    -------
    float
        The notes' relative error.
    """
    x = np.array(x, dtype=np.float64)
    value, reverse = f(x.copy())
    value = np.asarray(value, dtype=np.float64)
    reverse = np.asarray(reverse, dtype=np.float64).reshape(x.shape + value.shape)
    numeric = np.zeros(x.shape + value.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        plus = np.asarray(f(x + step)[0], dtype=np.float64)
        minus = np.asarray(f(x - step)[0], dtype=np.float64)
        numeric[index] = (plus - minus) / (2.0 * eps)
    return relative_error(numeric, reverse)


def numerical_gradient(cost, array, eps=1e-6) -> np.ndarray:
    """Central differences of ``cost()`` with respect to ``array``, edited in place.

    Each entry is perturbed by ±eps and restored exactly afterwards.
    """
    grad = np.zeros(array.shape, dtype=np.float64)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + eps
        plus = cost()
        array[index] = original - eps
        minus = cost()
        array[index] = original
        grad[index] = (plus - minus) / (2.0 * eps)
    return grad


def check_gradients(model, X, y, eps=1e-6, *, sample_weight=None) -> dict:
    """Compare every parameter's backprop gradient with central differences.

    The model is evaluated in training mode on ``(X, y)`` as one batch, with
    the rows weighted by ``sample_weight`` if given. Its
    dropout masks are drawn once and held fixed for every evaluation, so that
    the cost is a deterministic function of the parameters. Use a float64
    model: in float32 the differences are dominated by rounding.

    Returns
    -------
    dict
        ``{"W1": relative error, "b1": ..., ...}``.
    """
    weights = {} if sample_weight is None else {"sample_weight": sample_weight}
    model.gradients(X, y, **weights)  # builds the layers if needed and draws the masks
    with model.frozen_masks():
        # Every pass from here on reuses those masks.
        _, grads = model.gradients(X, y, **weights)
        errors = {}
        for name, array in model.parameters().items():
            numeric = numerical_gradient(lambda: model.cost(X, y, **weights), array, eps)
            errors[name] = relative_error(numeric, grads[name])
    return errors
