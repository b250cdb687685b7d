"""Weight initializers: scale, reproducibility, and how layers use them."""

from __future__ import annotations

import numpy as np
import pytest

import mllib
from mllib.nn.init import Normal, get_initializer, init_config
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


# -- every spec, the scaled normal among them ----------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_named_initializer_is_its_formula_to_the_bit(dtype):
    shape = (7, 5)      # fan-in n[l-1] = 5
    draws = np.random.default_rng(3).standard_normal(shape)
    expected = {"small": draws * 0.01, "he": draws * np.sqrt(2.0 / 5),
                "xavier": draws * np.sqrt(1.0 / 5), "zeros": np.zeros(shape)}
    for name, values in expected.items():
        W = get_initializer(name)(shape, np.random.default_rng(3), dtype)
        assert W.dtype == dtype
        assert W.tobytes() == values.astype(dtype).tobytes(), name


@pytest.mark.parametrize("spec", [{"name": "normal", "scale": 10.0},
                                  {"name": "normal", "scale": 10}, "normal:10", "normal:1e1",
                                  Normal(10)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_scaled_normal_is_randn_times_the_scale(spec, dtype):
    # The course's "random init scaled by 10": W = randn(n[l], n[l-1]) · 10.
    W = Dense(3, 4, init=spec, rng=np.random.default_rng(0), dtype=dtype).params["W"]
    expected = (np.random.default_rng(0).standard_normal((4, 3)) * 10.0).astype(dtype)
    assert W.tobytes() == expected.tobytes()
    assert init_config(spec) == {"name": "normal", "scale": 10.0}


def test_small_is_the_scaled_normal_of_0_01_and_keeps_its_name():
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    a = get_initializer("small")((30, 20), rng_a, np.float32)
    b = get_initializer({"name": "normal", "scale": 0.01})((30, 20), rng_b, np.float32)
    assert a.tobytes() == b.tobytes()
    net = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["tanh", "sigmoid"], init="small")
    assert net.get_config()["init"] == "small"


@pytest.mark.parametrize("spec, name", [({"name": "he"}, "he"), ({"name": "zeros"}, "zeros"),
                                        ("xavier", "xavier")])
def test_a_name_in_a_dict_is_the_name(spec, name):
    assert init_config(spec) == name
    net = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["tanh", "sigmoid"], init=spec)
    assert net.get_config()["init"] == name


@pytest.mark.parametrize("spec, match", [
    ({"name": "normal", "scale": -1.0}, r"init \{'name': 'normal', 'scale': -1.0\}: scale must "
                                        r"be a number in \(0, inf\), got -1.0"),
    ({"name": "normal", "scale": 0}, r"scale must be a number in \(0, inf\), got 0"),
    ({"name": "normal", "scale": float("inf")}, r"got inf"),
    ({"name": "normal", "scale": float("nan")}, r"got nan"),
    ({"name": "normal", "scale": True}, r"got True"),
    ({"name": "normal", "scale": "10"}, r"got '10'"),
    ({"name": "normal", "scale": 1j}, r"got 1j"),
    ("normal:-3", r"init 'normal:-3': scale must be a number in \(0, inf\), got -3.0"),
    ("normal", r"init 'normal' must be 'normal:s' with a number s > 0"),
    ("normal:ten", r"init 'normal:ten' must be 'normal:s'"),
    ({"name": "normal"}, r"init \{'name': 'normal'\} needs \['scale'\], such as"),
    ({"name": "normal", "scale": 1.0, "mean": 0.0},
     r"unknown keys \['mean'\] in init .*: 'normal' takes only \['scale'\]"),
    ({"name": "he", "scale": 2.0},
     r"unknown keys \['scale'\] in init .*: 'he' takes no parameters"),
    ({"scale": 2.0}, r"needs 'name', one of \['he', 'normal', 'small', 'xavier', 'zeros'\]"),
    ({"name": "glorot"}, r"needs 'name', one of"),
    ({"name": ["he"]}, r"needs 'name', one of"),
])
def test_a_bad_scaled_normal_is_refused_naming_it(spec, match):
    with pytest.raises(ValueError, match=match):
        init_config(spec)
    with pytest.raises(ValueError, match=match):
        mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["tanh", "sigmoid"], init=spec)
    with pytest.raises(ValueError, match=r"scale must be a number in \(0, inf\)"):
        Normal(-1.0)


def test_a_scale_whose_weights_would_overflow_the_dtype_is_refused_before_the_draw():
    for dtype, largest in (("float32", np.finfo(np.float32).max / 16),
                           ("float64", np.finfo(np.float64).max / 16)):
        net = mllib.NeuralNetwork(nodes=[None, 100, 1], activators=["tanh", "sigmoid"],
                                  init={"name": "normal", "scale": largest}, dtype=dtype)
        net.build(100)
        assert np.isfinite(net.parameters()["W1"]).all()
    with pytest.raises(ValueError, match=r"init \{'name': 'normal', 'scale': 1e\+38\}: "
                                         r"randn · 1e\+38 would overflow float32; the scale "
                                         r"must be at most 2.1\d*e\+37"):
        mllib.NeuralNetwork(nodes=[None, 100, 1], activators=["tanh", "sigmoid"],
                            init="normal:1e38")


def test_the_config_is_a_copy_of_the_models_own():
    spec = {"name": "normal", "scale": 2.0}
    net = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["tanh", "sigmoid"], init=spec)
    spec["scale"] = 5.0
    net.get_config()["init"]["scale"] = 7.0
    assert net.get_config()["init"] == {"name": "normal", "scale": 2.0}


@pytest.mark.parametrize("spec", [{"name": "normal", "scale": 10.0}, "normal:10", Normal(10.0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_model_of_the_scaled_normal_saves_and_loads_to_the_same_bits(tmp_path, spec, dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    net = mllib.NeuralNetwork(nodes=[3, 5, 1], activators=["tanh", "sigmoid"], init=spec,
                              seed=2, dtype=dtype)
    W1 = (np.random.default_rng(2).standard_normal((5, 3)) * 10.0).astype(dtype)
    assert net.parameters()["W1"].tobytes() == W1.tobytes()      # drawn as randn · 10
    net.fit(X, y, optimizer="gd", learning_rate=0.01, epochs=3, batch_size=16)
    net.save(tmp_path / "m.npz")
    back = mllib.load(tmp_path / "m.npz")
    assert back.get_config()["init"] == {"name": "normal", "scale": 10.0}
    assert back.get_config() == net.get_config()
    assert back.predict_proba(X).tobytes() == net.predict_proba(X).tobytes()
    # and they train on alike
    net.fit(X, y, epochs=2)
    back.fit(X, y, epochs=2)
    for name, value in net.get_weights().items():
        assert back.get_weights()[name].tobytes() == value.tobytes(), name
