"""Settings: resolving a dict of them, and fit(settings, train) as a trial runs it."""

import numpy as np
import pytest

import mllib
from mllib.datasets import make_flower
from mllib.settings import choose_output, defaults, fit, resolve


def test_resolve_parses_text_and_json_values_and_fills_defaults():
    s = resolve({"learning-rate": "0.1", "hidden": "8,4", "lambda_": 0.5, "batch_size": None})
    assert s["learning_rate"] == 0.1 and s["hidden"] == [8, 4] and s["lambda"] == 0.5
    assert s["batch_size"] is None                    # None is full batch for batch_size
    assert resolve({"epochs": None})["epochs"] == defaults()["epochs"] == 500
    assert resolve({"nodes": [2, 3, 1]})["hidden"] is None


@pytest.mark.parametrize("settings, match", [
    ({"learning_rat": 0.1}, r"unknown setting 'learning_rat'; the settings are: hidden, "),
    ({"learning_rate": -1}, r"learning_rate: expected a number > 0, got -1"),
    ({"hidden": [4], "nodes": [2, 4, 1]}, r"give hidden or nodes, not both"),
    ({"optimizer": "gd", "beta1": 0.9}, r"beta1=0\.9 is not a setting of optimizer 'gd'"),
    ({"optimizer": "momentum", "beta2": 0.99}, r"beta2=0\.99 is not a setting of optimizer "
                                               r"'momentum'; it takes \['beta1', 'nesterov'\]"),
    ({"lp_reg": 3}, r"lp_reg: expected 0, 1 or 2, got 3"),
])
def test_bad_settings_are_refused_naming_the_key(settings, match):
    with pytest.raises(ValueError, match=match):
        resolve(settings)


def test_fit_builds_the_network_the_settings_describe():
    X, y = make_flower(200, seed=0)
    settings = {"hidden": [6], "activation": "relu", "epochs": 4, "batch_size": 32,
                "learning_rate": 0.02, "lambda": 0.1, "optimizer": "momentum", "beta1": 0.8}
    model = fit(settings, (X, y), seed=5)
    by_hand = mllib.NeuralNetwork(nodes=[None, 6, 1], activators=["relu", "sigmoid"], init="he",
                                  lp_reg=2, lambda_=0.1, seed=5, standardize=True)
    by_hand.fit(X, y, optimizer={"name": "momentum", "beta1": 0.8}, learning_rate=0.02,
                epochs=4, batch_size=32)
    for name, value in by_hand.get_weights().items():
        np.testing.assert_array_equal(model.get_weights()[name], value, err_msg=name)
    assert model.history_.history["cost"] == by_hand.history_.history["cost"]


def test_fit_is_a_pure_function_of_settings_seed_and_data():
    X, y = make_flower(120, seed=2)
    a = fit({"hidden": [3], "epochs": 3}, (X, y), seed=1)
    b = fit({"hidden": [3], "epochs": 3}, (X, y), seed=1)
    c = fit({"hidden": [3], "epochs": 3}, (X, y), seed=2)
    assert all(np.array_equal(a.get_weights()[k], v) for k, v in b.get_weights().items())
    assert not np.array_equal(a.get_weights()["W1"], c.get_weights()["W1"])


def test_fit_chooses_the_output_from_the_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    assert fit({"hidden": [], "epochs": 1}, (X, X[:, 0] > 0)).output_kind == "sigmoid"
    assert fit({"hidden": [], "epochs": 1}, (X, np.arange(30) % 3)).output_kind == "softmax"
    assert fit({"hidden": [], "epochs": 1}, (X, X[:, 0] * 2.0)).output_kind == "linear"


def test_early_stopping_needs_validation_data():
    X, y = make_flower(60, seed=0)
    with pytest.raises(ValueError, match="early_stopping needs validation data"):
        fit({"early_stopping": 3, "epochs": 2}, (X, y))
    # A rate this large makes the dev cost rise within a few epochs, and training stops there.
    model = fit({"early_stopping": 1, "epochs": 50, "learning_rate": 50.0, "optimizer": "gd"},
                (X, y), validation=(X, y))
    costs = model.history_.history["val_cost"]
    assert model.epoch_ == len(costs) < 50 and costs[-1] > costs[-2]


