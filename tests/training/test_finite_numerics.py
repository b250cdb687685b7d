"""Finite in, finite out, or a clear error (issue 11): the network's methods.

Under ``np.errstate(all="raise")``, no FloatingPointError may escape ``fit``,
``predict``, ``predict_proba``, ``evaluate``, ``cost`` or ``gradients`` for logits up
to ±1e4 in float64 and ±80 in float32, whatever the output, hidden activation and
optimizer, with or without batch norm, dropout, L1 or L2. With such logits the
probabilities saturate, so the deltas (a − y)/N, and everything backprop and the
optimizers' moments make of them, underflow.
"""

import itertools

import numpy as np
import pytest

import mllib
from mllib import NonFiniteOutputError

OUTPUTS = {"sigmoid": 1, "softmax": 3, "linear": 1}
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu"]
OPTIMIZERS = ["gd", "momentum", "rmsprop", "adam"]
EXTRAS = [{}, {"batch_norm": True}, {"keep_probs": 0.8}, {"lp_reg": 1, "lambda_": 0.1},
          {"lp_reg": 2, "lambda_": 0.1}]
BOUND = {"float32": 80.0, "float64": 1e4}
GRID = list(itertools.product(OUTPUTS, HIDDEN, OPTIMIZERS, ["float32", "float64"]))


def problem(output, n=32, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = {"sigmoid": X[:, 0] > 0, "softmax": rng.integers(0, 3, n),
         "linear": X @ [1.0, -2.0, 0.5, 0.0]}[output]
    return X, y


def saturated(output, hidden, dtype, extra, X, y):
    """A fitted network whose largest logit on X is ±BOUND[dtype]."""
    net = mllib.NeuralNetwork(nodes=[4, 8, OUTPUTS[output]], activators=[hidden, output],
                              dtype=dtype, seed=1, **extra)
    net.fit(X, y, epochs=1)
    z = net.logits(net.batch_input(X, slice(None)))
    weights = net.get_weights()
    scale = BOUND[dtype] / np.abs(z).max()
    for name in ("W2", "b2"):
        weights[name] = weights[name] * scale
    net.set_weights(weights)
    return net


@pytest.mark.parametrize("output, hidden, optimizer, dtype", GRID)
def test_no_floating_point_error_escapes_with_saturated_logits(output, hidden, optimizer,
                                                                dtype):
    X, y = problem(output)
    # Each setting runs plain and with one of the extras, so every extra meets every
    # output, hidden activation and optimizer.
    extra = EXTRAS[1 + GRID.index((output, hidden, optimizer, dtype)) % 4]
    for options in ({}, extra):
        net = saturated(output, hidden, dtype, options, X, y)
        lr = 1e-10 if output == "linear" else 1e-3   # residuals of 1e4: keep steps small
        with np.errstate(all="raise"):
            labels = net.predict(X)
            logs = net.evaluate(X, y)
            cost, grads = net.gradients(X, y)
            assert np.isfinite(net.cost(X, y)) and np.isfinite(cost)
            if output != "linear":
                proba = net.predict_proba(X)
                assert np.isfinite(proba).all() and proba.min() >= 0 and proba.max() <= 1
            net.fit(X, y, optimizer=optimizer, learning_rate=lr, epochs=20, batch_size=8)
        assert np.isfinite(labels.astype(float) if output == "linear" else 0).all()
        assert all(np.isfinite(v) for v in logs.values())
        assert all(np.isfinite(g).all() for g in grads.values())
        assert all(np.isfinite(v).all() for v in net.get_weights().values())
        assert all(np.isfinite(v).all() for v in net.optimizer_.get_state().values())


@pytest.mark.parametrize("dtype, scale", [("float32", 1e30), ("float64", 1e300)])
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_huge_finite_inputs_give_probabilities_costs_and_labels(dtype, scale, output, hidden):
    X, y = problem(output, n=64)
    net = mllib.NeuralNetwork(nodes=[4, 8, 8, OUTPUTS[output]],
                              activators=[hidden, hidden, output], dtype=dtype, seed=0)
    net.fit(X, y, epochs=5)
    huge = X / np.abs(X).max() * scale
    with np.errstate(all="raise"):
        proba = net.predict_proba(huge)
        labels = net.predict(huge)
        logs = net.evaluate(huge, y)
    assert proba.dtype == np.dtype(dtype) and np.isfinite(proba).all()
    assert proba.min() >= 0 and proba.max() <= 1
    if output == "softmax":
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=10 * np.finfo(dtype).eps)
        np.testing.assert_array_equal(labels, proba.argmax(axis=1))
    else:
        np.testing.assert_array_equal(labels, proba[:, 0] >= 0.5)
    assert np.isfinite(logs["cost"]) and logs["cost"] >= 0 and 0 <= logs["accuracy"] <= 1


