"""mllib.sklearn's estimators continue from given weights: assigned by hand before the first
fit, or read back from a joblib file (issue 19, after scikit-learn's test_fit and
test_mlp_loading_from_joblib_partial_fit, written again from the behaviour they check)."""

import joblib
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from mllib.sklearn import MLPClassifier, MLPRegressor

from _sklearn_data import no_convergence

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
W1 = np.array([[0.2, -0.1], [0.4, 0.3], [-0.3, 0.1]])     # scikit-learn's layout (n[0], n[1])
B1 = np.array([0.05, -0.2])
W2 = np.array([[0.7], [-0.6]])
B2 = np.array([0.3])


def one_sgd_step(y, output, rate, alpha):
    """``(W1, b1, W2, b2)`` after one full-batch step of plain gradient descent on
    J = 1/N Σ L + α/(2N) Σ‖W‖², tanh hidden units, from the weights above.

    Backprop by hand: the output's δ is (a − y)/N for each of its pairs (sigmoid and
    cross-entropy, identity and squared error), and the hidden δ is δ W2ᵀ ⊙ (1 − a1²).
    """
    n = X.shape[0]
    a1 = np.tanh(X @ W1 + B1)
    z2 = a1 @ W2 + B2
    a2 = 1 / (1 + np.exp(-z2)) if output == "logistic" else z2
    d2 = (a2 - y.reshape(-1, 1)) / n
    d1 = d2 @ W2.T * (1 - a1 ** 2)
    grads = (X.T @ d1 + alpha * W1 / n, d1.sum(0), a1.T @ d2 + alpha * W2 / n, d2.sum(0))
    return [w - rate * g for w, g in zip((W1, B1, W2, B2), grads)]


def assign_by_hand(estimator):
    """Assign the weights as scikit-learn's test does: lists filled in after assignment."""
    estimator.coefs_ = [None, None]
    estimator.intercepts_ = [None, None]
    estimator.coefs_[0], estimator.coefs_[1] = W1.copy(), W2.copy()
    estimator.intercepts_[0], estimator.intercepts_[1] = B1.copy(), B2.copy()
    estimator.n_layers_, estimator.n_outputs_ = 3, 1
    return estimator


SETTINGS = dict(hidden_layer_sizes=(2,), activation="tanh", solver="sgd", momentum=0,
                learning_rate_init=0.1, alpha=0.1, random_state=1, dtype="float64")


@pytest.mark.parametrize("Estimator, y, output, extra", [
    (MLPClassifier, np.array([0, 1]), "logistic", {"classes": [0, 1]}),
    (MLPRegressor, np.array([0.5, -2.0]), "identity", {})])
def test_partial_fit_starts_from_weights_assigned_before_the_first_fit(Estimator, y, output,
                                                                        extra):
    estimator = assign_by_hand(Estimator(**SETTINGS))
    estimator.out_activation_ = output
    estimator.partial_fit(X, y, **extra)
    expected = one_sgd_step(y, output, rate=0.1, alpha=0.1)
    found = [estimator.coefs_[0], estimator.intercepts_[0], estimator.coefs_[1],
             estimator.intercepts_[1]]
    for ours, theirs in zip(found, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


def test_a_warm_start_fit_starts_from_them_too():
    y = np.array([0.5, -2.0])
    reg = assign_by_hand(MLPRegressor(warm_start=True, max_iter=1, **SETTINGS))
    no_convergence(lambda: reg.fit(X, y))
    np.testing.assert_allclose(reg.coefs_[1], one_sgd_step(y, "identity", 0.1, 0.1)[2],
                               rtol=1e-13)


def test_a_fit_that_starts_again_draws_its_own_and_drops_them():
    reg = assign_by_hand(MLPRegressor(max_iter=1, **SETTINGS))
    hand = reg.coefs_
    no_convergence(lambda: reg.fit(X, np.array([0.5, -2.0])))
    assert not np.allclose(reg.coefs_[0], W1, atol=0.05)
    assert reg.coefs_ is not hand and "_coefs_by_hand" not in reg.__dict__


def test_an_estimator_with_weights_assigned_is_not_fitted():
    reg = assign_by_hand(MLPRegressor(**SETTINGS))
    with pytest.raises(NotFittedError):
        check_is_fitted(reg)
    with pytest.raises(NotFittedError):
        reg.predict(X)


@pytest.mark.parametrize("change, message", [
    (lambda est: est.coefs_.__setitem__(1, np.zeros((3, 1))), r"coefs_\[1\] must have shape"),
    (lambda est: setattr(est, "n_outputs_", 2), "n_outputs_ was set to 2, but the network "
                                                 "for this data has 1"),
    (lambda est: est.__dict__.pop("_intercepts_by_hand"), "set both coefs_ and intercepts_")])
def test_weights_that_do_not_fit_the_network_are_refused(change, message):
    reg = assign_by_hand(MLPRegressor(**SETTINGS))
    change(reg)
    with pytest.raises(ValueError, match=message):
        reg.partial_fit(X, np.array([0.5, -2.0]))
    assert "model_" not in reg.__dict__


def test_a_fitted_networks_layout_cannot_be_assigned():
    reg = MLPRegressor(**SETTINGS).partial_fit(X, np.array([0.5, -2.0]))
    reg.n_outputs_ = 1                    # the same value: nothing to change
    with pytest.raises(AttributeError, match="n_outputs_ is the fitted network's, 1"):
        reg.n_outputs_ = 2


def test_partial_fit_after_a_joblib_round_trip_continues_bit_for_bit(tmp_path):
    """The file holds the optimizer's moments and step count, the rate and t_: the calls
    after loading take the very steps that the estimator would have taken."""
    settings = dict(hidden_layer_sizes=(42,), random_state=42, learning_rate_init=0.01)
    kept = MLPRegressor(**settings).fit([[2]], [4])
    joblib.dump(kept, tmp_path / "mlp.joblib")
    loaded = joblib.load(tmp_path / "mlp.joblib")
    for _ in range(200):
        kept.partial_fit([[2]], [1])
        loaded.partial_fit([[2]], [1])
    for ours, theirs in zip(loaded.coefs_ + loaded.intercepts_, kept.coefs_ + kept.intercepts_):
        np.testing.assert_array_equal(ours, theirs)
    assert loaded.t_ == kept.t_ and abs(loaded.predict([[2]])[0] - 1) < 1e-3
