"""Properties of the activations and losses for arbitrary finite logits (issue 11).

Every property runs under ``np.errstate(all="raise")``: no underflow, overflow or
invalid operation may escape, for logits up to ±1e4 in float64 and ±80 in float32
(beyond which e^z leaves float32), and the forward passes of the output activations
for any finite logit at all.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mllib.nn.activations import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from mllib.nn.losses import BinaryCrossEntropy, CategoricalCrossEntropy, SquaredError

BOUND = {np.float32: 80.0, np.float64: 1e4}
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
SHAPES = st.tuples(st.integers(1, 6), st.integers(2, 6))


def floats(dtype, bound=None):
    """Finite numbers of ``dtype``, subnormal ones included, within ±bound if given."""
    width = 32 if dtype == np.float32 else 64
    if bound is None:
        return st.floats(allow_nan=False, allow_infinity=False, width=width)
    bound = float(dtype(bound))   # the nearest number of the dtype
    return st.floats(-bound, bound, width=width)


def logits(dtype, bound="default"):
    bound = BOUND[dtype] if bound == "default" else bound
    return SHAPES.flatmap(lambda shape: arrays(dtype, shape, elements=floats(dtype, bound)))


def eps(dtype):
    return float(np.finfo(dtype).eps)


def check_softmax(z):
    with np.errstate(all="raise"):
        a = Softmax().forward(z.copy())
    assert a.dtype == z.dtype and np.isfinite(a).all()
    assert (a >= 0).all() and (a <= 1).all()
    # Each entry carries a few ulps of rounding; the row's largest is e^0 / Σ.
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=0, atol=4 * z.shape[1] * eps(z.dtype))
    rows = np.arange(z.shape[0])
    assert (a[rows, z.argmax(axis=1)] == a.max(axis=1)).all()


@DTYPES
@given(data=st.data())
def test_softmax_rows_are_probabilities_for_large_logits(dtype, data):
    check_softmax(data.draw(logits(dtype)))


@DTYPES
@given(data=st.data())
def test_softmax_rows_are_probabilities_for_any_finite_logits(dtype, data):
    check_softmax(data.draw(logits(dtype, bound=None)))


@DTYPES
@given(data=st.data())
def test_sigmoid_is_a_probability_on_the_right_side_of_one_half(dtype, data):
    z = data.draw(logits(dtype, bound=None))
    with np.errstate(all="raise"):
        a = Sigmoid().forward(z)
    assert a.dtype == z.dtype and np.isfinite(a).all()
    assert (a >= 0).all() and (a <= 1).all()
    assert (a[z >= 0] >= 0.5).all() and (a[z < 0] <= 0.5).all()


ACTIVATIONS = [Sigmoid(), Tanh(), ReLU(), LeakyReLU(0.01), LeakyReLU(0.3), Softmax()]


@DTYPES
@pytest.mark.parametrize("g", ACTIVATIONS, ids=repr)
@given(data=st.data())
def test_forward_and_backward_raise_nothing(dtype, g, data):
    z = data.draw(logits(dtype))
    # Upstream gradients of any size up to 1e30, tiny and subnormal ones included.
    delta = data.draw(arrays(dtype, z.shape, elements=floats(dtype, 1e30)))
    with np.errstate(all="raise"):
        a = g.forward(z.copy())
        d = g.backward(a, delta)
    assert np.isfinite(a).all() and np.isfinite(d).all()
    # |g'| ≤ 1 for these activations, and softmax's Jacobian maps δ into ±2 max|δ|.
    assert (np.abs(d) <= 2 * np.abs(delta).max(initial=0)).all()


def targets(kind, z, data):
    n, k = z.shape
    if kind == "binary":
        return data.draw(arrays(z.dtype, z.shape, elements=st.sampled_from([0.0, 1.0])))
    if kind == "categorical":
        codes = data.draw(arrays(np.int64, n, elements=st.integers(0, k - 1)))
        return np.eye(k, dtype=z.dtype)[codes]
    return data.draw(arrays(z.dtype, z.shape, elements=floats(z.dtype.type, BOUND[z.dtype.type])))


LOSSES = [("binary", BinaryCrossEntropy()), ("categorical", CategoricalCrossEntropy()),
          ("squared", SquaredError())]


@DTYPES
@pytest.mark.parametrize("kind, loss", LOSSES, ids=[k for k, _ in LOSSES])
@given(data=st.data())
def test_every_cost_is_finite_and_not_negative(dtype, kind, loss, data):
    z = data.draw(logits(dtype))
    y = targets(kind, z, data)
    with np.errstate(all="raise"):
        cost, a = loss.forward(z.copy(), y)
        delta = loss.delta(a, y)
        alone = loss.cost(z.copy(), y)
    assert np.isfinite(cost) and cost >= 0.0 and alone == cost
    assert a.dtype == dtype and np.isfinite(a).all()
    assert delta.dtype == dtype and np.isfinite(delta).all()
    if kind != "squared":   # (a − y)/N with a and y in [0, 1]
        assert (np.abs(delta) <= 1.0 / z.shape[0]).all()


@DTYPES
def test_a_perfect_fit_costs_zero_without_underflow_errors(dtype):
    # The residuals' squares and the probabilities' complements underflow here.
    tiny = np.finfo(dtype).tiny
    z = np.array([[1e-30, -1e-30], [tiny, -tiny]], dtype=dtype)
    bound = BOUND[dtype]
    with np.errstate(all="raise"):
        assert SquaredError().cost(z, np.zeros_like(z)) < 1e-59
        cost, a = BinaryCrossEntropy().forward(np.array([[bound], [-bound]], dtype=dtype),
                                               np.array([[1.0], [0.0]], dtype=dtype))
        delta = BinaryCrossEntropy().delta(a, np.array([[1.0], [0.0]], dtype=dtype))
    assert 0.0 <= cost < 1e-34 and np.abs(delta).max() < 1e-34
