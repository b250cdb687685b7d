"""Losses fused with their output activations (notes §1, §2.2, §10)."""

from __future__ import annotations

import numpy as np
import pytest

from mllib.gradcheck import numerical_gradient, relative_error
from mllib.nn.losses import (
    BinaryCrossEntropy, CategoricalCrossEntropy, PoissonDeviance, SquaredError, loss_for_output,
)

from _nn_testing import GRAD_TOL

LOSSES = [BinaryCrossEntropy(), CategoricalCrossEntropy(), SquaredError(), PoissonDeviance()]


def _targets(loss, rng, n, k):
    if isinstance(loss, BinaryCrossEntropy):
        return rng.integers(0, 2, size=(n, k)).astype(float)
    if isinstance(loss, CategoricalCrossEntropy):
        return np.eye(k)[rng.integers(0, k, size=n)]
    if isinstance(loss, PoissonDeviance):
        return rng.poisson(1.5, size=(n, k)).astype(float)   # counts, zeros among them
    return rng.normal(size=(n, k))


def _naive_cost(loss, z, y):
    """The textbook formulas, through a = g(z): fine for moderate z."""
    n = z.shape[0]
    if isinstance(loss, BinaryCrossEntropy):
        a = 1 / (1 + np.exp(-z))
        return -np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)) / n
    if isinstance(loss, CategoricalCrossEntropy):
        a = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return -np.sum(y * np.log(a)) / n
    if isinstance(loss, PoissonDeviance):
        a = np.exp(z)   # y log(y/a) − y + a, with 0 log 0 = 0
        return np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / a), 0) - y + a) / n
    return np.sum((z - y) ** 2) / (2 * n)


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
@pytest.mark.parametrize("n", [1, 2, 17])
def test_cost_matches_the_textbook_formula(loss, n):
    rng = np.random.default_rng(n)
    z = rng.normal(scale=3.0, size=(n, 3))
    y = _targets(loss, rng, n, 3)
    assert loss.cost(z, y) == pytest.approx(_naive_cost(loss, z, y), rel=1e-12)


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
@pytest.mark.parametrize("n", [1, 2, 17])
def test_delta_is_the_gradient_of_the_cost_in_the_logits(loss, n):
    rng = np.random.default_rng(10 + n)
    z = rng.normal(scale=2.0, size=(n, 3))
    y = _targets(loss, rng, n, 3)
    a = loss.activation.forward(z)
    delta = loss.delta(a, y)
    np.testing.assert_allclose(delta, (a - y) / n, rtol=1e-15)
    numeric = numerical_gradient(lambda: loss.cost(z, y), z, eps=1e-6)
    assert relative_error(numeric, delta) < GRAD_TOL


def test_output_activation_pairs():
    assert loss_for_output("sigmoid").activation.name == "sigmoid"
    assert isinstance(loss_for_output("sigmoid"), BinaryCrossEntropy)
    assert isinstance(loss_for_output("softmax"), CategoricalCrossEntropy)
    assert isinstance(loss_for_output("linear"), SquaredError)
    assert isinstance(loss_for_output("exp"), PoissonDeviance)
    for name in ("tanh", "relu", "leaky_relu", "bogus"):
        with pytest.raises(ValueError, match="paired loss"):
            loss_for_output(name)


# -- by hand ------------------------------------------------------------------------

