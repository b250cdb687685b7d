"""Finite in, finite out (issue 11): inputs a float32 model cannot hold, and divergence."""

import numpy as np
import pytest

import mllib

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 3))
Y = X @ np.array([1.0, 2.0, 3.0])


def regressor(**kwargs):
    return mllib.NeuralNetwork(nodes=[None, 16, 1], activators=["relu", "linear"], seed=0,
                               **kwargs)


def test_values_beyond_float32_are_refused_for_a_float32_model():
    huge = X.copy()
    huge[0, 0] = 1e300                         # finite in float64, infinite in float32
    model = mllib.LogisticRegression()
    with pytest.raises(ValueError, match=r"X has values as large as 1e\+300, beyond the "
                                         r"largest float32, 3\.4e\+38.*dtype='float64'"):
        model.fit(huge, Y > 0, epochs=1)
    assert not model.fitted_
    model.fit(X, Y > 0, epochs=1)
    with pytest.raises(ValueError, match=r"beyond the largest float32"):
        model.predict(huge)
    with pytest.raises(ValueError, match=r"X_dev has values as large as 1e\+300"):
        model.fit(X, Y > 0, epochs=1, validation_data=(huge, Y > 0))
    big = X.copy()
    big[0, 0] = 1e39                           # beyond float32, well within float64
    with pytest.raises(ValueError, match=r"beyond the largest float32"):
        mllib.LogisticRegression().fit(big, Y > 0, epochs=1)
    assert mllib.LogisticRegression(dtype="float64").fit(big, Y > 0, epochs=1)


def test_a_diverging_fit_raises_and_keeps_the_last_finite_step():
    model = regressor()
    snapshots = []
    keep = mllib.LambdaCallback(on_batch_end=lambda batch, logs: snapshots.append(
        (model.get_weights(), model.optimizer_.get_state())))
    # The cost is 9e32 after epoch 2, still finite, but the gradients' squared norm is not.
    with pytest.raises(mllib.DivergenceError, match=r"training diverged: the gradients' squared "
                       r"norm is not finite in the model's dtype at epoch 2, batch 1, with "
                       r"learning rate 1000;.*smaller learning rate"):
        model.fit(X * 100, Y * 100, optimizer="gd", learning_rate=1e3, epochs=5,
                  callbacks=[keep])
    weights, state = snapshots[-1]             # after the last step that was taken
    assert all(np.array_equal(model.get_weights()[k], v) for k, v in weights.items())
    assert all(np.array_equal(model.optimizer_.get_state()[k], v) for k, v in state.items())
    assert all(np.isfinite(v).all() for v in model.get_weights().values())
    assert model.epoch_ == 1 and len(model.history_.history["cost"]) == 1
    assert issubclass(mllib.DivergenceError, FloatingPointError)


def test_a_non_finite_gradient_is_caught_before_the_batch_norm_statistics_take_it():
    model = mllib.NeuralNetwork(nodes=[None, 8, 8, 1], activators=["relu", "relu", "linear"],
                                batch_norm=True, seed=1)
    with pytest.raises(mllib.DivergenceError):
        model.fit(X * 1e3, Y * 1e3, optimizer="gd", learning_rate=1e4, epochs=20, batch_size=16)
    assert all(np.isfinite(v).all() for v in model.get_weights().values())


def test_a_non_finite_cost_is_named():
    model = regressor(dtype="float64")
    with pytest.raises(mllib.DivergenceError, match=r"the cost is inf at epoch \d+, batch 1"):
        model.fit(X * 1e160, Y, optimizer="gd", learning_rate=0.01, epochs=2)


def test_terminate_on_nan_stops_quietly_instead():
    model = regressor()
    history = model.fit(X * 100, Y * 100, optimizer="gd", learning_rate=1e3, epochs=5,
                        callbacks=[mllib.TerminateOnNaN()])
    assert len(history.history["cost"]) == model.epoch_ == 1
    assert all(np.isfinite(v).all() for v in model.get_weights().values())


def test_a_search_records_divergence_as_a_failed_trial():
    from mllib.tune import grid_search

    result = grid_search({"learning_rate": [1e3]}, (X * 100, Y * 100), (X, Y),
                         settings={"optimizer": "gd", "hidden": [16], "activation": "relu",
                                   "epochs": 5, "batch_size": None})
    row = result.trials[0]
    assert row["status"] == "failed" and row["error"].startswith("diverged: training diverged")


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_label_is_not_a_class(bad):
    labels = np.array([0.0, 1.0, 2.0] * 20 + [bad] * 4)
    features = RNG.normal(size=(64, 3))
    model = mllib.SoftmaxRegression()
    with pytest.raises(ValueError, match=r"y contains NaN or infinite values, which are not "
                                         r"class labels"):
        model.fit(features, labels, epochs=1)
    assert not model.fitted_


def test_inspecting_a_model_changes_nothing_that_fit_draws():
    def model():
        return mllib.NeuralNetwork(nodes=[None, 8, 1], activators=["relu", "sigmoid"],
                                   keep_probs=[0.9, 0.5, 1], seed=3)

    labels = (X[:, 0] > 0).astype(int)
    plain, inspected = model(), model()
    inspected.cost(X, labels)
    inspected.gradients(X, labels)
    plain.fit(X, labels, epochs=3, batch_size=16)
    inspected.fit(X, labels, epochs=3, batch_size=16)
    for name, value in plain.get_weights().items():
        np.testing.assert_array_equal(inspected.get_weights()[name], value)
