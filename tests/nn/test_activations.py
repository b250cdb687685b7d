"""Activations (notes §2.1): values, derivatives, softmax's Jacobian, stability."""

from __future__ import annotations

import numpy as np
import pytest

from mllib.nn.activations import (
    ACTIVATIONS, Exp, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh, get_activation,
)

ELEMENTWISE = [Sigmoid(), Tanh(), ReLU(), LeakyReLU(), LeakyReLU(0.0), LeakyReLU(0.3), Linear()]
ALL = ELEMENTWISE + [Softmax()]      # bounded for finite z: the stability tests below
UNBOUNDED = [Exp()]                  # e^z overflows past the dtype's range (its own tests)


def test_values_by_hand():
    z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(Sigmoid().forward(z),
                               [[1 / (1 + np.e ** 2), 0.5, 1 / (1 + np.e ** -3)]], rtol=1e-15)
    np.testing.assert_allclose(Tanh().forward(z),
                               [[(np.e ** -2 - np.e ** 2) / (np.e ** -2 + np.e ** 2), 0.0,
                                 (np.e ** 3 - np.e ** -3) / (np.e ** 3 + np.e ** -3)]], rtol=1e-15)
    np.testing.assert_array_equal(ReLU().forward(z), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(LeakyReLU(0.1).forward(z), [[-0.2, 0.0, 3.0]], rtol=1e-15)
    np.testing.assert_array_equal(Linear().forward(z), z)
    e = np.exp([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(Softmax().forward(z), [e / e.sum()], rtol=1e-15)
    np.testing.assert_allclose(Exp().forward(z), [[np.e ** -2, 1.0, np.e ** 3]], rtol=1e-15)


# The derivatives g'(z), written from z (the layers compute them from a = g(z)).
DERIVATIVES = {
    "sigmoid": lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2,
    "tanh": lambda z: 1 / np.cosh(z) ** 2,
    "relu": lambda z: (z > 0).astype(float),
    "linear": lambda z: np.ones_like(z),
    "exp": np.exp,
}


@pytest.mark.parametrize("g", ELEMENTWISE + UNBOUNDED, ids=repr)
def test_elementwise_backward_is_delta_times_derivative(g):
    rng = np.random.default_rng(0)
    z = rng.uniform(0.05, 4, size=(6, 5)) * rng.choice([-1.0, 1.0], size=(6, 5))
    delta = rng.normal(size=z.shape)
    if isinstance(g, LeakyReLU):
        derivative = np.where(z > 0, 1.0, g.beta)
    else:
        derivative = DERIVATIVES[g.name](z)
    np.testing.assert_allclose(g.backward(g.forward(z), delta), delta * derivative, rtol=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.01, 0.2, 0.5])
def test_leaky_relu_derivative_is_beta_for_negative_z(beta):
    # The notes' code returned 1/0 and ignored β; with β = 0 a naive a ≥ 0
    # test also returns 1, because β·z = −0.0 there.
    g = LeakyReLU(beta)
    z = np.array([[-3.0, -1e-3, 1e-3, 2.0]])
    np.testing.assert_array_equal(g.backward(g.forward(z), np.ones_like(z)),
                                  [[beta, beta, 1.0, 1.0]])


@pytest.mark.parametrize("beta", [-0.1, 1.0, 2.0])
def test_leaky_relu_rejects_slope_outside_0_1(beta):
    with pytest.raises(ValueError, match="beta"):
        LeakyReLU(beta)


def test_relu_derivative_at_the_kink_is_zero():
    g = ReLU()
    z = np.array([[0.0, -0.0]])
    np.testing.assert_array_equal(g.backward(g.forward(z), np.ones_like(z)), [[0.0, 0.0]])


def test_softmax_backward_is_the_full_jacobian_product_per_row():
    rng = np.random.default_rng(1)
    z, delta = rng.normal(size=(7, 5)) * 3, rng.normal(size=(7, 5))
    g = Softmax()
    s = g.forward(z)
    got = g.backward(s, delta)
    for row in range(z.shape[0]):
        # ∂S_i/∂z_j = S_i(δ_ij − S_j): the Jacobian diag(S) − S Sᵀ (symmetric).
        jacobian = np.diag(s[row]) - np.outer(s[row], s[row])
        np.testing.assert_allclose(got[row], jacobian.T @ delta[row], rtol=1e-12, atol=1e-15)
    # and the Jacobian itself matches central differences of softmax
    eps, row = 1e-6, 3
    numeric = np.empty((5, 5))
    for j in range(5):
        step = np.zeros((1, 5))
        step[0, j] = eps
        numeric[:, j] = (g.forward(z[row:row + 1] + step) - g.forward(z[row:row + 1] - step))[0] / (2 * eps)
    np.testing.assert_allclose(numeric, np.diag(s[row]) - np.outer(s[row], s[row]), atol=1e-9)


def test_softmax_is_shift_invariant_per_row():
    z = np.array([[1.0, 2.0, 3.0], [-5.0, 0.0, 5.0]])
    np.testing.assert_allclose(Softmax().forward(z + [[100.0], [-700.0]]), Softmax().forward(z),
                               rtol=1e-12)


# -- stability ---------------------------------------------------------------------

GRID = np.array([-1e4, -1e3, -745.0, -100.0, -88.0, -50.0, -10.0, -1.0, -1e-3, 0.0,
                 1e-3, 1.0, 10.0, 50.0, 88.0, 100.0, 710.0, 1e3, 1e4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("g", ALL, ids=repr)
def test_no_floating_point_warning_for_large_inputs(g, dtype):
    # The last row keeps exp(z − max z) in the subnormal range for softmax
    # (e^-100 in float32, e^-740 in float64): products with it underflow.
    z = np.stack([GRID, GRID[::-1], np.roll(GRID, 5), np.clip(GRID, -740, 0)]).astype(dtype)
    delta = np.random.default_rng(0).normal(size=z.shape).astype(dtype)
    with np.errstate(all="raise"):
        a = g.forward(z)
        d = g.backward(a, delta)
    assert a.dtype == dtype and d.dtype == dtype
    assert np.isfinite(a).all() and np.isfinite(d).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_values(dtype):
    z = np.array([[-1e4, 1e4]], dtype=dtype)
    with np.errstate(all="raise"):
        np.testing.assert_array_equal(Sigmoid().forward(z), [[0.0, 1.0]])
        np.testing.assert_array_equal(Tanh().forward(z), [[-1.0, 1.0]])
        np.testing.assert_array_equal(Softmax().forward(z), [[0.0, 1.0]])
        rows = Softmax().forward(np.stack([GRID, -GRID, GRID * 1e-3]).astype(dtype))
        np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=10 * np.finfo(dtype).eps)
        # saturated sigmoid has derivative exactly 0, not NaN
        a = Sigmoid().forward(z)
        np.testing.assert_array_equal(Sigmoid().backward(a, np.ones_like(a)), [[0.0, 0.0]])


@pytest.mark.parametrize("g", ALL + UNBOUNDED, ids=repr)
def test_forward_keeps_the_dtype(g):
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(3, 4)
    assert g.forward(z).dtype == np.float32
    assert g.backward(g.forward(z), np.ones_like(z)).dtype == np.float32


# -- lookup -------------------------------------------------------------------------

def test_get_activation_by_name_alias_instance_and_config():
    assert set(ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "softmax", "linear",
                                "exp"}
    for name, cls in ACTIVATIONS.items():
        assert type(get_activation(name)) is cls
        assert type(get_activation(name.upper())) is cls
    assert type(get_activation("identity")) is Linear
    assert type(get_activation("logistic")) is Sigmoid
    assert type(get_activation("exponential")) is Exp
    g = LeakyReLU(0.25)
    assert get_activation(g) is g
    assert get_activation({"name": "leaky_relu", "beta": 0.25}) == g
    assert get_activation(g.get_config()) == g
    assert get_activation("leaky_relu") != g  # default β = 0.01
    assert get_activation("leaky_relu").beta == 0.01


@pytest.mark.parametrize("spec", ["swish", "", None, 3, {"beta": 0.1}])
def test_unknown_activation_is_a_value_error(spec):
    with pytest.raises(ValueError, match="unknown activation"):
        get_activation(spec)


# Values where rounding, signs and saturation are easy to get wrong: ±0, tiny and
# huge magnitudes, and the kink of ReLU.
SPECIAL = [0.0, -0.0, 1e-45, -1e-45, 1e-30, -3.5, 3.5, 88.0, -88.0, 1e30, -1e30, 3e38, -3e38]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("g", ALL, ids=repr)
def test_forward_into_has_the_bits_of_forward(g, dtype):
    rng = np.random.default_rng(1)
    z = rng.normal(scale=5.0, size=(7, len(SPECIAL))).astype(dtype)
    z[0] = np.array(SPECIAL, dtype=np.float64).astype(dtype)
    expected = g.forward(z.copy())
    scratch = z.copy()
    with np.errstate(over="ignore"):
        got = g.forward_into(scratch)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize("g", [ReLU(), LeakyReLU(0.2), Tanh(), Softmax(), Sigmoid(), Linear()],
                         ids=repr)
def test_forward_into_writes_over_its_argument(g):
    z = np.array([[-1.0, 0.5, 2.0]], dtype=np.float32)
    assert g.forward_into(z) is z


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_exponential_overflows_to_infinity_and_underflows_to_zero_silently(dtype):
    """Past log of the dtype's largest number e^z is +∞, below about −745 (−103) it is 0:
    the correctly rounded values, with no floating-point warning, and never NaN."""
    g = Exp()
    z = GRID.astype(dtype)[None, :]
    with np.errstate(all="raise"):
        a = g.forward(z)
        d = g.backward(a, np.ones_like(a))
        into = g.forward_into(z.copy())
    limit = np.log(np.finfo(dtype).max)
    np.testing.assert_array_equal(np.isinf(a), z > limit)
    assert not np.isnan(a).any() and (a >= 0).all()
    np.testing.assert_array_equal(d, a)
    np.testing.assert_array_equal(into, a)
    assert a[0, 0] == 0.0 and a[0, -1] == np.inf
