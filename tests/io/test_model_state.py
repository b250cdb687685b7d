"""A model saves itself: get_state/from_state, the class registry, and format-1 files."""

from pathlib import Path

import numpy as np
import pytest

import mllib
from mllib.io import ModelFileError, read_model_file, write_model_file

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels

DATA = Path(__file__).parent / "data"


def xor_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_get_state_and_from_state_round_trip_without_a_file():
    X, y = xor_data()
    net = mllib.NeuralNetwork(nodes=[None, 6, 1], activators=["tanh", "sigmoid"], seed=1)
    net.fit(X, y, epochs=3, batch_size=16)
    header, arrays = net.get_state()
    back = mllib.NeuralNetwork.from_state(header, arrays)
    assert back.get_config() == net.get_config() and back.epoch_ == 3 and back.fitted_
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))


def test_presets_keep_their_own_constructor_arguments(tmp_path):
    X, y = xor_data()
    model = mllib.LogisticRegression(lp_reg=2, lambda_=0.1, seed=3, standardize=True)
    model.fit(X, y, epochs=2)
    assert model.get_config() == {"lp_reg": 2, "lambda_": 0.1, "init": "zeros", "seed": 3,
                                  "dtype": "float32", "standardize": True}
    model.save(tmp_path / "m.npz")
    back = mllib.load(tmp_path / "m.npz")
    assert type(back) is mllib.LogisticRegression and back.get_config() == model.get_config()
    soft = mllib.SoftmaxRegression(n_classes=3)
    assert soft.get_config()["n_classes"] == 3


def test_a_callable_init_is_refused_at_save_time_and_nothing_is_written(tmp_path):
    def ones(shape, rng, dtype):
        return np.ones(shape, dtype=dtype)

    net = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["relu", "sigmoid"], init=ones)
    net.fit(*xor_data(), epochs=1)
    with pytest.raises(ValueError, match=r"init is the callable 'ones'.*named init"):
        net.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


class WideNetwork(mllib.NeuralNetwork):
    """A user's subclass: registered by defining it, rebuilt through its own constructor."""

    def __init__(self, width=5, seed=0):
        super().__init__(nodes=[None, width, 1], activators=["relu", "sigmoid"], seed=seed)
        self.width = width

    def get_config(self):
        return {"width": self.width, "seed": self.config["seed"]}


class NeuralNetwork(mllib.NeuralNetwork):
    """A user's class that shares the name of mllib's, without its own get_config."""

    def __init__(self, depth):
        super().__init__(nodes=[None] + [3] * depth + [1],
                         activators=["tanh"] * depth + ["sigmoid"])


def test_a_subclass_is_registered_and_comes_back_as_itself(tmp_path):
    net = WideNetwork(width=7, seed=2)
    net.fit(*xor_data(), epochs=1)
    net.save(tmp_path / "wide.npz")
    header, _ = read_model_file(tmp_path / "wide.npz")
    assert header["class"] == f"{__name__}.WideNetwork"
    back = mllib.load(tmp_path / "wide.npz")
    assert type(back) is WideNetwork and back.width == 7 and back.config["nodes"] == [2, 7, 1]
    np.testing.assert_array_equal(back.predict(xor_data()[0]), net.predict(xor_data()[0]))


def test_a_users_class_of_the_same_name_does_not_replace_mllibs(tmp_path):
    plain = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["relu", "sigmoid"])
    plain.fit(*xor_data(), epochs=1)
    plain.save(tmp_path / "plain.npz")
    assert type(mllib.load(tmp_path / "plain.npz")) is mllib.NeuralNetwork
    mine = NeuralNetwork(depth=2)
    mine.fit(*xor_data(), epochs=1)
    with pytest.raises(ValueError, match=r"get_config\(\) returns arguments its constructor "
                                         r"does not take.*override"):
        mine.save(tmp_path / "mine.npz")
    assert not (tmp_path / "mine.npz").exists()


