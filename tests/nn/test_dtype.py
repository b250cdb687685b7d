"""float32 against float64: the same weights, cast, give the same outputs."""

from __future__ import annotations

import numpy as np
import pytest

import mllib

CONFIGS = [
    dict(nodes=[4, 6, 5, 3], activators=["relu", "tanh", "softmax"]),
    dict(nodes=[4, 6, 1], activators=["sigmoid", "sigmoid"], batch_norm=True),
    dict(nodes=[4, 5, 5, 2], activators=["leaky_relu", "linear", "linear"], keep_probs=0.8,
         lp_reg=2, lambda_=0.3),
    dict(nodes=[4, 3], activators=["softmax"], lp_reg=1, lambda_=0.5),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(map(str, c["activators"])))
def test_float32_forward_matches_float64(config):
    rng = np.random.default_rng(0)
    net64 = mllib.NeuralNetwork(**config, dtype="float64", seed=1)
    net32 = mllib.NeuralNetwork(**config, dtype="float32", seed=1)
    X = rng.normal(size=(64, 4))
    n_out = config["nodes"][-1]
    y = rng.normal(size=(64, n_out)) if config["activators"][-1] == "linear" else \
        rng.integers(0, n_out if n_out > 1 else 2, size=64)
    # one training step's worth of batch-norm statistics, then the same numbers in both
    net64.gradients(X, y)
    for layer in net64.layers:
        layer.update_state()
    for name, value in {**net64.parameters(), **net64.state()}.items():
        live = {**net32.parameters(), **net32.state()}[name]
        live[...] = value.astype(np.float32)
        value[...] = live  # both now hold exactly the float32 numbers
    X32 = X.astype(np.float32)
    out32, out64 = net32.forward(X32), net64.forward(X32.astype(np.float64))
    assert out32.dtype == np.float32 and out64.dtype == np.float64
    # Outputs are O(1); near-zero entries of a linear output get atol instead.
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-6)
    cost32 = net32.cost(X32, y, training=False)
    cost64 = net64.cost(X32.astype(np.float64), y, training=False)
    assert cost32 == pytest.approx(cost64, rel=1e-5)
