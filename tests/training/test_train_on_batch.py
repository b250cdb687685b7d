"""NeuralNetwork.train_on_batch: one step of the engine on the rows given, the bits of fit's."""

import copy
import os
import signal

import numpy as np
import pytest

import mllib
from mllib import LambdaCallback
from mllib.optim import Adam
from mllib.training.engine.resume import epoch_batches

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels


def data(n=49, seed=0, classes=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)
    if classes == 3:
        y = y + (X[:, 3] > 0.5)
    return X, y


def assert_same_model(a, b):
    """The same weights, running statistics, optimizer state and Generator, to the bit."""
    wa, wb = a.get_weights(), b.get_weights()
    assert wa.keys() == wb.keys()
    for name in wa:
        assert wa[name].tobytes() == wb[name].tobytes(), name
    sa, sb = a.optimizer_.get_state(), b.optimizer_.get_state()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert sa[name].tobytes() == sb[name].tobytes(), name
    assert a.rng_.bit_generator.state == b.rng_.bit_generator.state


FULL_BATCH = {
    "adam, L2": (dict(nodes=[4, 6, 1], activators=["tanh", "sigmoid"], lp_reg=2, lambda_=0.3),
                 dict(optimizer="adam", learning_rate=0.01)),
    "momentum, softmax, standardize, weights": (
        dict(nodes=[None, 5, 3], activators=["relu", "softmax"], standardize=True),
        dict(optimizer={"name": "momentum", "beta": 0.8}, learning_rate=0.05)),
    "rmsprop, dropout, batch norm, L1": (
        dict(nodes=[4, 8, 6, 1], activators=["relu", "tanh", "sigmoid"], keep_probs=0.7,
             batch_norm=True, lp_reg=1, lambda_=0.1),
        dict(optimizer="rmsprop", learning_rate=0.01)),
    "gd, regression, standardized target": (
        dict(nodes=[4, 5, 1], activators=["tanh", "linear"], standardize_target=True),
        dict(optimizer="gd", learning_rate=0.1)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", sorted(FULL_BATCH))
def test_k_calls_on_all_rows_are_k_full_batch_epochs_of_fit(case, dtype):
    config, fit_args = FULL_BATCH[case]
    X, y = data(classes=3 if "softmax" in case else 2)
    if "regression" in case:
        y = X @ np.array([1.0, -2.0, 0.5, 3.0]) * 50 + 7
    weights = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0]) if "weights" in case else None
    by_fit = mllib.NeuralNetwork(seed=4, dtype=dtype, **config)
    by_fit.fit(X, y, epochs=3, sample_weight=weights, **fit_args)
    by_step = mllib.NeuralNetwork(seed=4, dtype=dtype, **config)
    for _ in range(3):
        by_step.train_on_batch(X, y, sample_weight=weights, **fit_args)
    assert_same_model(by_fit, by_step)
    assert by_step.epoch_ == 0 and by_step.optimizer_.t == 3 and by_step.fitted_
    assert by_step.predict(X).tobytes() == by_fit.predict(X).tobytes()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_calls_on_the_batches_that_fit_draws_give_fits_bits(dtype):
    # Dropout and batch norm: each call is one step, its masks drawn from rng_ as in fit.
    # 49 rows in batches of 16: the last batch of 1 row joins the one before (batch norm).
    config = dict(nodes=[4, 8, 6, 3], activators=["relu", "tanh", "softmax"], keep_probs=0.8,
                  batch_norm=True, seed=2, dtype=dtype)
    X, y = data(classes=3)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    by_fit = mllib.NeuralNetwork(**config)
    by_fit.fit(X, y, optimizer="adam", learning_rate=0.01, lr_decay="rational:0.5", epochs=2,
               batch_size=16, sample_weight=weights)
    by_step = mllib.NeuralNetwork(**config)
    steps = 0
    for epoch in range(2):
        rate = 0.01 / (1 + 0.5 * epoch)
        batches = epoch_batches(by_step.rng_, X.shape[0], 16, by_step.needs_two_rows)
        assert [len(rows) for rows in batches] == [16, 16, 17]
        for rows in batches:
            by_step.train_on_batch(X[rows], y[rows], sample_weight=weights[rows],
                                   optimizer="adam", learning_rate=rate)
            steps += 1
            assert by_step.optimizer_.t == steps
    assert_same_model(by_fit, by_step)


def test_the_cost_returned_is_the_batchs_cost_before_the_step():
    X, y = data()
    net = mllib.NeuralNetwork(nodes=[4, 6, 1], activators=["tanh", "sigmoid"], lp_reg=2,
                              lambda_=0.5, seed=1, dtype="float64")
    net.train_on_batch(X, y, optimizer="gd", learning_rate=0.5)
    weights = np.linspace(0.5, 1.5, X.shape[0])
    expected, _ = copy.deepcopy(net).gradients(X, y, sample_weight=weights)
    cost = net.train_on_batch(X, y, sample_weight=weights)
    assert type(cost) is float and cost == expected
    assert net.train_on_batch(X, y) < cost


