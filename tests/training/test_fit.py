import numpy as np
import pytest

import mllib
from mllib.datasets import make_flower, make_moons


def small_problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")
    return X, y


def make_net(**kwargs):
    options = dict(nodes=[3, 6, 5, 1], activators=["relu", "tanh", "sigmoid"],
                   keep_probs=[1.0, 0.8, 0.9, 1.0], batch_norm=[False, True, False, False],
                   seed=7, dtype="float64")
    options.update(kwargs)
    return mllib.NeuralNetwork(**options)


FIT = dict(optimizer="adam", learning_rate=0.01, batch_size=16, lr_decay="rational:0.5")


@pytest.mark.same_bits
def test_same_seed_gives_the_same_bits():
    X, y = small_problem()
    a, b = make_net(), make_net()
    ha = a.fit(X, y, epochs=4, **FIT)
    hb = b.fit(X, y, epochs=4, **FIT)
    for name, value in a.get_weights().items():
        np.testing.assert_array_equal(value, b.get_weights()[name])
    assert ha.history == hb.history | {"time": ha.history["time"]}
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_another_seed_gives_other_weights():
    X, y = small_problem()
    a, b = make_net(seed=1), make_net(seed=2)
    a.fit(X, y, epochs=2, **FIT)
    b.fit(X, y, epochs=2, **FIT)
    assert not np.array_equal(a.parameters()["W1"], b.parameters()["W1"])


def test_fit_twice_continues_the_run_to_the_bit():
    X, y = small_problem()
    once, twice = make_net(), make_net()
    once.fit(X, y, epochs=6, **FIT)
    twice.fit(X, y, epochs=3, **FIT)
    twice.fit(X, y, epochs=3, **FIT)
    assert twice.epoch_ == once.epoch_ == 6
    for name, value in once.get_weights().items():
        np.testing.assert_array_equal(value, twice.get_weights()[name], err_msg=name)


def test_fit_save_load_fit_continues_to_the_bit(tmp_path):
    X, y = small_problem()
    once, first = make_net(standardize=True), make_net(standardize=True)
    once.fit(X, y, epochs=6, **FIT)
    first.fit(X, y, epochs=3, **FIT)
    first.save(tmp_path / "model.npz")
    second = mllib.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(second.predict_proba(X), first.predict_proba(X))
    second.fit(X, y, epochs=3, **FIT)
    for name, value in once.get_weights().items():
        np.testing.assert_array_equal(value, second.get_weights()[name], err_msg=name)
    np.testing.assert_array_equal(second.predict(X), once.predict(X))


def test_string_labels_are_decoded_on_predict():
    X, y = small_problem()
    net = make_net(keep_probs=None, batch_norm=None)
    net.fit(X, y, epochs=200, optimizer="adam", learning_rate=0.02)
    predicted = net.predict(X)
    assert set(predicted) <= {"yes", "no"}
    assert np.mean(predicted == y) > 0.95


def test_softmax_labels_of_any_kind_round_trip():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 2))
    names = np.array(["setosa", "versicolor", "virginica"])
    codes = (X[:, 0] > 0.4).astype(int) + (X[:, 0] > -0.4).astype(int)
    y = names[codes]
    net = mllib.NeuralNetwork(nodes=[2, 8, None], activators=["tanh", "softmax"], seed=0)
    net.fit(X, y, epochs=300, learning_rate=0.05)
    assert net.config["nodes"][-1] == 3
    assert np.mean(net.predict(X) == y) > 0.9
    np.testing.assert_allclose(net.predict_proba(X).sum(axis=1), 1.0, rtol=1e-6)


def test_history_has_train_and_validation_metrics():
    X, y = small_problem(100)
    net = make_net()
    history = net.fit(X, y, epochs=5, validation_split=0.2, **FIT)
    for key in ("cost", "accuracy", "val_cost", "val_accuracy", "lr", "time"):
        assert len(history.history[key]) == 5, key
    assert history.epoch == [0, 1, 2, 3, 4]
    # rational decay: α(e) = 0.01 / (1 + 0.5 e)
    np.testing.assert_allclose(history.history["lr"], [0.01 / (1 + 0.5 * e) for e in range(5)])
    # The dev logs are the inference-mode evaluation of the last 20 rows.
    assert history.history["val_cost"][-1] == pytest.approx(net.evaluate(X[80:], y[80:])["cost"])


def test_regression_reports_r2():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = 3 * X[:, 0] - X[:, 1] + 0.5
    net = mllib.NeuralNetwork(nodes=[2, 1], activators=["linear"], dtype="float64")
    history = net.fit(X, y, epochs=200, optimizer="gd", learning_rate=0.1)
    assert history.history["r2"][-1] > 0.999
    np.testing.assert_allclose(net.parameters()["W1"], [[3.0, -1.0]], atol=1e-3)
    assert net.evaluate(X, y)["r2"] == pytest.approx(1.0, abs=1e-5)