def test_a_float32_regression_cost_beyond_float32_is_still_finite():
    # Residuals of 1e30: their squares overflow float32, their mean in float64 does not.
    X, y = problem("linear")
    net = mllib.NeuralNetwork(nodes=[4, 1], activators=["linear"], seed=0)
    net.fit(X, y, epochs=1)
    huge = X / np.abs(X).max() * 1e30
    with np.errstate(all="raise"):
        cost = net.evaluate(huge, y)["cost"]
    z = huge.astype(np.float32) @ net.get_weights()["W1"].T.astype(np.float64)
    expected = np.mean((z[:, 0] + net.get_weights()["b1"][0] - y) ** 2) / 2
    assert cost == pytest.approx(expected, rel=1e-5) and cost > 1e55


def relu_regressor(dtype="float32"):
    X, y = problem("linear")
    net = mllib.NeuralNetwork(nodes=[4, 8, 1], activators=["relu", "linear"], dtype=dtype,
                              seed=0)
    net.fit(X, y, epochs=1)
    return net, X, y


@pytest.mark.parametrize("errstate", ["raise", "warn"])
def test_an_output_that_overflows_is_a_clear_error_not_a_nan(errstate):
    net, X, y = relu_regressor()
    # Every hidden unit sums its inputs; the output takes differences of the units.
    net.set_weights({"W1": np.ones((8, 4)), "b1": np.zeros(8),
                     "W2": np.array([[1.0, -1.0] * 4]), "b2": np.zeros(1)})
    huge = X.copy()
    huge[[5, 9, 20]] = 3e38              # within float32, but X·Wᵀ overflows it
    with np.errstate(all=errstate), pytest.raises(
            NonFiniteOutputError, match=r"the network's output is not finite for 3 row\(s\) "
                                        r"of X \(the first is row 5\), although X and the "
                                        r"weights are finite: a value overflowed float32 on the "
                                        r"way through the network \(the largest \|x\| in those "
                                        r"rows is 3e\+38\)\. Scale or standardize X, or use "
                                        r"dtype='float64'"):
        net.predict(huge)
    with np.errstate(all=errstate), pytest.raises(NonFiniteOutputError):
        net.evaluate(huge, y)
    assert issubclass(NonFiniteOutputError, ValueError)
    assert issubclass(NonFiniteOutputError, OverflowError)
    assert np.isfinite(net.predict(huge[:5])).all()   # the same model, its other rows


def test_a_cost_that_overflows_float64_is_a_clear_error():
    net, X, y = relu_regressor("float64")
    huge = X / np.abs(X).max() * 1e300   # outputs near 1e300 are finite, their squares not
    assert np.isfinite(net.predict(huge)).all()
    with np.errstate(all="raise"), pytest.raises(
            NonFiniteOutputError, match=r"the cost is inf, although X, y and the weights are "
                                        r"finite: it overflowed float64"):
        net.evaluate(huge, y)


def test_a_logit_beyond_the_dtype_still_gives_its_probability():
    # z = 3e38 · 2 overflows to +inf; σ(z) is 1 all the same, as for any z above 17.
    net = mllib.LogisticRegression()
    X = np.array([[1.0], [-1.0]])
    net.fit(X, [1, 0], epochs=1)
    net.set_weights({"W1": np.array([[3e38]]), "b1": np.array([0.0])})
    with np.errstate(all="raise"):
        proba = net.predict_proba(X * 2)
    np.testing.assert_array_equal(proba, [[1.0], [0.0]])
