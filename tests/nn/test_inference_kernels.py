"""The layers' compiled kernels (mllib[fast]) give the NumPy path's bits (issue 20).

Both paths run in one process, ``MLLIB_KERNELS=numpy`` (the reference) and
``MLLIB_KERNELS=numba`` (the kernels, whatever the model's size), and every result
is compared bit for bit: the fused bias and activation and the activations' backward
on special values, a network's predictions for every activation and dtype, and whole
training epochs with dropout and batch norm, down to the optimizer's state and the
running statistics.
"""

import numpy as np
import pytest

numba = pytest.importorskip("numba", reason="the mllib[fast] extra (installed by mllib[test])")

import mllib  # noqa: E402
from mllib.nn import _kernels  # noqa: E402
from mllib.nn.activations import ACTIVATIONS, get_activation  # noqa: E402

pytestmark = pytest.mark.same_bits
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
SPECIALS = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-45, -1e-45, 1e-310, -1e-310, 3e38, -3e38]


def special_rows(dtype, rows=37, units=19, seed=0):
    """z and b with ±0, NaN, ±inf, subnormal and huge entries, and sums that are −0."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((rows, units)).astype(dtype)
    b = rng.standard_normal(units).astype(dtype)
    with np.errstate(over="ignore"):
        specials = np.array(SPECIALS, dtype=dtype)
    z[: len(specials), 0] = specials
    z[0, : len(specials)] = specials
    b[1] = -0.0                                  # −0 + −0 = −0 in column 1
    b[2] = np.nan
    return z, b


def assert_same_bits(ours, reference):
    assert ours.dtype == reference.dtype and ours.shape == reference.shape
    assert ours.tobytes() == reference.tobytes()


@DTYPES
@pytest.mark.parametrize("spec", ["relu", "leaky_relu", {"name": "leaky_relu", "beta": 0.0},
                                  {"name": "leaky_relu", "beta": 0.5}, "sigmoid", "tanh",
                                  "linear", "exp", "softmax"])
def test_bias_and_activation_in_one_pass_have_the_bits_of_two(spec, dtype):
    activation = get_activation(spec)
    z, b = special_rows(dtype)
    with np.errstate(all="ignore"):
        plain = activation.forward_into(z.copy() + b)   # Dense's z += b, then g over it
        fused = activation.forward_biased_into(z.copy(), b, _kernels)
    assert_same_bits(fused, plain)


@DTYPES
@pytest.mark.parametrize("spec", ["relu", "leaky_relu", {"name": "leaky_relu", "beta": 0.0},
                                  {"name": "leaky_relu", "beta": 0.3}, "tanh", "softmax"])
def test_the_backward_pass_in_one_kernel_has_the_bits_of_numpys(spec, dtype):
    activation = get_activation(spec)
    a, _ = special_rows(dtype, seed=1)
    a[5, :] = [-0.0, 0.0, np.nan] * 6 + [1e-45]
    delta, _ = special_rows(dtype, seed=2)
    for upstream in (delta, delta[::-1].copy()):    # specials of δ beside each of a's
        with np.errstate(all="ignore"):
            plain = activation.backward(a, upstream)
            ours = activation.backward_compiled(a, upstream, _kernels)
        assert_same_bits(ours, plain)


def test_the_relu_kernel_keeps_nan_and_makes_minus_zero_plus_zero():
    z = np.array([[-0.0, np.nan, -1.0, 2.0]], dtype=np.float32)
    out = _kernels.bias_relu(z, np.array([-0.0, 0.0, 0.0, 0.0], dtype=np.float32))
    assert out is z and np.isnan(z[0, 1]) and not np.signbit(z[0, 0])
    assert z[0, [0, 2, 3]].tolist() == [0.0, 0.0, 2.0]


def test_adding_the_bias_after_the_activation_fails_the_comparison(monkeypatch):
    z, b = special_rows(np.float32)
    plain = get_activation("relu").forward_into(z.copy() + b)
    monkeypatch.setattr(_kernels, "bias_relu", _relu_then_bias)
    with pytest.raises(AssertionError):
        assert_same_bits(get_activation("relu").forward_biased_into(z.copy(), b, _kernels), plain)


@numba.njit(error_model="numpy", cache=True)
def _relu_then_bias(z, b):
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            x = z[i, j]
            z[i, j] = (x if x > 0 or x != x else 0) + b[j]
    return z


def data(n=300, features=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, features))
    y = (X[:, :classes].argmax(axis=1) + (rng.random(n) < 0.1)) % classes
    return X, y


@DTYPES
@pytest.mark.parametrize("hidden", sorted(set(ACTIVATIONS) - {"softmax"}))   # output only
def test_training_and_predictions_have_the_bits_of_the_numpy_path(hidden, dtype, monkeypatch):
    # Every activation after a Dense layer: the kernels' path writes it over the layer's
    # output (forward_into) where NumPy's path makes a new array (forward), in training too.
    X, y = data()
    fitted = []
    for mode in ("numpy", "numba"):
        monkeypatch.setenv("MLLIB_KERNELS", mode)
        net = mllib.NeuralNetwork(nodes=[12, 24, 16, 3], activators=[hidden, "relu", "softmax"],
                                  keep_probs=[1.0, 0.9, 1.0, 1.0], dtype=np.dtype(dtype).name,
                                  seed=3)
        net.fit(X, y, optimizer="adam", learning_rate=1e-2, epochs=2, batch_size=64)
        fitted.append(net)
    for key, value in fitted[0].get_weights().items():
        assert_same_bits(fitted[1].get_weights()[key], value)
    monkeypatch.setenv("MLLIB_KERNELS", "numpy")
    reference = fitted[0].predict_proba(X)
    monkeypatch.setenv("MLLIB_KERNELS", "numba")
    assert_same_bits(fitted[0].predict_proba(X), reference)


def trained(mode, monkeypatch, optimizer, dtype="float32", batch_norm=True):
    monkeypatch.setenv("MLLIB_KERNELS", mode)
    X, y = data()
    net = mllib.NeuralNetwork(nodes=[12, 32, 16, 3], activators=["relu", "leaky_relu", "softmax"],
                              keep_probs=[0.9, 0.8, 0.8, 1.0],
                              batch_norm=[False, batch_norm, False, False], dtype=dtype, seed=1)
    history = net.fit(X, y, optimizer=optimizer, learning_rate=1e-2, epochs=3, batch_size=32)
    return net, history


@pytest.mark.parametrize("optimizer, dtype, batch_norm", [
    ("adam", "float32", True), ("adam", "float32", False), ("rmsprop", "float64", True),
    ({"name": "momentum", "nesterov": True}, "float32", False)])
def test_training_epochs_with_dropout_and_batch_norm_have_the_same_bits(optimizer, dtype,
                                                                        batch_norm, monkeypatch):
    # Layer 1 has batch norm or not, layer 2 a Dense layer and leaky ReLU that the kernels
    # fuse, forward and backward.
    reference, reference_history = trained("numpy", monkeypatch, optimizer, dtype, batch_norm)
    ours, history = trained("numba", monkeypatch, optimizer, dtype, batch_norm)
    weights, expected = ours.get_weights(), reference.get_weights()
    assert weights.keys() == expected.keys()
    assert any(k.startswith("running_var") for k in weights) is batch_norm
    for key in expected:
        assert_same_bits(weights[key], expected[key])
    state, expected_state = ours.optimizer_.get_state(), reference.optimizer_.get_state()
    for key in expected_state:
        assert_same_bits(state[key], expected_state[key])
    assert history.history["cost"] == reference_history.history["cost"]
    X, _ = data(seed=1)
    assert_same_bits(ours.predict_proba(X), reference.predict_proba(X))


@numba.njit(error_model="numpy", cache=True)
def _slope_one_at_zero(a, delta, out, one, slope):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i, j] = delta[i, j] * (one if a[i, j] >= 0 else slope)
    return out


def test_a_backward_kernel_with_slope_one_at_the_kink_fails_the_comparison(monkeypatch):
    # ReLU's a is exactly 0 for every z ≤ 0: a ≥ 0 in place of a > 0 changes the gradients.
    reference, _ = trained("numpy", monkeypatch, "adam", batch_norm=False)
    monkeypatch.setattr(_kernels, "relu_backward", _slope_one_at_zero)
    ours, _ = trained("numba", monkeypatch, "adam", batch_norm=False)
    with pytest.raises(AssertionError):
        assert_same_bits(ours.get_weights()["W1"], reference.get_weights()["W1"])
