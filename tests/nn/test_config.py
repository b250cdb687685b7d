"""Configuration in the notes' keys: validation, the layers built from it, and
the parameters' names and liveness."""

from __future__ import annotations

import numpy as np
import pytest

import mllib
from mllib.nn.layers import ActivationLayer, BatchNorm, Dense, Dropout

BASE = dict(nodes=[3, 4, 2], activators=["relu", "sigmoid"])


def _net(**overrides):
    return mllib.NeuralNetwork(**{**BASE, **overrides})


# Each bad configuration with a regular expression that its message must match,
# so that the error names the problem (and usually the offending value).
BAD_CONFIGS = [
    # lengths that do not match nodes (L = 2)
    (dict(activators=["relu", "relu", "relu", "sigmoid"]), r"activators has length 4.*L = 2"),
    (dict(activators=["sigmoid"]), r"activators has length 1"),
    (dict(bias=[True]), r"bias has length 1"),
    (dict(keep_probs=[1.0, 0.5]), r"keep_probs has length 2.*L \+ 1 = 3"),
    (dict(batch_norm=[False, True]), r"batch_norm has length 2.*L \+ 1 = 3"),
    (dict(nodes=[3]), r"nodes must be a list"),
    (dict(nodes=3), r"nodes must be a list"),
    (dict(nodes=[3, 0, 2]), r"nodes\[1\] must be a positive integer, got 0"),
    (dict(nodes=[3, None, 2]), r"nodes\[1\] must be a positive integer, got None"),
    (dict(nodes=[3, 2.5, 2]), r"nodes\[1\] must be a positive integer"),
    # keep probabilities outside (0, 1], and dropout on the output layer
    (dict(keep_probs=[1.0, 0.0, 1.0]), r"keep_probs\[1\] must be a number in \(0, 1\], got 0"),
    (dict(keep_probs=[1.0, 1.5, 1.0]), r"keep_probs\[1\] must be a number in \(0, 1\], got 1.5"),
    (dict(keep_probs=[-0.2, 1.0, 1.0]), r"keep_probs\[0\] must be a number in \(0, 1\]"),
    (dict(keep_probs=[1.0, float("nan"), 1.0]), r"keep_probs\[1\] must be a number in \(0, 1\]"),
    (dict(keep_probs=1.5), r"keep_probs\[1\] must be a number in \(0, 1\]"),
    (dict(keep_probs=[1.0, 1.0, 0.5]), r"keep_probs\[2\].*dropout on the output layer"),
    # batch norm on the output layer (or the input)
    (dict(batch_norm=[False, False, True]), r"batch_norm\[2\].*batch norm on the output layer"),
    (dict(batch_norm=[True, False, False]), r"batch_norm\[0\] must be False"),
    (dict(batch_norm=[False, "yes", False]), r"batch_norm\[1\] must be True or False"),
    # activations
    (dict(activators=["softmax", "sigmoid"]), r"softmax is only allowed on the output layer.*layer 1"),
    (dict(activators=["swish", "sigmoid"]), r"activators\[1\].*unknown activation 'swish'"),
    (dict(activators=["relu", "relu"]), r"output activator 'relu' has no paired loss"),
    (dict(nodes=[3, 4, 1], activators=["relu", "softmax"]),
     r"softmax output needs nodes\[L\] >= 2, got nodes\[L\] = 1.*'sigmoid' for two classes"),
    (dict(activators=["relu", "tanh"]), r"output activator 'tanh' has no paired loss"),
    (dict(activators=["relu", {"name": "leaky_relu", "beta": 1.5}]), r"beta"),
    # regularization
    (dict(lp_reg=3), r"lp_reg must be 0, 1 or 2, got 3"),
    (dict(lp_reg=-1), r"lp_reg must be 0, 1 or 2"),
    (dict(lp_reg="2"), r"lp_reg must be 0, 1 or 2, got '2'"),
    (dict(lp_reg=True), r"lp_reg must be 0, 1 or 2"),
    (dict(lp_reg=2, lambda_=-0.1), r"lambda_ must be a number in \[0, inf\), got -0.1"),
    (dict(lp_reg=2, lambda_=float("inf")), r"lambda_ must be a number in \[0, inf\)"),
    (dict(lp_reg=2, lambda_=float("nan")), r"lambda_ must be a number in \[0, inf\)"),
    (dict(lp_reg=2, lambda_="0.1"), r"lambda_ must be a number in \[0, inf\)"),
    # bias entries, batch-norm options, init, seed
    (dict(bias=[True, "no"]), r"bias\[2\] must be True or False, got 'no'"),
    (dict(bn_epsilon=0.0), r"bn_epsilon must be a number in \(0, inf\)"),
    (dict(bn_momentum=1.0), r"bn_momentum must be a number in \[0, 1\)"),
    (dict(init="glorot"), r"unknown init 'glorot'"),
    (dict(seed=-1), r"seed must be a non-negative integer, got -1"),
    (dict(seed=1.5), r"seed must be a non-negative integer"),
    # dtype
    (dict(dtype="float16"), r"dtype must be 'float32' or 'float64', got 'float16'"),
    (dict(dtype=np.int32), r"dtype must be 'float32' or 'float64'"),
    (dict(dtype="f8"), r"dtype must be 'float32' or 'float64'"),
    (dict(dtype="double precision"), r"dtype must be 'float32' or 'float64'"),
]