def test_early_stopping_restores_the_best_weights():
    X, y = small_problem(100)
    net = make_net()
    seen = []
    record = mllib.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((logs["val_cost"], net.get_weights())))
    stop = mllib.EarlyStopping(monitor="val_cost", patience=2, restore_best_weights=True)
    net.fit(X, y, epochs=300, validation_split=0.3, callbacks=[record, stop],
            optimizer="adam", learning_rate=0.2, batch_size=8)
    assert stop.stopped_epoch is not None and len(seen) < 300
    costs = [c for c, _ in seen]
    best = int(np.argmin(costs))
    assert stop.best_epoch == best
    assert len(seen) == best + 1 + 3  # patience 2: the third worse epoch stops
    for name, value in seen[best][1].items():
        np.testing.assert_array_equal(net.get_weights()[name], value)


def test_early_stopping_rejects_a_metric_that_is_not_logged():
    X, y = small_problem()
    net = make_net()
    before = net.get_weights()
    with pytest.raises(ValueError, match="val_cost"):
        net.fit(X, y, epochs=3, callbacks=[mllib.EarlyStopping()])
    for name, value in before.items():
        np.testing.assert_array_equal(net.get_weights()[name], value)


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=-1), "epochs"),
    (dict(batch_size=0), "batch_size"),
    (dict(validation_split=1.0), "validation_split"),
    (dict(learning_rate=-0.1), "learning_rate"),
    (dict(optimizer="adagrad"), "adagrad"),
    (dict(lr_decay="cosine:1"), "cosine"),
    (dict(verbose=3), "verbose"),
])
def test_bad_fit_arguments_raise_and_change_nothing(kwargs, match):
    X, y = small_problem()
    net = make_net()
    before = net.get_weights()
    with pytest.raises(ValueError, match=match):
        net.fit(X, y, **kwargs)
    assert net.epoch_ == 0 and net.optimizer_ is None
    for name, value in before.items():
        np.testing.assert_array_equal(net.get_weights()[name], value)


def test_bad_data_raises_before_training():
    X, y = small_problem()
    net = make_net()
    X_bad = X.copy()
    X_bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        net.fit(X_bad, y, epochs=1)
    with pytest.raises(ValueError, match="rows"):
        net.fit(X, y[:-1], epochs=1)
    with pytest.raises(ValueError, match="features"):
        net.fit(X[:, :2], y, epochs=1)
    assert net.epoch_ == 0


def test_memmap_input_trains_batch_by_batch(tmp_path):
    X, y = small_problem(96)
    mapped = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64,
                                       shape=X.shape)
    mapped[:] = X
    in_memory, from_disk = make_net(), make_net()
    in_memory.fit(X, y, epochs=2, **FIT)
    from_disk.fit(mapped, y, epochs=2, **FIT)
    for name, value in in_memory.get_weights().items():
        np.testing.assert_array_equal(value, from_disk.get_weights()[name])


def test_augment_hook_sees_every_batch():
    X, y = small_problem(40)
    sizes = []

    def augment(batch, rng):
        sizes.append(batch.shape[0])
        return batch + rng.normal(scale=0.01, size=batch.shape)

    make_net().fit(X, y, epochs=2, batch_size=16, augment=augment)
    assert sizes == [16, 16, 8, 16, 16, 8]


def test_summary_counts_parameters(capsys):
    net = make_net()
    text = net.summary()
    # W1 3·6; BN γ, β 6+6 (no b1); W2, b2 6·5+5; W3, b3 5+1. Running stats 12.
    assert "Trainable params: 71" in text  # 18 + 12 + 35 + 6
    assert "Non-trainable params: 12" in text
    assert text in capsys.readouterr().out


def test_flower_needs_a_hidden_layer():
    # Notes' course result: logistic regression < 60%, 4 tanh units ≥ 88%.
    X, y = make_flower(400, seed=1)
    logistic = mllib.LogisticRegression(dtype="float64")
    logistic.fit(X, y, epochs=2000, optimizer="gd", learning_rate=1.0)
    assert logistic.evaluate(X, y)["accuracy"] < 0.6
    net = mllib.NeuralNetwork(nodes=[2, 4, 1], activators=["tanh", "sigmoid"],
                              init="xavier", seed=2, dtype="float64")
    net.fit(X, y, epochs=5000, optimizer="gd", learning_rate=1.2)
    assert net.evaluate(X, y)["accuracy"] >= 0.88


def test_moons_adam_beats_gradient_descent():
    # Notes §7: with the same epochs and learning rate, Adam converges where
    # plain mini-batch gradient descent crawls. Three seeds, so that no single
    # lucky initialization carries the claim.
    X, y = make_moons(300, noise=0.2, seed=0)
    scores = {"adam": [], "gd": []}
    for optimizer in scores:
        for seed in (0, 1, 2):
            net = mllib.NeuralNetwork(nodes=[2, 5, 2, 1], activators=["relu", "relu", "sigmoid"],
                                      seed=seed)
            net.fit(X, y, epochs=300, batch_size=64, optimizer=optimizer, learning_rate=0.01)
            scores[optimizer].append(net.evaluate(X, y)["accuracy"])
    assert min(scores["adam"]) >= 0.90
    assert np.mean(scores["gd"]) < np.mean(scores["adam"]) - 0.05
