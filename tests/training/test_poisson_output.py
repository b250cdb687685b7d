"""A network with an exp output on half the Poisson deviance: counts y ≥ 0 whose mean is
e^z (issue 19; the loss itself is checked in tests/nn)."""

import numpy as np
import pytest

from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance

import mllib
from mllib import NonFiniteOutputError


def counts(n=400, seed=0):
    """Poisson counts whose log-mean is 0.5 x0 − 0.3 x1 + 0.5: a GLM that one exp unit is."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1] + 0.5)).astype(float)


def poisson_net(**kwargs):
    return mllib.NeuralNetwork(nodes=[2, 1], activators=["exp"], dtype="float64", **kwargs)


def test_one_exp_unit_is_the_poisson_glm():
    """Full-batch gradient descent on one exp unit reaches the maximum-likelihood fit that
    scikit-learn's PoissonRegressor (no penalty) finds with its own solver."""
    X, y = counts(1000)
    glm = PoissonRegressor(alpha=0, tol=1e-10, max_iter=1000).fit(X, y)
    net = poisson_net()
    history = net.fit(X, y, optimizer="gd", learning_rate=0.5, epochs=300)
    params = net.parameters()
    np.testing.assert_allclose(params["W1"][0], glm.coef_, rtol=1e-6)
    np.testing.assert_allclose(params["b1"], [glm.intercept_], rtol=1e-6)
    assert abs(glm.coef_[0] - 0.5) < 0.1 and abs(glm.intercept_ - 0.5) < 0.1
    assert net.score_name == "r2" and "r2" in history.history
    np.testing.assert_allclose(net.predict(X), glm.predict(X), rtol=1e-6)
    logs = net.evaluate(X, y)
    assert set(logs) == {"cost", "r2"} and 0 < logs["r2"] < 1
    # the cost is the mean half deviance, which scikit-learn's metric doubles
    assert logs["cost"] == pytest.approx(mean_poisson_deviance(y, net.predict(X)) / 2,
                                         rel=1e-12)


def test_negative_targets_are_refused():
    X, y = counts(20)
    y[3] = -2.0
    with pytest.raises(ValueError, match=r"an exp output \(the Poisson loss\) needs y ≥ 0.*1 "
                                         r"negative value\(s\), the smallest -2"):
        poisson_net().fit(X, y, epochs=1)


def test_standardized_targets_and_probabilities_are_refused():
    with pytest.raises(ValueError, match="standardize_target=True is for a linear output.*exp"):
        poisson_net(standardize_target=True)
    X, y = counts(20)
    net = poisson_net()
    net.fit(X, y, epochs=1)
    with pytest.raises(AttributeError, match="this network has a exp output, use predict"):
        net.predict_proba(X)


def test_an_output_beyond_the_dtypes_range_is_an_error_not_infinity():
    X, y = counts(20)
    net = poisson_net()
    net.fit(X, y, epochs=1)
    net.parameters()["b1"][...] = 800.0            # e^z past float64's largest number
    with pytest.raises(NonFiniteOutputError, match="the network's output is not finite"):
        net.predict(X)


def test_saved_and_loaded_it_predicts_and_trains_on_to_the_same_bits(tmp_path):
    X, y = counts(200)
    once = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["tanh", "exp"], seed=3)
    once.fit(X, y, epochs=4, batch_size=32, learning_rate=0.01)
    twice = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["tanh", "exp"], seed=3)
    twice.fit(X, y, epochs=2, batch_size=32, learning_rate=0.01)
    twice.save(tmp_path / "poisson.npz")
    back = mllib.load(tmp_path / "poisson.npz")
    assert back.output_kind == "exp" and back.loss.name == "poisson"
    np.testing.assert_array_equal(back.predict(X), twice.predict(X))
    back.fit(X, y, epochs=2, batch_size=32, learning_rate=0.01)
    np.testing.assert_array_equal(back.predict(X), once.predict(X))