def test_get_state_is_a_snapshot_that_later_training_does_not_change():
    X, y = xor_data()
    net = mllib.NeuralNetwork(nodes=[None, 4, 1], activators=["tanh", "sigmoid"], seed=1)
    net.fit(X, y, epochs=2)
    header, arrays = net.get_state()
    frozen = {k: v.copy() for k, v in arrays.items()}
    net.fit(X, y, epochs=2)
    assert all(np.array_equal(arrays[k], v) for k, v in frozen.items())
    assert mllib.NeuralNetwork.from_state(header, arrays).epoch_ == 2


def test_an_unknown_class_in_a_file_is_reported(tmp_path):
    net = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["relu", "sigmoid"])
    net.fit(*xor_data(), epochs=1)
    header, arrays = net.get_state()
    write_model_file(tmp_path / "m.npz", {"class": "Transformer", **header}, arrays)
    with pytest.raises(ModelFileError, match="unknown model class 'Transformer'"):
        mllib.load(tmp_path / "m.npz")


def test_optimizer_state_that_does_not_fit_the_weights_is_reported(tmp_path):
    net = mllib.NeuralNetwork(nodes=[2, 3, 1], activators=["relu", "sigmoid"])
    net.fit(*xor_data(), epochs=1)
    header, arrays = net.get_state()
    arrays["optimizer/m.W1"] = np.zeros((2, 2), dtype=np.float32)
    arrays["optimizer/v.W1"] = np.zeros((2, 2), dtype=np.float32)
    write_model_file(tmp_path / "m.npz", {"class": "NeuralNetwork", **header}, arrays)
    with pytest.raises(ModelFileError, match=r"damaged or inconsistent.*m\.\* holds"):
        mllib.load(tmp_path / "m.npz")


# -- files of format 1, written by mllib 0.1.0 before the parameter store ----------------
# tests/io/data/make_v1_files.py wrote them with the two releases of that version (v1a:
# the first, with Adam's m and v; v1: the second, with undamped sums), and recorded what
# the same model did in that release when trained on for two more epochs.

@pytest.mark.parametrize("name", ["v1_adam_network", "v1_logistic", "v1a_adam_network",
                                  "v1a_logistic"])
def test_a_format_1_file_loads_and_trains_on_as_it_did(name):
    header, _ = read_model_file(DATA / f"{name}.npz")
    assert header["version"] == 1
    model = mllib.load(DATA / f"{name}.npz")
    with np.load(DATA / f"{name}_expected.npz") as expected:
        X, y = expected["X"], expected["y"]
        # Batch norm now forms x̂ before scaling by γ, so the last bit may differ.
        np.testing.assert_allclose(model.predict_proba(X), expected["proba_at_load"], rtol=1e-13)
        model.fit(X, y, epochs=2, batch_size=16)
        # The same arithmetic up to rounding: format 1 kept Adam's sums undamped.
        for key, value in model.get_weights().items():
            np.testing.assert_allclose(value, expected[f"after/{key}"], rtol=1e-9, atol=1e-12,
                                       err_msg=key)
    assert model.epoch_ == header["epoch"] + 2


def test_a_model_travels_as_model_file_bytes_and_trains_on_to_the_same_bits():
    X, y = xor_data()
    net = mllib.NeuralNetwork(nodes=[None, 5, 1], activators=["relu", "sigmoid"],
                              keep_probs=[1, 0.8, 1], seed=4)
    net.fit(X, y, epochs=2, batch_size=16)
    data = mllib.io.dumps_model(net)
    assert data[:4] == b"PK\x03\x04" and b"pickle" not in data
    twin = mllib.io.loads_model(data)
    net.fit(X, y, epochs=2, batch_size=16)
    twin.fit(X, y, epochs=2, batch_size=16)
    assert all(np.array_equal(twin.get_weights()[k], v) for k, v in net.get_weights().items())
    with pytest.raises(ModelFileError, match="not an mllib model file"):
        mllib.io.loads_model(b"not a model")
