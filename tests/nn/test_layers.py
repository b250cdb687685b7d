"""Each layer alone: gradient checks with a random upstream gradient G, the
layer contract, and the hand-computed behaviour of batch norm and dropout.

The gradient checks differentiate f(x, θ) = Σ layer(x) ⊙ G (+ the layer's
penalty) by central differences and compare with backward(G). A random G
matters: with G = 1 the batch-norm input gradient is exactly 0 and a check
would prove nothing (see test_batchnorm_input_gradient_is_not_trivially_zero).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mllib
from mllib.nn.activations import get_activation
from mllib.nn.layers import ActivationLayer, BatchNorm, Dense, Dropout
from mllib.gradcheck import numerical_gradient, relative_error
from mllib.nn.regularizers import LpRegularizer

from _nn_testing import GRAD_TOL, layer_gradcheck


def _away_from_zero(rng, shape, low=0.05, high=2.5):
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# -- Dense --------------------------------------------------------------------------

@pytest.mark.parametrize("bias, reg, n", list(itertools.product(
    [True, False], [None, 1, 2], [1, 2, 17])))
def test_dense_gradients(bias, reg, n):
    rng = np.random.default_rng(n + 10 * bool(bias) + 100 * (reg or 0))
    regularizer = LpRegularizer(reg, 0.8) if reg else None
    layer = Dense(4, 3, bias=bias, regularizer=regularizer, rng=rng, dtype=np.float64)
    layer.params["W"][...] = _away_from_zero(rng, (3, 4), 0.1, 1.0)  # L1 kink at W = 0
    if bias:
        layer.params["b"][...] = rng.normal(size=3)
    x, G = rng.normal(size=(n, 4)), rng.normal(size=(n, 3))
    errors, dx = layer_gradcheck(layer, x, G)
    assert set(errors) == {"input", "W"} | ({"b"} if bias else set())
    assert max(errors.values()) < GRAD_TOL, errors
    np.testing.assert_allclose(dx, G @ layer.params["W"], rtol=1e-13)


def test_dense_forward_is_the_notes_affine_map_transposed():
    layer = Dense(2, 3, rng=np.random.default_rng(0), dtype=np.float64)
    layer.params["W"][...] = [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]
    layer.params["b"][...] = [0.5, 0.0, -1.0]
    x = np.array([[1.0, 1.0], [2.0, -2.0]])
    # z_j = W x_j + b for each example x_j (a row here, a column in the notes).
    expected = np.array([[1 + 2 + 0.5, -1.0, 3 + 0.5 - 1], [2 - 4 + 0.5, 2.0, 6 - 1 - 1]])
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-15)


def test_dense_backward_params_stores_the_same_gradients_as_backward():
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, regularizer=LpRegularizer(2, 0.3), rng=rng, dtype=np.float64)
    x, G = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(x, training=True)
    dx = layer.backward(G)
    np.testing.assert_allclose(dx, G @ layer.params["W"], rtol=1e-15)
    full = {k: g.copy() for k, g in layer.grads.items()}
    for g in layer.grads.values():
        g[...] = np.nan
    assert layer.backward_params(G) is None
    for k, g in full.items():
        np.testing.assert_array_equal(layer.grads[k], g)
    np.testing.assert_allclose(full["W"], G.T @ x + 0.3 / 4 * layer.params["W"], rtol=1e-14)


# -- BatchNorm ----------------------------------------------------------------------

@pytest.mark.parametrize("n, epsilon", [(1, 1e-5), (2, 0.5), (2, 1e-2), (3, 1e-5),
                                        (17, 1e-5), (17, 1.0)])
def test_batchnorm_gradients(n, epsilon):
    rng = np.random.default_rng(n)
    layer = BatchNorm(3, epsilon=epsilon, dtype=np.float64)
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, size=3)
    layer.params["beta"][...] = rng.normal(size=3)
    x = rng.normal(1.0, 2.0, size=(n, 3))
    G = rng.normal(size=(n, 3))
    errors, dx = layer_gradcheck(layer, x, G)
    assert set(errors) == {"input", "gamma", "beta"}
    assert max(errors.values()) < GRAD_TOL, errors
    if n == 1:
        # One row: the output is β whatever the input, so ∂/∂x = 0 and ∂/∂γ = 0.
        np.testing.assert_array_equal(dx, 0.0)
        np.testing.assert_array_equal(layer.grads["gamma"], 0.0)
    np.testing.assert_allclose(layer.grads["beta"], G.sum(axis=0), rtol=1e-13)


def test_batchnorm_gradients_in_inference_mode():
    # After an inference-mode forward the layer is the affine map
    # γ ⊙ (U − running_mean)/√(running_var + ε) + β, and backward follows it.
    rng = np.random.default_rng(5)
    layer = BatchNorm(3, epsilon=1e-3, dtype=np.float64)
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, size=3)
    layer.params["beta"][...] = rng.normal(size=3)
    layer.state["running_mean"][...] = rng.normal(size=3)
    layer.state["running_var"][...] = rng.uniform(0.5, 2.0, size=3)
    x, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))

    def f():
        return float(np.sum(layer.forward(x, training=False) * G))

    layer.forward(x, training=False)
    dx = layer.backward(G)
    scale = layer.params["gamma"] / np.sqrt(layer.state["running_var"] + 1e-3)
    np.testing.assert_allclose(dx, G * scale, rtol=1e-13)
    assert relative_error(numerical_gradient(f, x), dx) < GRAD_TOL
    for name in ("gamma", "beta"):
        analytic = layer.grads[name].copy()
        assert relative_error(numerical_gradient(f, layer.params[name]), analytic) < GRAD_TOL


def test_batchnorm_input_gradient_is_not_trivially_zero():
    rng = np.random.default_rng(3)
    layer = BatchNorm(4, dtype=np.float64)
    x = rng.normal(size=(17, 4))
    layer.forward(x, training=True)
    # G = 1: the output's sum is N·Σβ, independent of x, so ∂/∂x = 0 exactly...
    np.testing.assert_allclose(layer.backward(np.ones((17, 4))), 0.0, atol=1e-13)
    # ...which is why the check above uses a random G, where it is not.
    G = rng.normal(size=(17, 4))
    assert np.linalg.norm(layer.backward(G)) > 0.1 * np.linalg.norm(G)


def test_batchnorm_training_output_by_hand():
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 13.0], [7.0, 7.0]])
    layer = BatchNorm(2, epsilon=1e-5, dtype=np.float64)
    layer.params["gamma"][...] = [2.0, 0.5]
    layer.params["beta"][...] = [1.0, -1.0]
    # Column 0: mean 4, biased variance (9 + 1 + 1 + 9)/4 = 5.
    # Column 1: mean 10, biased variance (0 + 0 + 9 + 9)/4 = 4.5.
    x_hat = (x - [4.0, 10.0]) / np.sqrt(np.array([5.0, 4.5]) + 1e-5)
    np.testing.assert_allclose(layer.forward(x, training=True), x_hat * [2.0, 0.5] + [1.0, -1.0],
                               rtol=1e-14)


def test_batchnorm_running_statistics_and_inference_path_by_hand():
    m = 0.8
    layer = BatchNorm(2, epsilon=1e-3, momentum=m, dtype=np.float64)
    layer.params["gamma"][...] = [1.5, -0.5]
    layer.params["beta"][...] = [0.25, 2.0]
    np.testing.assert_array_equal(layer.state["running_mean"], [0.0, 0.0])
    np.testing.assert_array_equal(layer.state["running_var"], [1.0, 1.0])

    batch1 = np.array([[0.0, 2.0], [2.0, 2.0], [4.0, 8.0]])   # mean [2, 4], var [8/3, 8]
    batch2 = np.array([[1.0, -1.0], [-1.0, 1.0]])             # mean [0, 0], var [1, 1]
    layer.forward(batch1, training=True)
    # forward alone never changes the running statistics
    np.testing.assert_array_equal(layer.state["running_mean"], [0.0, 0.0])
    layer.update_state()
    mean1 = (1 - m) * np.array([2.0, 4.0])
    var1 = m * 1.0 + (1 - m) * np.array([8 / 3, 8.0])
    np.testing.assert_allclose(layer.state["running_mean"], mean1, rtol=1e-15)
    np.testing.assert_allclose(layer.state["running_var"], var1, rtol=1e-15)
    layer.update_state()  # a second call without a new batch folds nothing in
    np.testing.assert_allclose(layer.state["running_mean"], mean1, rtol=1e-15)

    layer.forward(batch2, training=True)
    layer.update_state()
    mean2 = m * mean1 + (1 - m) * np.array([0.0, 0.0])
    var2 = m * var1 + (1 - m) * np.array([1.0, 1.0])
    np.testing.assert_allclose(layer.state["running_mean"], mean2, rtol=1e-15)
    np.testing.assert_allclose(layer.state["running_var"], var2, rtol=1e-15)

    # Inference uses the running statistics, not the statistics of x.
    x = np.array([[3.0, -2.0]])
    expected = (x - mean2) / np.sqrt(var2 + 1e-3) * [1.5, -0.5] + [0.25, 2.0]
    np.testing.assert_allclose(layer.forward(x, training=False), expected, rtol=1e-14)
    np.testing.assert_allclose(layer.state["running_var"], var2, rtol=1e-15)


@pytest.mark.parametrize("kwargs", [dict(n_units=0), dict(n_units=2.5), dict(n_units=2, epsilon=0),
                                    dict(n_units=2, momentum=1.0), dict(n_units=2, momentum=-0.1)])
def test_batchnorm_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        BatchNorm(**kwargs)


# -- ActivationLayer ------------------------------------------------------------

ACTIVATION_SPECS = ["sigmoid", "tanh", "relu", "linear", "softmax", "exp",
                    {"name": "leaky_relu", "beta": 0.0}, "leaky_relu",
                    {"name": "leaky_relu", "beta": 0.2}]


@pytest.mark.parametrize("spec", ACTIVATION_SPECS, ids=str)
@pytest.mark.parametrize("n", [1, 2, 17])
def test_activation_layer_gradients(spec, n):
    rng = np.random.default_rng(n)
    layer = ActivationLayer(spec)
    # |x| ≥ 0.05: the kink of ReLU and leaky ReLU at 0 is out of reach of ±eps.
    x, G = _away_from_zero(rng, (n, 4)), rng.normal(size=(n, 4))
    errors, _ = layer_gradcheck(layer, x, G)
    assert set(errors) == {"input"}
    assert errors["input"] < GRAD_TOL, errors


# -- Dropout --------------------------------------------------------------------

@pytest.mark.parametrize("keep_prob, n", [(0.5, 17), (0.8, 2), (1.0, 5)])
def test_dropout_gradients_with_frozen_mask(keep_prob, n):
    rng = np.random.default_rng(0)
    layer = Dropout(keep_prob, rng=np.random.default_rng(1))
    layer.freeze()
    x, G = rng.normal(size=(n, 6)), rng.normal(size=(n, 6))
    errors, dx = layer_gradcheck(layer, x, G)
    assert errors["input"] < GRAD_TOL
    if keep_prob < 1:
        np.testing.assert_array_equal(dx, G * layer.mask)


def test_dropout_draws_from_its_generator_a_new_mask_each_training_pass():
    keep = 0.6
    layer = Dropout(keep, rng=np.random.default_rng(42))
    x = np.ones((50, 8))
    out1 = layer.forward(x, training=True)
    mask1 = layer.mask.copy()
    out2 = layer.forward(x, training=True)
    assert not np.array_equal(mask1, layer.mask)
    np.testing.assert_array_equal(out1, x * mask1)
    np.testing.assert_array_equal(out2, x * layer.mask)
    # the mask is already divided by keep_prob: entries are 0 or 1/keep
    assert set(np.unique(mask1)) == {0.0, 1.0 / keep}
    # the same Generator state gives the same masks
    twin = Dropout(keep, rng=np.random.default_rng(42))
    twin.forward(x, training=True)
    np.testing.assert_array_equal(twin.mask, mask1)


@pytest.mark.parametrize("keep_prob", [0.8, 204.5 / 256, 0.002, 0.999])
def test_dropout_keeps_each_unit_with_probability_keep_prob(keep_prob):
    # 0.002 and 0.999 are the extremes of the threshold t = ⌊keep_prob · 2³²⌋;
    # 204.5/256 lies between two multiples of 1/256.
    layer = Dropout(keep_prob, rng=np.random.default_rng(3))
    n = 1 << 22
    layer.forward(np.ones((n // 64, 64), dtype=np.float32), training=True)
    kept = np.count_nonzero(layer.mask) / n
    assert abs(kept - keep_prob) < 5 * np.sqrt(keep_prob * (1 - keep_prob) / n)


def test_dropout_applies_the_forward_mask_in_backward():
    layer = Dropout(0.5, rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    x, G = rng.normal(size=(10, 4)), rng.normal(size=(10, 4))
    layer.forward(x, training=True)
    mask = layer.mask.copy()
    np.testing.assert_array_equal(layer.backward(G), G * mask)
    assert 0 < np.count_nonzero(mask) < mask.size


def test_dropout_is_the_identity_at_inference_and_for_keep_prob_1():
    x = np.random.default_rng(0).normal(size=(20, 5))
    layer = Dropout(0.3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(x), x)
    one = Dropout(1.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(one.forward(x, training=True), x)
    np.testing.assert_array_equal(one.backward(2 * x), 2 * x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_the_expectation(dtype):
    # Each output entry is x · D/p with D ~ Bernoulli(p): mean x and variance
    # x²(1 − p)/p. Over M = 200,000 entries of x = 1 the sample mean has
    # standard error √((1 − p)/(pM)); 5 standard errors fail by chance with
    # probability 6e-7 (and the seed is fixed).
    p, M = 0.7, 200_000
    layer = Dropout(p, rng=np.random.default_rng(7))
    out = layer.forward(np.ones((M // 8, 8), dtype=dtype), training=True)
    assert out.dtype == dtype
    se = np.sqrt((1 - p) / (p * M))
    assert abs(out.mean() - 1.0) < 5 * se
    kept = np.count_nonzero(out) / M
    assert abs(kept - p) < 5 * np.sqrt(p * (1 - p) / M)


@pytest.mark.parametrize("keep_prob", [0.0, -0.5, 1.5, float("nan"), True, "0.5"])
def test_dropout_rejects_keep_prob_outside_0_1(keep_prob):
    with pytest.raises(ValueError, match=r"keep_prob must be a number in \(0, 1\], got "):
        Dropout(keep_prob, rng=np.random.default_rng(0))


@pytest.mark.parametrize("make", [lambda rng: Dense(3, 2, rng=rng),
                                  lambda rng: Dropout(0.5, rng=rng)], ids=["Dense", "Dropout"])
@pytest.mark.parametrize("rng", [None, 0, np.random.RandomState(0)],
                         ids=["None", "int", "RandomState"])
def test_layers_that_draw_need_a_generator(make, rng):
    # A layer never makes its own Generator: one seeded by the model fixes every draw.
    with pytest.raises(ValueError, match=r"rng must be a numpy\.random\.Generator"):
        make(rng)


def test_same_generator_state_gives_the_same_weights_and_masks():
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(Dense(4, 3, rng=a).params["W"], Dense(4, 3, rng=b).params["W"])
    x = np.ones((6, 4))
    np.testing.assert_array_equal(Dropout(0.5, rng=a).forward(x, training=True),
                                  Dropout(0.5, rng=b).forward(x, training=True))


@pytest.mark.parametrize("make, match", [
    (lambda: Dense(0, 2, rng=np.random.default_rng(0)),
     r"Dense n_in must be a positive integer, got 0"),
    (lambda: Dense(2, True, rng=np.random.default_rng(0)),
     r"Dense n_out must be a positive integer, got True"),
    (lambda: BatchNorm(2.0), r"BatchNorm n_units must be a positive integer, got 2\.0"),
    (lambda: BatchNorm(2, epsilon=0), r"bn_epsilon must be a number in \(0, inf\), got 0"),
    (lambda: BatchNorm(2, momentum=1.0), r"bn_momentum must be a number in \[0, 1\), got 1\.0"),
])
def test_layer_arguments_are_checked(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# -- the layer contract, for every layer ----------------------------------------------

def _every_layer():
    rng = np.random.default_rng(0)
    return [
        Dense(3, 3, rng=rng, dtype=np.float64),
        Dense(3, 3, bias=False, regularizer=LpRegularizer(2, 0.5), rng=rng, dtype=np.float64),
        BatchNorm(3, dtype=np.float64),
        Dropout(0.5, rng=rng),
        *[ActivationLayer(spec) for spec in ACTIVATION_SPECS],
    ]


@pytest.mark.parametrize("layer", _every_layer(), ids=repr)
def test_layer_contract(layer):
    rng = np.random.default_rng(1)
    x, G = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    assert set(layer.params) == set(layer.grads)
    for k in layer.params:
        assert layer.grads[k].shape == layer.params[k].shape
        assert layer.grads[k].dtype == layer.params[k].dtype
    state_before = {k: v.copy() for k, v in layer.state.items()}
    params_before = {k: v.copy() for k, v in layer.params.items()}
    x_before = x.copy()
    out = layer.forward(x, training=True)
    assert out.shape == (5, 3)
    dx = layer.backward(G)
    assert dx.shape == x.shape
    np.testing.assert_array_equal(x, x_before)
    # forward and backward change neither the parameters nor the state
    for k, v in params_before.items():
        np.testing.assert_array_equal(layer.params[k], v)
    for k, v in state_before.items():
        np.testing.assert_array_equal(layer.state[k], v)
    assert layer.forward(x, training=False).shape == (5, 3)
    assert isinstance(layer.get_config(), dict)
    assert type(layer).__name__ in repr(layer)


def test_activation_layer_uses_the_named_activation():
    layer = ActivationLayer({"name": "leaky_relu", "beta": 0.3})
    assert layer.activation == get_activation({"name": "leaky_relu", "beta": 0.3})
    np.testing.assert_allclose(layer.forward(np.array([[-2.0, 2.0]])), [[-0.6, 2.0]])


def test_network_dropout_masks_come_from_the_model_generator():
    def net(seed):
        return mllib.NeuralNetwork(nodes=[4, 6, 6, 1], activators=["relu", "relu", "sigmoid"],
                                   keep_probs=[0.8, 0.5, 0.5, 1.0], seed=seed, dtype="float64")

    def masks(model):
        return [layer.mask.copy() for layer in model.layers if isinstance(layer, Dropout)]

    X = np.random.default_rng(0).normal(size=(12, 4))
    y = np.arange(12) % 2
    a, b, c = net(1), net(1), net(2)
    for model in (a, b, c):
        model.gradients(X, y)
    first = masks(a)
    assert len(first) == 3 and [m.shape for m in first] == [(12, 4), (12, 6), (12, 6)]
    for m1, m2 in zip(first, masks(b)):
        np.testing.assert_array_equal(m1, m2)        # same seed, same masks
    assert any(not np.array_equal(m1, m2) for m1, m2 in zip(first, masks(c)))
    a.gradients(X, y)                                # a new mask every training pass
    assert all(not np.array_equal(m1, m2) for m1, m2 in zip(first, masks(a)))
    # inference has no dropout: it equals the same weights without dropout
    plain = mllib.NeuralNetwork(nodes=[4, 6, 6, 1], activators=["relu", "relu", "sigmoid"],
                                seed=1, dtype="float64")
    for name, value in a.parameters().items():
        plain.parameters()[name][...] = value
    np.testing.assert_array_equal(a.forward(X), plain.forward(X))
    assert a.cost(X, y, training=False) == plain.cost(X, y, training=False)
