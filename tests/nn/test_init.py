"""Weight initializers: scale, reproducibility, and how layers use them."""

from __future__ import annotations

import numpy as np
import pytest

import mllib
from mllib.nn.init import get_initializer
from mllib.nn.layers import Dense

N_IN, N_OUT = 400, 500   # M = 200,000 weights


@pytest.mark.parametrize("name, std", [("he", np.sqrt(2 / N_IN)), ("xavier", np.sqrt(1 / N_IN)),
                                       ("small", 0.01)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_standard_deviation_of_the_weights(name, std, dtype):
    W = Dense(N_IN, N_OUT, init=name, rng=np.random.default_rng(0), dtype=dtype).params["W"]
    assert W.dtype == dtype and W.shape == (N_OUT, N_IN)
    M = W.size
    # For M normal samples the sample standard deviation has standard error
    # σ/√(2M) and the sample mean σ/√M; 5 standard errors (a 0.8% band on σ
    # here) fail by chance with probability below 1e-6, and the seed is
    # fixed. The nearest wrong scales (√2 apart for he vs xavier) are far
    # outside the band.
    assert abs(W.std() - std) < 5 * std / np.sqrt(2 * M)
    assert abs(W.mean()) < 5 * std / np.sqrt(M)


def test_biases_start_at_zero_and_the_zeros_initializer():
    layer = Dense(5, 3, init="he", rng=np.random.default_rng(0), dtype=np.float64)
    np.testing.assert_array_equal(layer.params["b"], np.zeros(3))
    np.testing.assert_array_equal(get_initializer("zeros")((2, 3), None, np.float32),
                                  np.zeros((2, 3), np.float32))


def test_fan_in_is_the_second_dimension():
    # W[l] has shape (n[l], n[l-1]): fan-in n[l-1] = shape[1]
    wide = Dense(2000, 50, init="he", rng=np.random.default_rng(1), dtype=np.float64).params["W"]
    assert abs(wide.std() - np.sqrt(2 / 2000)) < 5 * np.sqrt(2 / 2000) / np.sqrt(2 * wide.size)


def test_callable_initializer_is_used_with_shape_rng_and_dtype():
    calls = []

    def init(shape, rng, dtype):
        calls.append((shape, rng, dtype))
        return np.full(shape, 0.5, dtype=dtype)

    rng = np.random.default_rng(0)
    layer = Dense(3, 2, init=init, rng=rng, dtype=np.float64)
    assert calls == [((2, 3), rng, np.float64)]
    np.testing.assert_array_equal(layer.params["W"], np.full((2, 3), 0.5))
    net = mllib.NeuralNetwork(nodes=[3, 4, 1], activators=["relu", "sigmoid"], init=init)
    np.testing.assert_array_equal(net.parameters()["W2"], np.full((1, 4), 0.5, np.float32))


@pytest.mark.parametrize("name", ["he", "xavier", "small"])
def test_same_seed_same_bits(name):
    def weights(seed):
        net = mllib.NeuralNetwork(nodes=[5, 7, 3, 2], activators=["relu", "tanh", "softmax"],
                                  init=name, seed=seed, batch_norm=[False, True, False, False])
        return net.parameters()
    a, b, c = weights(4), weights(4), weights(5)
    assert list(a) == list(b)
    for k in a:
        assert a[k].tobytes() == b[k].tobytes()
    assert a["W1"].tobytes() != c["W1"].tobytes()


@pytest.mark.parametrize("spec", ["glorot", "", None, 3])
def test_unknown_initializer_is_a_value_error(spec):
    with pytest.raises(ValueError, match="unknown init"):
        get_initializer(spec)
