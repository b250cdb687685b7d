"""What the epoch logs mean: the cost J on the training rows, R² in full precision."""

import numpy as np
import pytest

import mllib
from mllib.training.rows.metrics import EpochMetrics


def test_r2_keeps_its_precision_for_targets_with_a_large_mean():
    rng = np.random.default_rng(0)
    Y = 1e8 + rng.normal(size=(1000, 2))
    A = Y + 0.3 * rng.normal(size=Y.shape)
    sums = EpochMetrics("linear")
    for start, stop in ((0, 1), (1, 64), (64, 500), (500, 1000)):
        sums.add(0.0, A[start:stop], Y[start:stop])
    direct = 1 - ((A - Y) ** 2).sum(axis=0) / ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    assert sums.result()["r2"] == pytest.approx(direct.mean(), rel=1e-9)
    assert 0.85 < direct.mean() < 0.95


def test_the_epoch_cost_is_J_on_the_training_rows_and_val_cost_is_evaluate():
    rng = np.random.default_rng(2)
    X, X_dev = rng.normal(size=(64, 3)), rng.normal(size=(20, 3))
    y, y_dev = (X[:, 0] > 0).astype(int), (X_dev[:, 0] > 0).astype(int)
    net = mllib.NeuralNetwork(nodes=[3, 5, 1], activators=["tanh", "sigmoid"], lp_reg=2,
                              lambda_=1.0, seed=0, dtype="float64")
    J = net.cost(X, y)
    squares = sum(float(np.sum(net.parameters()[k] ** 2)) for k in ("W1", "W2"))
    assert squares / (2 * 64) > 0.01  # the penalty is large enough to tell apart
    # Four batches of 16 and a step too small to move the weights: the epoch's
    # cost is J of the whole training set with λ/(2N), N = 64, not λ/(2·16).
    history = net.fit(X, y, epochs=1, batch_size=16, optimizer="gd", learning_rate=1e-12,
                      validation_data=(X_dev, y_dev))
    assert history.history["cost"][0] == pytest.approx(J, rel=1e-9)
    val_cost = history.history["val_cost"][0]
    assert val_cost == pytest.approx(net.evaluate(X_dev, y_dev)["cost"], rel=1e-12)
    assert val_cost == pytest.approx(net.cost(X_dev, y_dev, training=False), rel=1e-12)


def test_regression_with_several_targets():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    A, c = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]]), np.array([0.5, -1.0])
    Y = X @ A.T + c
    net = mllib.NeuralNetwork(nodes=[3, None], activators=["linear"], dtype="float64")
    history = net.fit(X[:150], Y[:150], epochs=300, optimizer="gd", learning_rate=0.1,
                      batch_size=50, validation_data=(X[150:], Y[150:]))
    assert net.config["nodes"][-1] == 2
    assert history.history["r2"][-1] > 0.999 and history.history["val_r2"][-1] > 0.999
    predicted = net.predict(X[150:])
    assert predicted.shape == (50, 2)
    np.testing.assert_allclose(predicted, Y[150:], atol=1e-3)
    logs = net.evaluate(X[150:], Y[150:])
    assert logs["r2"] == pytest.approx(1.0, abs=1e-6)
    assert logs["cost"] == pytest.approx(np.sum((predicted - Y[150:]) ** 2) / (2 * 50), rel=1e-9)
    with pytest.raises(ValueError, match=r"\(n_samples, 2\)"):
        net.evaluate(X, X)