def test_fit_after_train_on_batch_continues_the_optimizer_and_the_epochs():
    X, y = data()
    config = dict(nodes=[4, 6, 1], activators=["tanh", "sigmoid"], seed=5)
    by_fit = mllib.NeuralNetwork(**config)
    by_fit.fit(X, y, optimizer="adam", learning_rate=0.01, epochs=5)
    mixed = mllib.NeuralNetwork(**config)
    for _ in range(2):
        mixed.train_on_batch(X, y, optimizer="adam", learning_rate=0.01)
    history = mixed.fit(X, y, epochs=3)          # at the calls' rate, not Adam's default
    assert_same_model(by_fit, mixed)
    assert mixed.epoch_ == 3 and history.epoch == [0, 1, 2] and mixed.optimizer_.t == 5


def test_train_on_batch_after_fit_continues_the_last_fits_rate():
    # With no learning_rate, the step takes α(epoch_) of the last fit's schedule.
    X, y = data()
    config = dict(nodes=[4, 6, 1], activators=["tanh", "sigmoid"], seed=5)
    fit_args = dict(optimizer="momentum", learning_rate=0.1, lr_decay="rational:1.0")
    by_fit = mllib.NeuralNetwork(**config)
    by_fit.fit(X, y, epochs=3, **fit_args)
    mixed = mllib.NeuralNetwork(**config)
    mixed.fit(X, y, epochs=2, **fit_args)
    history = mixed.history_
    mixed.train_on_batch(X, y)                                  # α(2) = 0.1 / 3
    assert_same_model(by_fit, mixed)
    assert mixed.epoch_ == 2 and mixed.history_ is history and mixed.run_.end_epoch == 2


def test_another_optimizer_replaces_the_last_fits_and_its_run():
    X, y = data()
    net = mllib.NeuralNetwork(nodes=[4, 6, 1], activators=["tanh", "sigmoid"], seed=5)
    net.fit(X, y, optimizer={"name": "momentum", "beta": 0.9}, epochs=2, batch_size=16)
    momentum = net.optimizer_
    net.train_on_batch(X, y, optimizer={"name": "momentum", "beta1": 0.9})   # the same one
    assert net.optimizer_ is momentum and momentum.t == 9 and net.run_.batch_size == 16
    net.train_on_batch(X, y, optimizer="gd", learning_rate=0.1)
    assert net.optimizer_.name == "gd" and net.optimizer_.t == 1
    assert net.run_.batch_size is None and net.run_.schedule.get_config()["alpha0"] == 0.1


def test_a_model_file_keeps_what_train_on_batch_did(tmp_path):
    X, y = data()
    net = mllib.NeuralNetwork(nodes=[None, 6, None], activators=["tanh", "softmax"],
                              keep_probs=0.8, seed=5)
    y3 = np.array(["a", "b", "c"])[data(classes=3)[1]]
    net.train_on_batch(X, y3, learning_rate=0.01)
    net.save(tmp_path / "m.npz")
    back = mllib.load(tmp_path / "m.npz")
    for model in (net, back):
        model.train_on_batch(X[:20], y3[:20])
    assert_same_model(net, back)
    assert list(back.predict(X[:3])) == list(net.predict(X[:3]))


def snapshot(net):
    """What a call that raises must leave as it was."""
    state = {"rng": net.rng_.bit_generator.state, "built": net.built, "fitted": net.fitted_,
             "epoch": net.epoch_, "optimizer": net.optimizer_, "run": net.run_,
             "classes": net.targets_.classes, "standardizer": net.standardizer_}
    if net.built:
        state["weights"] = {k: v.tobytes() for k, v in net.get_weights().items()}
        if net.optimizer_ is not None:
            state["t"] = net.optimizer_.t
            state["moments"] = {k: v.tobytes() for k, v in net.optimizer_.get_state().items()}
    return state


BAD_CALLS = [
    (lambda X, y: (X, y[:-1]), {}, r"X has 49 rows but y has shape \(48,\)"),
    (lambda X, y: (X, np.arange(49) % 3), {},
     r"unknown label 2; the known classes are \[0, 1\]"               # built: classes fixed
     r"|a sigmoid output takes two classes, but y has 3"),
    (lambda X, y: (np.where(X > 1, np.nan, X), y), {}, r"NaN"),
    (lambda X, y: (X, y), {"sample_weight": -np.ones(49)}, r"sample_weight"),
    (lambda X, y: (X, y), {"optimizer": "adagrad"}, r"unknown optimizer 'adagrad'"),
    (lambda X, y: (X, y), {"learning_rate": -0.1}, r"learning_rate must be a number"),
    (lambda X, y: (X, y), {"optimizer": {"name": "momentum", "beta": 0.5, "beta1": 0.9}},
     r"beta and beta1"),
    (lambda X, y: (X[:1], y[:1]), {}, r"needs at least 2 rows"),
]


