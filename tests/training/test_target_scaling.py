"""``NeuralNetwork(standardize_target=True)``: regression on (y − μ)/σ, answers in y's units."""

from __future__ import annotations

import numpy as np
import pytest

import mllib
from mllib.training.model.state import model_file_limits


def _data(n=200, seed=0, scale=800.0, offset=4000.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = offset + scale * (X[:, 0] - 0.5 * X[:, 1] ** 2)
    return X, y


def _net(**kw):
    return mllib.NeuralNetwork(nodes=[3, 6, 1], activators=["tanh", "linear"], seed=2,
                               dtype="float64", **kw)


def test_the_fit_is_the_fit_on_standardized_targets():
    X, y = _data()
    scaled, by_hand = _net(standardize_target=True), _net()
    h1 = scaled.fit(X, y, epochs=4, batch_size=32, validation_split=0.25)
    h2 = by_hand.fit(X, (y - scaled.target_scaler_.mean_[0]) / scaled.target_scaler_.scale_[0],
                     epochs=4, batch_size=32, validation_split=0.25)
    # μ and σ come from the training rows only (the first 150), not the dev rows.
    assert scaled.target_scaler_.mean_[0] == pytest.approx(y[:150].mean(), rel=1e-14)
    assert scaled.target_scaler_.scale_[0] == pytest.approx(y[:150].std(), rel=1e-12)
    assert scaled.target_scaler_.mean_[0] != pytest.approx(y.mean(), rel=1e-6)
    for key in ("cost", "r2", "val_cost", "val_r2"):
        np.testing.assert_allclose(h1.history[key], h2.history[key], rtol=1e-12)
    a = by_hand.predict(X)
    mu, sigma = scaled.target_scaler_.mean_[0], scaled.target_scaler_.scale_[0]
    np.testing.assert_allclose(scaled.predict(X), sigma * a + mu, rtol=1e-12)
    np.testing.assert_allclose(scaled.forward(X)[:, 0], a, rtol=1e-12)


def test_evaluate_cost_is_standardized_and_r2_unit_free():
    from sklearn.metrics import r2_score
    X, y = _data(seed=1)
    net = _net(standardize_target=True)
    history = net.fit(X, y, epochs=30, batch_size=32, validation_data=(X[:50], y[:50]))
    got = net.evaluate(X[:50], y[:50])
    assert got["cost"] == history.history["val_cost"][-1]
    sigma = net.target_scaler_.scale_[0]
    r = (net.predict(X[:50]) - y[:50]) / sigma
    assert got["cost"] == pytest.approx(0.5 * np.mean(r ** 2), rel=1e-10)
    assert got["r2"] == pytest.approx(r2_score(y[:50], net.predict(X[:50])), rel=1e-10)
    assert net.cost(X[:50], y[:50], training=False) == pytest.approx(got["cost"], rel=1e-12)


def test_grams_train_as_well_as_kilograms():
    X, y = _data(n=300, seed=2)
    plain, scaled = _net(), _net(standardize_target=True)
    plain.fit(X, y, epochs=40, batch_size=32, learning_rate=0.01)
    scaled.fit(X, y, epochs=40, batch_size=32, learning_rate=0.01)
    # The same 40 epochs reach R² ≈ 0.98 on (y − μ)/σ and stay below 0 on grams.
    assert scaled.evaluate(X, y)["r2"] > 0.9
    assert plain.evaluate(X, y)["r2"] < 0


def test_multi_output_targets_get_a_mean_and_scale_each():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 3))
    Y = np.c_[1000 + 300 * X[:, 0], -0.01 * X[:, 1], np.full(80, 7.0)]
    net = mllib.NeuralNetwork(nodes=[3, 5, 3], activators=["relu", "linear"],
                              standardize_target=True, dtype="float64")
    net.fit(X, Y, epochs=2)
    np.testing.assert_allclose(net.target_scaler_.mean_, Y.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(net.target_scaler_.scale_, [Y[:, 0].std(), Y[:, 1].std(), 1.0],
                               rtol=1e-12)
    assert net.predict(X).shape == (80, 3)


def test_a_second_fit_keeps_the_first_statistics():
    X, y = _data()
    net = _net(standardize_target=True)
    net.fit(X, y, epochs=1)
    mean, scale = net.target_scaler_.mean_.copy(), net.target_scaler_.scale_.copy()
    net.fit(X, 2 * y, epochs=1)
    assert np.array_equal(net.target_scaler_.mean_, mean)
    assert np.array_equal(net.target_scaler_.scale_, scale)


@pytest.mark.parametrize("output, width", [("sigmoid", 1), ("softmax", 3)])
def test_classifiers_refuse_it(output, width):
    with pytest.raises(ValueError, match=f"standardize_target=True is for regression.*{output}"):
        mllib.NeuralNetwork(nodes=[3, width], activators=[output], standardize_target=True)
    with pytest.raises(ValueError, match="standardize_target must be True or False, got 'yes'"):
        _net(standardize_target="yes")


def test_saved_and_loaded(tmp_path):
    X, y = _data()
    net = mllib.NeuralNetwork(nodes=[3, 6, 1], activators=["tanh", "linear"],
                              standardize_target=True)
    net.fit(X, y, epochs=2)
    header, arrays = net.get_state()
    assert header["config"]["standardize_target"] is True
    assert header["has_target_standardizer"] is True
    assert set(k for k in arrays if k.startswith("target_standardizer/")) == {
        "target_standardizer/mean", "target_standardizer/scale"}
    net.save(tmp_path / "m.npz")
    back = mllib.load(tmp_path / "m.npz")
    assert back.standardize_target
    assert np.array_equal(back.predict(X), net.predict(X))
    assert back.evaluate(X, y) == net.evaluate(X, y)


def test_files_without_it_still_load():
    X, y = _data()
    net = _net()
    net.fit(X, y, epochs=1)
    header, arrays = net.get_state()
    del header["has_target_standardizer"], header["config"]["standardize_target"]
    back = mllib.NeuralNetwork.from_state(header, arrays)
    assert back.target_scaler_ is None and not back.standardize_target
    assert np.array_equal(back.predict(X), net.predict(X))


def test_inconsistent_files_are_refused():
    X, y = _data()
    net = _net(standardize_target=True)
    net.fit(X, y, epochs=1)
    header, arrays = net.get_state()
    short = {**arrays, "target_standardizer/mean": np.zeros(2),
             "target_standardizer/scale": np.ones(2)}
    with pytest.raises(ValueError, match="target standardizer has 2 columns for 1 outputs"):
        mllib.NeuralNetwork.from_state(header, short)
    off = {**header, "config": {**header["config"], "standardize_target": False}}
    with pytest.raises(ValueError, match="standardize_target=False"):
        mllib.NeuralNetwork.from_state(off, arrays)
    zero = {**arrays, "target_standardizer/scale": np.zeros(1)}
    with pytest.raises(ValueError, match="positive scale"):
        mllib.NeuralNetwork.from_state(header, zero)
    with pytest.raises(ValueError, match="has_target_standardizer"):
        mllib.NeuralNetwork.from_state({**header, "has_target_standardizer": 1}, arrays)


def test_the_file_budget_counts_the_target_standardizer():
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(20, 3)), 100 * rng.normal(size=(20, 50))
    limits = []
    for flag in (False, True):
        net = mllib.NeuralNetwork(nodes=[3, 4, 50], activators=["relu", "linear"],
                                  standardize_target=flag)
        net.fit(X, Y, epochs=1)
        header, arrays = net.get_state()
        limits.append(model_file_limits(mllib.NeuralNetwork, header, max_parameters=10**6))
    # 2 × 50 float64 more, and two more members with their .npy headers.
    assert limits[1].total - limits[0].total >= 2 * 50 * 8
    assert limits[1].members == limits[0].members
    assert limits[1].member >= 50 * 8
    assert sum(a.nbytes for k, a in arrays.items() if k.startswith("target_")) == 2 * 50 * 8
