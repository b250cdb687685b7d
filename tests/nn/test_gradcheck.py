"""mllib.gradcheck on the notes' own examples (§6.2), and proof that it fails
when it should."""

from __future__ import annotations

import numpy as np
import pytest

import mllib
from mllib.gradcheck import check_gradients, differential_check, numerical_gradient, relative_error

from _nn_testing import GRAD_TOL

# The notes' examples, with the reverse differential laid out as
# r[i, j, ...] = ∂f[...]/∂x[i, j] (shape x.shape + f.shape).


def sigmoid(x):
    """σ: R^n → R^n; its Jacobian is diagonal."""
    s = 1 / (1 + np.exp(-x))
    return s, np.diagflat(s * (1 - s)).T


def foo(x):
    """f: R^3 → R^2, f(x, y, z) = (xy, z²)."""
    y = np.array([[x[0] * x[1]], [x[2] ** 2]])
    J = np.zeros((2, 3))
    J[0, 0], J[0, 1], J[1, 2] = x[1], x[0], 2 * x[2]
    return y, np.einsum("ij->ji", J)


V = np.random.default_rng(1).normal(size=4)   # the notes call np.random.seed(1); we do not


def bar(x):
    """f: R^{m×n} → R^m, f(x) = x v."""
    m, n = x.shape
    J = np.zeros((m, m, n))
    for mu in range(m):
        J[mu, mu, :] = V[:n]
    return x @ V[:n], np.einsum("kij->ijk", J)


def baz(x, factor=2.0):
    """f: R^{m×n} → R^{m×n}, the Hadamard square x ⊙ x (factor 2 in its derivative)."""
    m, n = x.shape
    J = np.zeros((m, n, m, n))
    for i in range(m):
        for j in range(n):
            J[i, j, i, j] = factor * x[i, j]
    return x * x, np.einsum("ijkl->klij", J)


@pytest.mark.parametrize("f, x", [
    (sigmoid, np.array([-1.0, 0.5, 2.0, 0.0, -3.0])),
    (sigmoid, np.array([0.7])),
    (foo, np.array([1.5, -2.0, 0.5])),
    (bar, np.random.default_rng(2).normal(size=(3, 4))),
    (baz, np.random.default_rng(3).normal(size=(3, 2))),
], ids=["sigmoid-R5", "sigmoid-R1", "foo-R3-R2", "bar-Rmn-Rm", "baz-hadamard"])
def test_differential_check_accepts_the_notes_examples(f, x):
    x_before = x.copy()
    assert differential_check(f, x) < GRAD_TOL
    np.testing.assert_array_equal(x, x_before)  # the point is not modified


def test_differential_check_rejects_wrong_differentials():
    x = np.random.default_rng(3).normal(size=(3, 2))
    # derivative x instead of 2x: error ‖2x − x‖/(‖2x‖ + ‖x‖) = 1/3 exactly
    assert differential_check(lambda x: baz(x, factor=1.0), x) == pytest.approx(1 / 3, rel=1e-6)

    def foo_swapped(x):   # ∂(xy)/∂x and ∂(xy)/∂y exchanged
        y, r = foo(x)
        r = r.copy()
        r[[0, 1], 0] = r[[1, 0], 0]
        return y, r
    assert differential_check(foo_swapped, np.array([1.5, -2.0, 0.5])) > 0.1

    def bar_transposed_layout(x):   # r laid out as (f, x): wrong for a non-square map
        y, r = bar(x)
        return y, np.ascontiguousarray(np.moveaxis(r, -1, 0))
    assert differential_check(bar_transposed_layout,
                              np.random.default_rng(2).normal(size=(3, 4))) > 0.1


def test_numerical_gradient_is_exact_for_a_quadratic_and_restores_the_array():
    # For a quadratic the central difference has no truncation error.
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    w = np.array([0.3, -0.7])
    before = w.copy()
    grad = numerical_gradient(lambda: 0.5 * w @ A @ w, w, eps=1e-4)
    np.testing.assert_allclose(grad, A @ before, rtol=1e-9)
    assert w.tobytes() == before.tobytes()


def test_relative_error():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == 1.0
    assert relative_error([3.0, 4.0], [0.0, 0.0]) == 1.0
    assert relative_error([2.0], [1.0]) == pytest.approx(1 / 3)


def test_check_gradients_leaves_the_model_as_it_was():
    net = mllib.NeuralNetwork(nodes=[3, 4, 2], activators=["tanh", "softmax"],
                              batch_norm=True, keep_probs=[1.0, 0.7, 1.0], dtype="float64")
    X = np.random.default_rng(0).normal(size=(9, 3))
    y = np.arange(9) % 2
    params = {k: v.tobytes() for k, v in net.parameters().items()}
    state = {k: v.tobytes() for k, v in net.state().items()}
    errors = check_gradients(net, X, y)
    assert set(errors) == set(params)
    assert max(errors.values()) < 1e-6
    assert {k: v.tobytes() for k, v in net.parameters().items()} == params
    assert {k: v.tobytes() for k, v in net.state().items()} == state