@pytest.mark.parametrize("overrides, message", BAD_CONFIGS,
                         ids=[repr(c[0])[:60] for c in BAD_CONFIGS])
def test_contradictory_config_is_a_value_error_naming_the_problem(overrides, message):
    with pytest.raises(ValueError, match=message):
        _net(**overrides)


@pytest.mark.parametrize("dtype", [123, object(), [1, 2]], ids=["int", "object", "list"])
def test_uninterpretable_dtype_is_a_value_error(dtype):
    # KNOWN BUG in src/mllib/training/config.py (normalize_config, the line
    # `dtype_name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype`):
    # np.dtype(123) raises TypeError ("Cannot interpret '123' as a data type"),
    # which escapes instead of the ValueError every other bad argument gives.
    # Fix: catch TypeError around np.dtype(dtype) and raise
    # ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}").
    with pytest.raises(ValueError, match=r"dtype must be 'float32' or 'float64'"):
        _net(dtype=dtype)


def test_the_notes_activators_form_with_a_leading_input_entry():
    # The notes write activators = [g0, g1, ..., gL] with g0 = "linear" for the input.
    short = _net(activators=["relu", "sigmoid"], seed=3, dtype="float64")
    notes = _net(activators=["linear", "relu", "sigmoid"], seed=3, dtype="float64")
    assert [g.name for g in notes.config["activators"][1:]] == ["relu", "sigmoid"]
    X = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_array_equal(short.forward(X), notes.forward(X))


def test_a_single_activator_and_a_single_keep_prob_are_broadcast():
    net = mllib.NeuralNetwork(nodes=[2, 3, 3, 1], activators="sigmoid", keep_probs=0.5)
    assert [g.name for g in net.config["activators"][1:]] == ["sigmoid"] * 3
    # one number applies to the hidden layers only: not the input, not the output
    assert net.config["keep_probs"] == [1.0, 0.5, 0.5, 1.0]
    assert net.config["batch_norm"] == [False] * 4


def test_batch_norm_true_means_every_hidden_layer():
    net = mllib.NeuralNetwork(nodes=[2, 3, 3, 1], activators=["tanh", "tanh", "linear"],
                              batch_norm=True)
    assert net.config["batch_norm"] == [False, True, True, False]


