import numpy as np
import pytest

import mllib


def test_one_sigmoid_layer_gradient_is_the_notes_formula():
    # Notes §1.1: dJ/dW = (1/N)(A − Y)Xᵀ and dJ/db = (1/N) Σ (A − Y), here transposed.
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, -3.0]])
    y = np.array([1.0, 0.0, 1.0])
    net = mllib.NeuralNetwork(nodes=[2, 1], activators=["sigmoid"], dtype="float64")
    W, b = net.parameters()["W1"], net.parameters()["b1"]
    W[:] = [[0.5, -0.25]]
    b[:] = [0.1]
    z = np.array([0.5 * 1 - 0.25 * 2 + 0.1, 0.5 * -1 - 0.25 * 0.5 + 0.1, 0.5 * 0 - 0.25 * -3 + 0.1])
    a = 1 / (1 + np.exp(-z))
    expected_dW = np.array([[(a - y) @ X[:, 0], (a - y) @ X[:, 1]]]) / 3
    expected_db = np.array([(a - y).sum() / 3])
    expected_cost = -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))

    cost, grads = net.gradients(X, y)

    np.testing.assert_allclose(grads["W1"], expected_dW, rtol=1e-12)
    np.testing.assert_allclose(grads["b1"], expected_db, rtol=1e-12)
    assert cost == pytest.approx(expected_cost, rel=1e-12)
