import json
import zipfile

import numpy as np
import pytest

import mllib
from mllib.io import ModelFileError, read_model_file, write_model_file


def trained(tmp_path, **kwargs):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    y = np.array(["cat", "dog", "eel"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    net = mllib.NeuralNetwork(nodes=[4, 5, 3], activators=["leaky_relu", "softmax"],
                              batch_norm=True, keep_probs=[0.9, 0.8, 1.0], standardize=True,
                              lp_reg=1, lambda_=0.01, seed=4, **kwargs)
    net.fit(X, y, epochs=3, batch_size=16, optimizer="rmsprop", lr_decay="exponential:0.9")
    path = tmp_path / "model.npz"
    net.save(path)
    return net, path, X, y


def test_round_trip_keeps_everything(tmp_path):
    net, path, X, y = trained(tmp_path)
    back = mllib.load(path)
    np.testing.assert_array_equal(back.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), net.predict(X))
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(back.get_weights()[name], value)
        assert back.get_weights()[name].dtype == value.dtype
    assert back.epoch_ == 3
    assert back.optimizer_.get_config() == net.optimizer_.get_config()
    for name, value in net.optimizer_.get_state().items():
        np.testing.assert_array_equal(back.optimizer_.get_state()[name], value)
    assert back.rng_.bit_generator.state == net.rng_.bit_generator.state
    np.testing.assert_array_equal(back.standardizer_.mean_, net.standardizer_.mean_)
    assert list(back.targets_.classes.classes_) == ["cat", "dog", "eel"]


def test_presets_come_back_as_their_class(tmp_path):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
    model = mllib.SoftmaxRegression(seed=0)
    model.fit(X, ["a", "b", "c", "a"], epochs=2)
    model.save(tmp_path / "soft.npz")
    back = mllib.load(tmp_path / "soft.npz")
    assert type(back) is mllib.SoftmaxRegression
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


def test_a_model_saved_before_any_fit_comes_back_unfitted(tmp_path):
    X, y = np.eye(3), np.array([0, 1, 1])
    net = mllib.NeuralNetwork(nodes=[3, 2, 1], activators=["tanh", "sigmoid"], seed=0)
    net.cost(X, y)  # builds the layers without fitting
    net.save(tmp_path / "unfitted.npz")
    back = mllib.load(tmp_path / "unfitted.npz")
    assert back.fitted_ is False
    with pytest.raises(RuntimeError, match="not fitted yet"):
        back.predict(X)
    np.testing.assert_array_equal(back.get_weights()["W1"], net.get_weights()["W1"])
    back.fit(X, y, epochs=1)
    assert back.fitted_


def test_a_file_without_the_fitted_field_loads_as_fitted(tmp_path):
    # Files from before the field existed always loaded as fitted; they still do.
    net, path, X, _ = trained(tmp_path)
    header, arrays = read_model_file(path)
    del header["fitted"]
    write_model_file(path, header, arrays)
    np.testing.assert_array_equal(mllib.load(path).predict(X), net.predict(X))


def test_file_is_readable_without_pickle(tmp_path):
    _, path, _, _ = trained(tmp_path)
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["__header__"].tobytes())
        assert header["format"] == "mllib-model" and header["version"] == 2
        assert all(archive[name].dtype != object for name in archive.files)


def test_not_a_model_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not an .npz archive"):
        mllib.load(text)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.arange(3))
    with pytest.raises(ModelFileError, match="no header"):
        mllib.load(plain)
    single = tmp_path / "single.npy"
    np.save(single, np.arange(3))
    with pytest.raises(ModelFileError, match="single .npy"):
        mllib.load(single)
    assert issubclass(ModelFileError, ValueError)


def test_saved_file_has_the_usual_permissions(tmp_path):
    import os

    _, path, _, _ = trained(tmp_path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_gradcheck_holds_masks_on_a_network_built_from_the_data():
    from mllib.gradcheck import check_gradients

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 3)), rng.integers(0, 2, 12)
    net = mllib.NeuralNetwork(nodes=[None, 4, 1], activators=["tanh", "sigmoid"],
                              keep_probs=[0.8, 0.7, 1.0], dtype="float64")
    assert max(check_gradients(net, X, y).values()) < 1e-7


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        mllib.load(tmp_path / "missing.npz")


def test_truncated_file_is_reported_as_damaged(tmp_path):
    _, path, _, _ = trained(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        mllib.load(path)


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "future.npz"
    write_model_file(path, {"version": 99}, {"params/W1": np.zeros((1, 1))})
    with pytest.raises(ModelFileError, match="version 99"):
        read_model_file(path)


def test_missing_weights_are_reported(tmp_path):
    _, path, _, _ = trained(tmp_path)
    header, arrays = read_model_file(path)
    del arrays["params/W2"]
    broken = tmp_path / "broken.npz"
    write_model_file(broken, header, arrays)
    with pytest.raises(ModelFileError, match="W2"):
        mllib.load(broken)


def test_object_arrays_are_never_written(tmp_path):
    with pytest.raises(ValueError, match="object"):
        write_model_file(tmp_path / "x.npz", {}, {"bad": np.array([{"a": 1}], dtype=object)})
    assert not (tmp_path / "x.npz").exists()


def test_an_archive_holding_a_pickled_array_is_refused(tmp_path):
    _, path, _, _ = trained(tmp_path)
    with zipfile.ZipFile(path, "a") as archive:
        with archive.open("evil.npy", "w") as handle:
            np.lib.format.write_array(handle, np.array([object()], dtype=object),
                                      allow_pickle=True)
    with pytest.raises(ModelFileError):
        mllib.load(path)
