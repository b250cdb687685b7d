"""Small data sets shared by the tests of mllib.sklearn's drop-in behaviour, and a quadratic
to check its optimizers' steps against scikit-learn's update written out."""

from functools import lru_cache

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler, minmax_scale

from mllib.optim import ParameterSet, single_threaded


@lru_cache
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@lru_cache
def digits(n=400):
    X, y = load_digits(return_X_y=True)
    return minmax_scale(X[:n]), y[:n]


@lru_cache
def wave(n=200):
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(n, 2))
    return X, np.sin(X[:, 0]) * np.cos(X[:, 1]) + 0.1 * X[:, 0] ** 2


@pytest.fixture
def one_blas_thread():
    """BLAS on one thread for the test (``mllib.optim.single_threaded``).

    For test modules whose fits multiply small matrices only, which import it and
    mark themselves ``pytest.mark.usefixtures("one_blas_thread")``: there a second
    BLAS thread costs more in hand-overs and spinning than it gains, many times
    more when the cores are busy. What they test does not depend on the thread count.
    """
    with single_threaded():
        yield


def no_convergence(fit):
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(\d+\) reached"):
        return fit()


def descend_quadratic(optimizer, rate, steps, update):
    """``(θ, expected)`` after ``steps`` steps on J(θ) = ½ θᵀAθ, A a 4×4 positive definite.

    ``optimizer.step(store, rate)`` moves θ; ``update(expected, velocity, g)`` returns the
    next ``(expected, velocity)`` by the formula the optimizer should follow, from the
    gradient g = A · expected.
    """
    rng = np.random.default_rng(0)
    A = rng.normal(size=(4, 4))
    A = A @ A.T + np.eye(4)
    theta, grads = {"W": rng.normal(size=(4, 1))}, {"W": np.zeros((4, 1))}
    store = ParameterSet.from_arrays(theta, grads)
    expected, velocity = theta["W"].copy(), np.zeros((4, 1))
    for _ in range(steps):
        np.matmul(A, theta["W"], out=grads["W"])
        optimizer.step(store, rate)
        expected, velocity = update(expected, velocity, A @ expected)
    return theta["W"], expected
