"""The scikit-learn estimators word divergence as scikit-learn's MLP does (issue 11)."""

import re

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import mllib
from mllib.sklearn import LogisticRegression, MLPClassifier, MLPRegressor

SKLEARN = ("Solver produced non-finite parameter weights. The input data may contain large "
           "values and need to be preprocessed.")
RNG = np.random.default_rng(0)


def diverging(estimator, X, y, epoch):
    with pytest.raises(ValueError, match=re.escape(f"{SKLEARN} (at epoch {epoch})")) as caught:
        estimator.fit(X, y)
    cause = caught.value.__cause__
    assert isinstance(cause, mllib.DivergenceError) and cause.epoch == epoch
    assert f"at epoch {epoch}, batch" in str(cause)
    return caught.value


def test_inputs_near_float64s_limit_diverge_in_the_first_epoch():
    X = RNG.normal(size=(50, 3)) * 1e300
    y = RNG.normal(size=50)
    diverging(MLPRegressor((8,), dtype="float64", max_iter=5, random_state=0), X, y, 1)


def test_a_large_learning_rate_diverges_later():
    X = RNG.normal(size=(60, 3)) * 1e100
    y = X[:, 0] > 0
    clf = MLPClassifier((4,), dtype="float64", solver="sgd", learning_rate_init=1e3,
                        max_iter=50, random_state=0)
    error = diverging(clf, X, y, 2)
    assert not hasattr(clf, "model_")      # nothing fitted is left half-recorded
    assert error.__cause__.history.history["cost"]   # the first epoch was finished


def test_a_fit_that_does_not_diverge_is_unchanged():
    X = RNG.normal(size=(60, 3))
    with pytest.warns(ConvergenceWarning):
        clf = LogisticRegression(max_iter=3, random_state=0).fit(X, X[:, 0] > 0)
    assert clf.n_iter_ == 3 and np.isfinite(clf.loss_)