def test_layers_are_built_in_the_notes_order():
    # Layer l: Dense → BatchNorm (if any) → g[l] → Dropout (if keep_probs[l] < 1);
    # keep_probs[0] drops inputs. The output layer is Dense only: its activation
    # is fused with the loss.
    net = mllib.NeuralNetwork(nodes=[3, 4, 5, 2], activators=["relu", "tanh", "softmax"],
                              keep_probs=[0.9, 0.8, 1.0, 1.0], batch_norm=[False, True, False, False])
    kinds = [type(layer) for layer in net.layers]
    assert kinds == [Dropout, Dense, BatchNorm, ActivationLayer, Dropout,
                     Dense, ActivationLayer, Dense]
    assert [layer.keep_prob for layer in net.layers if isinstance(layer, Dropout)] == [0.9, 0.8]
    assert [layer.activation.name for layer in net.layers
            if isinstance(layer, ActivationLayer)] == ["relu", "tanh"]
    assert net.loss.activation.name == "softmax"
    # dropout layers share the model's one Generator
    assert all(layer.rng is net.rng_ for layer in net.layers if isinstance(layer, Dropout))


def test_parameter_names_shapes_and_batch_norm_without_bias():
    net = mllib.NeuralNetwork(nodes=[3, 4, 5, 2], activators=["relu", "tanh", "sigmoid"],
                              batch_norm=[False, True, False, False], bias=[True, True, False])
    shapes = {k: v.shape for k, v in net.parameters().items()}
    # W[l] is (n[l], n[l-1]) as in the notes; b, γ, β are 1-D; layer 1 is
    # batch-normalized, so it has no b1 (β1 absorbs it); layer 3 has bias=False.
    assert shapes == {"W1": (4, 3), "gamma1": (4,), "beta1": (4,),
                      "W2": (5, 4), "b2": (5,), "W3": (2, 5)}
    assert list(net.parameters()) == ["W1", "gamma1", "beta1", "W2", "b2", "W3"]
    assert set(net.state()) == {"running_mean1", "running_var1"}
    _, grads = net.gradients(np.ones((4, 3)), np.array([[0.0, 1.0]] * 4))
    assert set(grads) == set(shapes)


def test_parameters_are_live_arrays():
    net = _net(dtype="float64")
    X = np.random.default_rng(0).normal(size=(6, 3))
    before = net.forward(X)
    params = net.parameters()
    params["b2"] += 1.0  # in place
    after = net.forward(X)
    assert not np.allclose(before, after)
    z_shift = np.log(after / (1 - after)) - np.log(before / (1 - before))
    np.testing.assert_allclose(z_shift, 1.0, rtol=1e-9)
    assert net.parameters()["b2"] is params["b2"]
    # gradients() hands back copies, not the live gradient buffers
    _, g1 = net.gradients(X, np.zeros((6, 2)))
    g1["W1"][...] = 123.0
    _, g2 = net.gradients(X, np.zeros((6, 2)))
    assert not np.any(g2["W1"] == 123.0)


def test_nodes0_none_takes_the_width_from_the_data():
    net = mllib.NeuralNetwork(nodes=[None, 4, 1], activators=["tanh", "sigmoid"], dtype="float64")
    with pytest.raises(RuntimeError):
        net.parameters()
    X = np.random.default_rng(0).normal(size=(8, 5))
    cost, grads = net.gradients(X, np.arange(8) % 2)
    assert np.isfinite(cost)
    assert net.config["nodes"][0] == 5
    assert net.parameters()["W1"].shape == (4, 5)
    assert grads["W1"].shape == (4, 5)
    with pytest.raises(ValueError, match="features"):
        net.forward(np.ones((2, 6)))


def test_same_seed_same_network_and_different_seed_different_weights():
    a, b, c = _net(seed=11), _net(seed=11), _net(seed=12)
    for k in a.parameters():
        np.testing.assert_array_equal(a.parameters()[k], b.parameters()[k])
    assert not np.array_equal(a.parameters()["W1"], c.parameters()["W1"])


@pytest.mark.parametrize("dtype, expected", [("float32", np.float32), ("float64", np.float64),
                                             (np.float64, np.float64)])
def test_dtype_of_parameters(dtype, expected):
    net = _net(dtype=dtype, batch_norm=[False, True, False])
    assert all(v.dtype == expected for v in net.parameters().values())
    assert all(v.dtype == expected for v in net.state().values())