WIDTH = (lambda X, y: (X[:, :3], y), {}, r"X has 3 features")   # an unbuilt network takes any


@pytest.mark.parametrize("make, kwargs, match, built",
                         [(*call, True) for call in [WIDTH, *BAD_CALLS]]
                         + [(*call, False) for call in BAD_CALLS])
def test_a_call_that_raises_leaves_the_model_as_it_was(make, kwargs, match, built):
    X, y = data()
    net = mllib.NeuralNetwork(nodes=[4 if built else None, 6, 1],
                              activators=["tanh", "sigmoid"], batch_norm=[False, True, False],
                              standardize=True, seed=5)
    if built:
        net.train_on_batch(X, y, optimizer="adam", learning_rate=0.01)
    before = snapshot(net)
    with pytest.raises(ValueError, match=match):
        net.train_on_batch(*make(X, y), **kwargs)
    assert snapshot(net) == before


def test_an_optimizer_of_another_model_is_refused_and_nothing_changes():
    X, y = data()
    other = mllib.NeuralNetwork(nodes=[4, 3, 1], activators=["tanh", "sigmoid"])
    adam = Adam()
    other.train_on_batch(X, y, optimizer=adam)
    net = mllib.NeuralNetwork(nodes=[4, 6, 1], activators=["tanh", "sigmoid"], seed=5)
    before = snapshot(net)
    with pytest.raises(ValueError, match=r"this Adam instance already trained another model"):
        net.train_on_batch(X, y, optimizer=adam)
    assert snapshot(net) == before


def test_a_model_stopped_in_the_middle_of_an_epoch_is_refused_until_it_finishes():
    X, y = data()
    net = mllib.NeuralNetwork(nodes=[4, 6, 1], activators=["tanh", "sigmoid"], seed=5)

    def stop(batch, logs):
        if batch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=2, batch_size=16,
                callbacks=[LambdaCallback(on_batch_end=stop)])
    before = snapshot(net)
    with pytest.raises(ValueError, match=r"the model stopped in the middle of epoch 1, after "
                                         r"batch 2 of 4; finish that epoch with fit first"):
        net.train_on_batch(X, y)
    assert snapshot(net) == before and net.position_.done == 2
    net.position_ = None
    net.train_on_batch(X, y)
    assert net.optimizer_.t == 3


def test_a_step_that_diverges_raises_and_keeps_the_weights():
    X, y = data()
    y = X @ np.array([1.0, -2.0, 0.5, 3.0])
    net = mllib.NeuralNetwork(nodes=[4, 6, 1], activators=["relu", "linear"], seed=5)
    net.train_on_batch(X, y, optimizer="gd", learning_rate=1e18)   # finite, but huge weights
    before = snapshot(net)
    with pytest.raises(mllib.DivergenceError, match=r"training diverged: .* on the batch given, "
                                                    r"with learning rate 1e\+18"):
        net.train_on_batch(X, y)
    assert snapshot(net) == before


def test_a_first_batch_of_one_class_fixes_the_classes_only_from_codes():
    X, y = data()
    net = mllib.NeuralNetwork(nodes=[4, 6, 3], activators=["tanh", "softmax"], seed=5)
    net.train_on_batch(X[:5], np.ones(5, dtype=int))               # codes of 3 units: 0, 1, 2
    assert list(net.targets_.classes.classes_) == [0, 1, 2]
    words = mllib.NeuralNetwork(nodes=[4, 6, 1], activators=["tanh", "sigmoid"], seed=5)
    with pytest.raises(ValueError, match=r"y has only one class, 'a'; .*the first batch fixes "
                                         r"the classes: give it two"):
        words.train_on_batch(X[:5], np.array(["a"] * 5))
    assert words.targets_.classes is None and not words.fitted_
    with pytest.raises(ValueError, match=r"y has only one class, 0; a classifier needs at least "
                                         r"2 classes to train on$"):
        words.fit(X[:5], np.zeros(5, dtype=int))                    # fit still refuses


class InterruptedInItsStep(mllib.NeuralNetwork):
    """Ctrl-C arrives in the middle of every step, between the forward and backward pass
    and the optimizer's update."""

    def train_step(self, X, Y, sample_weight=None):
        os.kill(os.getpid(), signal.SIGINT)
        return super().train_step(X, Y, sample_weight)


def test_ctrl_c_during_the_step_takes_effect_after_it():
    X, y = data()
    config = dict(nodes=[4, 6, 1], activators=["tanh", "sigmoid"], seed=5)
    whole = mllib.NeuralNetwork(**config)
    whole.train_on_batch(X, y, optimizer="adam", learning_rate=0.01)
    net = InterruptedInItsStep(**config)
    # Python's own handler, whatever an earlier test (or a library it used) left there.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            net.train_on_batch(X, y, optimizer="adam", learning_rate=0.01)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert_same_model(whole, net)
