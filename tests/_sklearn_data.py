"""Small data sets shared by the tests of mllib.sklearn's drop-in behaviour."""

from functools import lru_cache

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler, minmax_scale


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


def no_convergence(fit):
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(\d+\) reached"):
        return fit()