def test_categorical_cross_entropy_on_two_samples_by_hand():
    # Sample 1: logits (0, ln 2, ln 3) → softmax (1/6, 2/6, 3/6), true class 0.
    # Sample 2: logits (ln 4, 0, 0)     → softmax (4/6, 1/6, 1/6), true class 2.
    z = np.array([[0.0, np.log(2), np.log(3)], [np.log(4), 0.0, 0.0]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    loss = CategoricalCrossEntropy()
    # J = −(ln(1/6) + ln(1/6)) / 2 = ln 6
    assert loss.cost(z, y) == pytest.approx(np.log(6), rel=1e-14)
    a = loss.activation.forward(z)
    np.testing.assert_allclose(a, [[1 / 6, 2 / 6, 3 / 6], [4 / 6, 1 / 6, 1 / 6]], rtol=1e-14)
    np.testing.assert_allclose(loss.delta(a, y),
                               [[(1 / 6 - 1) / 2, 1 / 6, 1 / 4], [1 / 3, 1 / 12, (1 / 6 - 1) / 2]],
                               rtol=1e-14)


def test_squared_error_by_hand():
    # J = 1/(2N) Σ_j ‖a_j − y_j‖², with a = z, over N = 2 rows of 2 outputs.
    z = np.array([[1.0, 2.0], [0.0, -1.0]])
    y = np.array([[0.0, 4.0], [3.0, -1.0]])
    loss = SquaredError()
    # residuals (1, −2) and (−3, 0): ‖·‖² = 5 and 9, J = 14/4
    assert loss.cost(z, y) == 3.5
    np.testing.assert_array_equal(loss.delta(z, y), [[0.5, -1.0], [-1.5, 0.0]])


def test_poisson_deviance_by_hand():
    # a = e^z = (1, 2) and (3, 1); y = (1, 0) and (1, 2). L = y log(y/a) − y + a:
    # 0 and 2 on the first row, (2 − ln 3) and (2 ln 2 − 1) on the second.
    z = np.array([[0.0, np.log(2)], [np.log(3), 0.0]])
    y = np.array([[1.0, 0.0], [1.0, 2.0]])
    loss = PoissonDeviance()
    assert loss.cost(z, y) == pytest.approx((3 - np.log(3) + 2 * np.log(2)) / 2, rel=1e-14)
    a = loss.activation.forward(z)
    np.testing.assert_allclose(a, [[1.0, 2.0], [3.0, 1.0]], rtol=1e-15)
    np.testing.assert_allclose(loss.delta(a, y), [[0.0, 1.0], [1.0, -0.5]], rtol=1e-15,
                               atol=1e-16)


@pytest.mark.parametrize("y", [0.0, 1e-8, 0.5, 3.0, 1e6, 1e12])
def test_poisson_deviance_is_zero_at_a_fit_and_positive_elsewhere(y):
    """At a = y the deviance is 0 (for y = 0, its infimum as z → −∞). Near it, written as
    L = y (expm1(r) − r) for r = z − log y, it loses only the digits of that one
    difference, a relative error of about 2ε/|r| (4e-12 at r = 1e-4), where the expanded
    form e^z − y z + (y log y − y) would lose about 2ε |log y|/r² (1e-6 for y = 1e12)."""
    loss = PoissonDeviance()
    log_y = np.log(y) if y > 0 else -800.0
    for r in (-1e-4, 1e-4, -0.5, 2.0, 30.0):
        z = np.array([[log_y + r]])
        r_exact = z[0, 0] - log_y   # the r that z holds, exactly (a difference of neighbours)
        expected = y * (np.expm1(r_exact) - r_exact) if y > 0 else np.exp(z[0, 0])
        if abs(r_exact) < 1e-3:   # the series, free of expm1's own rounding near 0
            expected = y * r_exact ** 2 * (1 / 2 + r_exact / 6 + r_exact ** 2 / 24)
        tolerance = 1e-12 if abs(r) > 1e-3 else 1e-10
        assert loss.cost(z, np.array([[y]])) == pytest.approx(expected, rel=tolerance)
        assert loss.cost(z, np.array([[y]])) > 0 or y == 0
    if y > 0:
        assert loss.cost(np.array([[log_y]]), np.array([[y]])) == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_poisson_deviance_beyond_the_range_of_the_exponential(dtype):
    """e^z is unbounded: past the dtype's range a, the delta and (past float64's) the cost
    are +∞, never NaN, with no warning; far below, a is 0 and the cost y(−z + log y − 1)."""
    loss = PoissonDeviance()
    y = np.array([[0.0], [2.0]], dtype=dtype)
    with np.errstate(all="raise"):
        high = np.full((2, 1), 1e4, dtype=dtype)
        assert loss.cost(high, y) == np.inf
        a = loss.activation.forward(high)
        assert (a == np.inf).all() and (loss.delta(a, y) == np.inf).all()
        low = np.full((2, 1), -1e4, dtype=dtype)
        assert loss.cost(low, y) == pytest.approx(2 * (1e4 + np.log(2) - 1) / 2, rel=1e-12)
        a = loss.activation.forward(low)
        np.testing.assert_array_equal(a, 0.0)
        np.testing.assert_allclose(loss.delta(a, y), [[0.0], [-1.0]])


def test_weighted_poisson_deviance_repeats_rows():
    rng = np.random.default_rng(3)
    z, y = rng.normal(size=(6, 2)), rng.poisson(2.0, size=(6, 2)).astype(float)
    w = np.array([1, 0, 3, 2, 1, 1])
    loss = PoissonDeviance()
    repeated = loss.cost(np.repeat(z, w, axis=0), np.repeat(y, w, axis=0))
    assert loss.cost(z, y, sample_weight=w) == pytest.approx(repeated, rel=1e-14)
    a = loss.activation.forward(z)
    np.testing.assert_allclose(loss.delta(a, y, sample_weight=w), (a - y) * w[:, None] / 8,
                               rtol=1e-15)


def test_binary_cross_entropy_outputs_add_up():
    # Two independent sigmoid outputs: the cost is the sum of two log-losses.
    z = np.array([[0.0, np.log(3)]])      # σ = 1/2 and 3/4
    y = np.array([[1.0, 0.0]])
    assert BinaryCrossEntropy().cost(z, y) == pytest.approx(np.log(2) + np.log(4), rel=1e-14)


# -- stability ------------------------------------------------------------------------

LARGE = [
    # (loss, logits, targets, closed form of J)
    (BinaryCrossEntropy(), [[1e4]], [[0.0]], 1e4),        # −log(1 − σ(1e4)) = 1e4
    (BinaryCrossEntropy(), [[-1e4]], [[1.0]], 1e4),       # −log σ(−1e4) = 1e4
    (BinaryCrossEntropy(), [[1e4], [-1e4]], [[1.0], [0.0]], 0.0),
    (BinaryCrossEntropy(), [[1e4, -1e4]], [[0.0, 1.0]], 2e4),
    (CategoricalCrossEntropy(), [[1e4, -1e4, 0.0]], [[0.0, 1.0, 0.0]], 2e4),
    (CategoricalCrossEntropy(), [[1e4, -1e4, 0.0]], [[1.0, 0.0, 0.0]], 0.0),
    (CategoricalCrossEntropy(), [[1e4, 1e4], [-1e4, -1e4]], [[1.0, 0.0], [0.0, 1.0]], np.log(2)),
    (SquaredError(), [[1e4], [-1e4]], [[0.0], [0.0]], 1e8 / 2),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss, z, y, expected", LARGE,
                         ids=[f"{c[0]!r}-{i}" for i, c in enumerate(LARGE)])
def test_cost_is_finite_and_exact_for_huge_logits(loss, z, y, expected, dtype):
    z, y = np.array(z, dtype=dtype), np.array(y, dtype=dtype)
    with np.errstate(all="raise"):
        cost = loss.cost(z, y)
        a = loss.activation.forward(z)
        delta = loss.delta(a, y)
    assert np.isfinite(cost)
    assert cost == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert np.isfinite(delta).all()
    # a − y is exact here: saturated outputs are exactly 0, 1/2 or 1
    np.testing.assert_allclose(delta, (a - y) / z.shape[0], rtol=1e-6)
