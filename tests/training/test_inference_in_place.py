"""Inference writes activations over the layers' own temporaries, never over X, and
gives the bits of the plain layer-by-layer forward pass; the finiteness check of X
reads it by BLAS column sums and still finds every NaN and infinity."""

import numpy as np
import pytest

import mllib
from mllib.training.rows import inputs
from mllib.training.rows.inputs import all_finite


def plain_forward(model, X):
    """a[L] layer by layer with ``forward(z, training=False)``: nothing written in place."""
    z = X
    for layer in model.stack.layers:
        z = layer.forward(z, False)
    return model.loss.activation.forward(z)


@pytest.mark.parametrize("options", [
    dict(activators=["relu", "tanh", "softmax"]),
    dict(activators=["leaky_relu", "relu", "softmax"], batch_norm=True),
    dict(activators=["tanh", "relu", "sigmoid"], keep_probs=[0.8, 0.9, 0.7, 1.0]),
    dict(activators=["relu", "relu", "linear"]),
], ids=["relu-tanh-softmax", "batch-norm", "dropout-on-input", "linear"])
def test_inference_has_the_bits_of_the_plain_forward_and_leaves_x_alone(options):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    n_out = {"softmax": 3, "sigmoid": 1, "linear": 2}[options["activators"][-1]]
    y = (rng.integers(0, 3, 300) if n_out == 3 else (X[:, :1] > 0).astype(int)
         if n_out == 1 else X[:, :2] * 2.0)
    model = mllib.NeuralNetwork(nodes=[6, 8, 5, n_out], seed=0, **options)
    model.fit(X, y, epochs=2, batch_size=64)
    original = X.copy()
    got = model.forward(X)
    np.testing.assert_array_equal(X, original)
    expected = plain_forward(model, X)
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_every_nonfinite_entry_is_found(monkeypatch, value, dtype, order):
    monkeypatch.setattr(inputs, "FINITE_BYTES", 64)    # a few rows per read
    X = np.asarray(np.random.default_rng(0).normal(size=(37, 5)), dtype=dtype, order=order)
    assert all_finite(X)
    for i, j in [(0, 0), (17, 3), (36, 4)]:
        bad = X.copy(order=order)
        bad[i, j] = value
        assert not all_finite(bad)
        assert not all_finite(bad[::2] if i % 2 == 0 else bad[1::2])   # strided views


def test_opposite_infinities_and_huge_finite_sums():
    X = np.zeros((4, 2), dtype=np.float32)
    X[0, 0], X[3, 0] = np.inf, -np.inf     # their sum is NaN
    assert not all_finite(X)
    huge = np.full((4, 2), 3e38, dtype=np.float32)   # sums overflow, every entry finite
    assert all_finite(huge)
    assert all_finite(np.arange(12).reshape(4, 3)) and all_finite(np.ones((2, 2), dtype=bool))
