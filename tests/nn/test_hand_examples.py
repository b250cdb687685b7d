"""Small examples worked by hand that pin down sign and scale conventions:
J = (1/N) Σ loss + λ/(2N) Σ|W|^p, ∂J/∂z = (a − y)/N, Z = X Wᵀ + b,
∂R/∂W = λ/N · W (L2) and λ/(2N) · sign(W) (L1), biases not penalized.

Every expected number below is derived in the comments from the inputs, not
copied from a run of the code.
"""

from __future__ import annotations

import numpy as np
import pytest

import mllib
from mllib.nn.regularizers import LpRegularizer


def _net(nodes, output, **kwargs):
    return mllib.NeuralNetwork(nodes=nodes, activators=[output], dtype="float64", **kwargs)


def test_softmax_cross_entropy_network_on_two_samples():
    # Z = X Wᵀ + b with W = [[1, 0], [0, 1], [1, 1]], b = [0, 0, −ln 2]:
    #   x1 = (0, ln 2)    → z1 = (0, ln 2, ln 2 − ln 2) = (0, ln 2, 0) → a1 = (1/4, 2/4, 1/4)
    #   x2 = (ln 3, 0)    → z2 = (ln 3, 0, ln 3 − ln 2)               → e^z2 = (3, 1, 3/2), Σ = 11/2
    #                                                                   a2 = (6/11, 2/11, 3/11)
    # Labels: class 1 for x1, class 2 for x2.
    X = np.array([[0.0, np.log(2)], [np.log(3), 0.0]])
    net = _net([2, 3], "softmax")
    W, b = net.parameters()["W1"], net.parameters()["b1"]
    W[...] = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    b[...] = [0.0, 0.0, -np.log(2)]
    a1, a2 = np.array([1 / 4, 2 / 4, 1 / 4]), np.array([6 / 11, 2 / 11, 3 / 11])
    # J = −(ln a1[1] + ln a2[2]) / 2 = −(ln(1/2) + ln(3/11)) / 2 = ln(22/3) / 2
    expected_cost = np.log(22 / 3) / 2
    # δ_j = (a_j − y_j)/2:  δ1 = (1/8, −1/4, 1/8),  δ2 = (3/11, 1/11, −4/11)
    d1, d2 = np.array([1 / 8, -1 / 4, 1 / 8]), np.array([3 / 11, 1 / 11, -4 / 11])
    # ∂J/∂W = Σ_j δ_j x_jᵀ (x1 = (0, ln2), x2 = (ln3, 0)); ∂J/∂b = δ1 + δ2
    expected_dW = np.outer(d1, [0.0, np.log(2)]) + np.outer(d2, [np.log(3), 0.0])
    expected_db = d1 + d2

    cost, grads = net.gradients(X, np.array([1, 2]))
    assert cost == pytest.approx(expected_cost, rel=1e-14)
    np.testing.assert_allclose(net.forward(X), [a1, a2], rtol=1e-14)
    np.testing.assert_allclose(grads["W1"], expected_dW, rtol=1e-13)
    np.testing.assert_allclose(grads["b1"], expected_db, rtol=1e-13, atol=1e-16)
    # one-hot rows give the same result as labels
    cost_onehot, _ = net.gradients(X, np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    assert cost_onehot == cost


def test_squared_error_network():
    # a = z = X Wᵀ + b with W = [[2, −1]], b = [1]; N = 3:
    #   x = (1, 0) → 3,   x = (0, 2) → −1,   x = (1, 1) → 2
    # y = (1, 0, 2): residuals (2, −1, 0); J = (4 + 1 + 0)/(2·3) = 5/6
    # ∂J/∂W = (1/3) Σ r_j x_j = (1/3)[(2, 0) + (0, −2) + (0, 0)] = (2/3, −2/3)
    # ∂J/∂b = (1/3) Σ r_j = 1/3
    X = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    y = np.array([1.0, 0.0, 2.0])
    net = _net([2, 1], "linear")
    net.parameters()["W1"][...] = [[2.0, -1.0]]
    net.parameters()["b1"][...] = [1.0]
    cost, grads = net.gradients(X, y)
    assert cost == pytest.approx(5 / 6, rel=1e-15)
    np.testing.assert_allclose(grads["W1"], [[2 / 3, -2 / 3]], rtol=1e-15)
    np.testing.assert_allclose(grads["b1"], [1 / 3], rtol=1e-15)


W_HAND = np.array([[1.0, -2.0], [0.5, 3.0]])


@pytest.mark.parametrize("p, lam, penalty, gradient", [
    # L2: λ/(2N) Σ W² = 0.6/6 · (1 + 4 + 0.25 + 9) = 1.425;  λ/N · W = 0.2 W
    (2, 0.6, 1.425, [[0.2, -0.4], [0.1, 0.6]]),
    # L1: λ/(2N) Σ |W| = 0.1 · (1 + 2 + 0.5 + 3) = 0.65;  λ/(2N) · sign(W) = 0.1 sign(W)
    (1, 0.6, 0.65, [[0.1, -0.1], [0.1, 0.1]]),
])
def test_regularization_by_hand_on_a_network(p, lam, penalty, gradient):
    N = 3
    X = np.array([[1.0, 2.0], [0.0, -1.0], [2.0, 0.5]])
    y = np.array([[0.5, 1.0], [0.0, -1.0], [2.0, 0.0]])
    plain = _net([2, 2], "linear")
    reg = _net([2, 2], "linear", lp_reg=p, lambda_=lam)
    for net in (plain, reg):
        net.parameters()["W1"][...] = W_HAND
        net.parameters()["b1"][...] = [0.25, -0.5]
    cost0, g0 = plain.gradients(X, y)
    cost1, g1 = reg.gradients(X, y)
    assert cost1 - cost0 == pytest.approx(penalty, rel=1e-13)
    np.testing.assert_allclose(g1["W1"] - g0["W1"], gradient, rtol=1e-12)
    np.testing.assert_array_equal(g1["b1"], g0["b1"])  # biases are not penalized
    # the regularizer alone, on the same W
    r = LpRegularizer(p, lam)
    assert r.penalty(W_HAND, N) == pytest.approx(penalty, rel=1e-15)
    dW = np.zeros_like(W_HAND)
    r.add_gradient(W_HAND, dW, N)
    np.testing.assert_allclose(dW, gradient, rtol=1e-15)


def test_regularization_penalizes_every_layer_and_no_gamma_or_beta():
    # Two layers, batch norm on the first: R = λ/(2N)(ΣW1² + ΣW2²), nothing for γ, β, b2.
    net = mllib.NeuralNetwork(nodes=[2, 2, 1], activators=["tanh", "linear"], batch_norm=True,
                              lp_reg=2, lambda_=1.0, dtype="float64")
    plain = mllib.NeuralNetwork(nodes=[2, 2, 1], activators=["tanh", "linear"], batch_norm=True,
                                dtype="float64")
    for name, value in net.parameters().items():
        plain.parameters()[name][...] = value
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]])
    y = np.array([0.0, 1.0, 2.0, -1.0])
    W1, W2 = net.parameters()["W1"], net.parameters()["W2"]
    expected = 1.0 / (2 * 4) * ((W1 ** 2).sum() + (W2 ** 2).sum())
    (c1, g1), (c0, g0) = net.gradients(X, y), plain.gradients(X, y)
    assert c1 - c0 == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(g1["W1"] - g0["W1"], W1 / 4, rtol=1e-10)
    np.testing.assert_allclose(g1["W2"] - g0["W2"], W2 / 4, rtol=1e-10)
    for name in ("gamma1", "beta1", "b2"):
        np.testing.assert_array_equal(g1[name], g0[name])


@pytest.mark.parametrize("p, lam", [(0, 1.0), (3, 1.0), (2, -1.0), (2, float("nan")),
                                    (1, float("inf"))])
def test_regularizer_rejects_bad_arguments(p, lam):
    with pytest.raises(ValueError):
        LpRegularizer(p, lam)
