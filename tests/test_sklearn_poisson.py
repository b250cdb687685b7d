"""MLPRegressor(loss="poisson"): an exp output on half the Poisson deviance, as scikit-learn's
(issue 19). The loss itself is checked in tests/nn, the network in
tests/training/test_poisson_output.py."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from mllib.sklearn import MLPRegressor


def counts(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, rng.poisson(np.exp(0.8 * X[:, 0] - 0.4 * X[:, 1] + 0.3)).astype(float)


GLM_LIKE = dict(loss="poisson", hidden_layer_sizes=(1,), activation="identity", alpha=0.0,
                solver="lbfgs", tol=1e-8, max_iter=500, random_state=0)


def test_one_identity_unit_on_lbfgs_is_the_poisson_glm():
    """One hidden identity unit and an exp output is log-linear, so the fit is the GLM's;
    the squared error, whose output is linear, is not."""
    X, y = counts()
    glm = PoissonRegressor(alpha=0, tol=1e-10, max_iter=1000).fit(X, y)
    reg = MLPRegressor(**GLM_LIKE).fit(X, y)
    assert reg.out_activation_ == "exp" and reg.model_.output_kind == "exp"
    np.testing.assert_allclose(reg.predict(X), glm.predict(X), rtol=1e-5)
    linear = MLPRegressor(**{**GLM_LIKE, "loss": "squared_error"}).fit(X, y)
    assert not np.allclose(linear.predict(X), glm.predict(X), rtol=1e-2)


def test_the_loss_is_scikit_learns_half_deviance_plus_the_penalty():
    X, y = counts()
    reg = MLPRegressor(**{**GLM_LIKE, "alpha": 0.5, "max_iter": 5})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y)
    penalty = 0.5 / (2 * len(X)) * sum(np.sum(W ** 2) for W in reg.coefs_)
    expected = mean_poisson_deviance(y, reg.predict(X)) / 2 + penalty
    assert reg.loss_ == pytest.approx(expected, rel=1e-10)


def test_stochastic_solvers_learn_counts_as_well_as_scikit_learns_mlp():
    X, y = counts(600)
    settings = dict(loss="poisson", hidden_layer_sizes=(16,), learning_rate_init=0.01,
                    max_iter=300, tol=1e-5, random_state=0)
    ours = MLPRegressor(**settings).fit(X, y)
    theirs = SkMLPRegressor(**settings).fit(X, y)
    assert ours.score(X, y) > theirs.score(X, y) - 0.02
    assert (ours.predict(X) > 0).all()


def test_weights_count_rows():
    X, y = counts(40)
    w = np.arange(40) % 3
    weighted = MLPRegressor(**GLM_LIKE).fit(X, y, sample_weight=w)
    repeated = MLPRegressor(**GLM_LIKE).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict(X), repeated.predict(X), rtol=1e-4)


def test_negative_targets_are_refused():
    X, y = counts(30)
    with pytest.raises(ValueError, match=r"needs y ≥ 0.*1 negative value\(s\), the smallest "
                                         r"-1"):
        MLPRegressor(loss="poisson").fit(X, np.where(np.arange(30) == 4, -1.0, y))


def test_a_warm_start_keeps_the_loss_it_was_built_with():
    X, y = counts(30)
    reg = MLPRegressor(**{**GLM_LIKE, "warm_start": True, "max_iter": 50}).fit(X, y)
    reg.set_params(loss="squared_error")
    with pytest.raises(ValueError, match="loss='squared_error' needs a linear output, but the "
                                         "fitted network's is exp"):
        reg.fit(X, y)
