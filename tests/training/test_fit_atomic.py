"""A fit that raises leaves the model as it was; optimizers are never shared by accident."""

import numpy as np
import pytest

import mllib
from mllib.optim import Adam, GradientDescent


def data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, np.where(X[:, 0] - X[:, 2] > 0, "yes", "no")


def classifier(seed=0):
    return mllib.NeuralNetwork(nodes=[None, 4, None], activators=["tanh", "softmax"],
                               standardize=True, seed=seed, dtype="float64")


def snapshot(net):
    """What a failed fit must not change."""
    classes = net.targets_.classes
    return {
        "targets": net.targets_,
        "classes": None if classes is None else classes.classes_.tolist(),
        "standardizer": net.standardizer_,
        "optimizer": net.optimizer_,
        "optimizer_state": None if net.optimizer_ is None else net.optimizer_.get_state(),
        "epoch": net.epoch_, "fitted": net.fitted_, "nodes": list(net.config["nodes"]),
        "weights": net.get_weights() if net.built else None,
        "rng": net.rng_.bit_generator.state,
    }


def assert_unchanged(net, before):
    after = snapshot(net)
    for key in ("targets", "standardizer", "optimizer"):
        assert after[key] is before[key], key
    for key in ("classes", "epoch", "fitted", "nodes", "rng"):
        assert after[key] == before[key], key
    for group in ("optimizer_state", "weights"):
        assert (after[group] is None) == (before[group] is None), group
        for name, value in (before[group] or {}).items():
            np.testing.assert_array_equal(after[group][name], value, err_msg=f"{group} {name}")


def failing_calls(X, y):
    """(fit kwargs, error pattern): each must fail before the model changes."""
    return [
        (dict(X=X, y=y, validation_data=(X[:5, :2], y[:5])), "X_dev has 2 features"),
        (dict(X=X, y=y, validation_data=(X[:5], y[:3])), r"X_dev has 5 rows but y_dev"),
        (dict(X=X, y=y, validation_data=(X[:5], np.array(["maybe"] * 5))), "y_dev.*maybe"),
        (dict(X=X, y=y, callbacks=[mllib.EarlyStopping()]), "val_cost"),
        (dict(X=X, y=y, optimizer="gd", callbacks=[mllib.EarlyStopping(monitor="loss")]),
         "loss"),
        (dict(X=X, y=np.full(len(X), "yes")), "only one class"),
    ]


@pytest.mark.parametrize("case", range(6))
def test_a_failed_first_fit_changes_nothing(case):
    X, y = data()
    net = classifier()
    before = snapshot(net)
    kwargs, match = failing_calls(X, y)[case]
    with pytest.raises(ValueError, match=match):
        net.fit(epochs=2, **kwargs)
    assert_unchanged(net, before)
    assert not net.built


@pytest.mark.parametrize("case", range(5))
def test_a_failed_second_fit_changes_nothing(case):
    X, y = data()
    net = classifier()
    net.fit(X, y, epochs=2, batch_size=16)
    before = snapshot(net)
    kwargs, match = failing_calls(X, y)[case]
    with pytest.raises(ValueError, match=match):
        net.fit(epochs=2, **kwargs)
    assert_unchanged(net, before)


def test_regression_dev_targets_must_match_the_dev_rows():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 2))
    net = mllib.NeuralNetwork(nodes=[None, 1], activators=["linear"], dtype="float64")
    before = snapshot(net)
    with pytest.raises(ValueError, match=r"X_dev has 6 rows but y_dev has shape \(1,\)"):
        net.fit(X, X[:, 0], epochs=1, validation_data=(X[:6], X[:1, 0]))
    assert_unchanged(net, before)


def test_a_shared_optimizer_instance_is_refused():
    X, y = data()
    shared = Adam()
    first, second = classifier(), classifier(seed=1)
    first.fit(X, y, epochs=2, optimizer=shared)
    assert first.optimizer_ is shared and shared.t == 2
    before = snapshot(second)
    with pytest.raises(ValueError, match="this Adam instance already trained another model"):
        second.fit(X, y, epochs=2, optimizer=shared)
    assert_unchanged(second, before)
    assert shared.t == 2
    first.fit(X, y, epochs=1, optimizer=shared)  # its own optimizer continues
    assert first.optimizer_ is shared and shared.t == 3


def test_a_fresh_instance_is_used_as_given():
    X, y = data()
    net = classifier()
    net.fit(X, y, epochs=2, optimizer="adam")
    old = net.optimizer_
    fresh = Adam()
    assert fresh.get_config() == old.get_config()
    net.fit(X, y, epochs=1, optimizer=fresh)
    assert net.optimizer_ is fresh and fresh.t == 1 and old.t == 2


def test_names_continue_an_equal_optimizer_and_start_fresh_otherwise():
    X, y = data()
    net = classifier()
    net.fit(X, y, epochs=2, optimizer="adam")
    old = net.optimizer_
    net.fit(X, y, epochs=1, optimizer={"name": "adam", "beta1": 0.9, "beta2": 0.999,
                                       "epsilon": 1e-8})
    assert net.optimizer_ is old and old.t == 3
    net.fit(X, y, epochs=1, optimizer={"name": "adam", "beta1": 0.8})
    assert net.optimizer_ is not old and net.optimizer_.t == 1 and net.optimizer_.beta1 == 0.8


def test_another_optimizer_starts_fresh_while_the_epoch_and_schedule_go_on():
    X, y = data()
    net = classifier()
    net.fit(X, y, epochs=3, optimizer="adam", learning_rate=0.1, lr_decay="rational:1.0",
            batch_size=16)
    history = net.fit(X, y, epochs=2, optimizer="gd", learning_rate=0.1,
                      lr_decay="rational:1.0", batch_size=16)
    assert isinstance(net.optimizer_, GradientDescent) and net.optimizer_.t == 2 * 3
    assert net.epoch_ == 5 and history.epoch == [3, 4]
    np.testing.assert_allclose(history.history["lr"], [0.1 / 4, 0.1 / 5])