def test_a_regression_standardizes_its_target_by_default_and_answers_in_its_units():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 2))
    y = 4000.0 + 700.0 * X[:, 0]            # grams, say
    model = fit({"hidden": [], "epochs": 1}, (X, y))
    assert model.standardize_target
    assert model.target_scaler_.mean_[0] == pytest.approx(y.mean(), rel=1e-6)   # float32
    assert model.target_scaler_.scale_[0] == pytest.approx(y.std(), rel=1e-6)
    assert abs(model.predict(X).mean() - 4000.0) < 1000.0
    plain = fit({"hidden": [], "epochs": 1, "standardize_target": False}, (X, y))
    assert not plain.standardize_target and plain.target_scaler_ is None
    assert abs(plain.predict(X).mean()) < 100.0


def test_a_classifier_ignores_standardize_target():
    X, y = make_flower(60, seed=0)
    model = fit({"hidden": [], "epochs": 1, "standardize_target": True}, (X, y))
    assert model.output_kind == "sigmoid" and not model.standardize_target
    assert model.target_scaler_ is None


def test_nesterov_is_a_setting_of_momentum_that_reaches_its_optimizer():
    X, y = make_flower(120, seed=2)
    common = {"hidden": [3], "epochs": 3, "optimizer": "momentum", "learning_rate": 0.1}
    plain = fit(common, (X, y), seed=1)
    ahead = fit({**common, "nesterov": "yes"}, (X, y), seed=1)
    assert plain.optimizer_.get_config()["nesterov"] is False
    assert ahead.optimizer_.get_config()["nesterov"] is True
    by_hand = mllib.NeuralNetwork(nodes=[None, 3, 1], activators=["tanh", "sigmoid"],
                                  init="xavier", lp_reg=2, seed=1, standardize=True)
    by_hand.fit(X, y, optimizer={"name": "momentum", "nesterov": True}, learning_rate=0.1,
                epochs=3, batch_size=64)
    for name, value in by_hand.get_weights().items():
        np.testing.assert_array_equal(ahead.get_weights()[name], value, err_msg=name)
    assert not np.array_equal(plain.get_weights()["W1"], ahead.get_weights()["W1"])
    with pytest.raises(ValueError, match=r"nesterov=True is not a setting of optimizer 'adam'"):
        resolve({"nesterov": True})


@pytest.mark.parametrize("requested, y, message", [
    ("linear", np.array(["a", "b"]), r"a linear output needs a numeric target"),
    ("sigmoid", np.array([0, 1, 2]), r"a sigmoid output takes 2 classes, but the target has 3"),
    ("auto", np.array([1, 1, 1]), r"the target has a single class \(np.int64\(1\)\)"),
])
def test_an_output_the_labels_cannot_have_is_refused(requested, y, message):
    with pytest.raises(ValueError, match=message):
        choose_output(requested, y)


def test_the_output_follows_the_labels_or_what_the_caller_knows_of_them():
    assert choose_output("auto", np.array([0.5, 1.5])) == "linear"
    assert choose_output("auto", np.array([0, 1, 1])) == "sigmoid"
    assert choose_output("auto", np.array(["a", "b", "c"])) == "softmax"
    assert choose_output("auto", np.array([1.0, 2.0, 1.0]), classification=True) == "sigmoid"
    assert choose_output("softmax", np.array([0, 1])) == "softmax"


def test_every_init_of_the_network_is_a_setting_and_reaches_the_model_file(tmp_path):
    X, y = make_flower(60, seed=1)
    for given, kept in [("zeros", "zeros"), ("normal:10", {"name": "normal", "scale": 10.0}),
                        ({"name": "normal", "scale": 0.5}, {"name": "normal", "scale": 0.5}),
                        ("auto", "xavier")]:
        model = fit({"init": given, "hidden": [3], "epochs": 1}, (X, y))
        assert model.get_config()["init"] == kept
        model.save(tmp_path / "m.npz")
        assert mllib.load(tmp_path / "m.npz").get_config()["init"] == kept
    with pytest.raises(ValueError, match=r"init: .*scale"):
        resolve({"init": "normal:0"})
    with pytest.raises(ValueError, match=r"init: expected auto, he, xavier"):
        resolve({"init": 3})
