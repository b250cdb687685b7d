"""Training stopped at any step, saved, loaded and continued gives the bits of a run never
stopped: weights, optimizer state, the Generator and the epoch's logged cost."""

import os
import signal

import numpy as np
import pytest

import mllib
from mllib import LambdaCallback, ModelCheckpoint
from mllib.training.engine.fit import DEFAULT_EPOCHS, resolve_run

pytestmark = pytest.mark.same_bits   # CI runs these again under other BLAS kernels


def data(n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] * X[:, 1] + X[:, 2] > 0).astype(int)
    return X, y


CONFIGS = {
    "adam, dropout, batch norm, decay": (
        dict(nodes=[5, 12, 8, 1], activators=["relu", "tanh", "sigmoid"], keep_probs=0.8,
             batch_norm=True),
        dict(optimizer="adam", learning_rate=0.01, lr_decay="rational:0.5", batch_size=16)),
    "momentum, L2, uneven batches": (
        dict(nodes=[5, 10, 1], activators=["leaky_relu", "sigmoid"], lp_reg=2, lambda_=0.1),
        dict(optimizer="momentum", learning_rate=0.05, batch_size=7)),
    "rmsprop, full batch": (
        dict(nodes=[5, 6, 1], activators=["tanh", "sigmoid"], dtype="float64"),
        dict(optimizer="rmsprop", learning_rate=0.01, batch_size=None)),
}
EPOCHS = 4


def network(config):
    return mllib.NeuralNetwork(seed=3, **config)


def uninterrupted(config, fit_args, X, y):
    net = network(config)
    history = net.fit(X, y, epochs=EPOCHS, **fit_args)
    return net, history


def stop_at(epoch, batch):
    """A callback that raises KeyboardInterrupt after that batch of that epoch (from 0)."""
    def check(b, logs):
        if b == batch and model_epoch[0] == epoch:
            raise KeyboardInterrupt
    model_epoch = [0]
    return LambdaCallback(on_epoch_begin=lambda e, logs=None: model_epoch.__setitem__(0, e),
                          on_batch_end=check)


def assert_same_model(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert wa.keys() == wb.keys()
    for key in wa:
        assert np.array_equal(wa[key], wb[key]), key
    sa, sb = a.optimizer_.get_state(), b.optimizer_.get_state()
    for key in sa:
        assert np.array_equal(sa[key], sb[key]), key
    assert a.epoch_ == b.epoch_ and a.optimizer_.t == b.optimizer_.t
    assert a.rng_.bit_generator.state == b.rng_.bit_generator.state


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("epoch, batch", [(0, 0), (1, 2), (2, 5), (3, 0)])
def test_an_interrupted_run_saved_and_resumed_ends_with_the_same_bits(tmp_path, name,
                                                                       epoch, batch):
    config, fit_args = CONFIGS[name]
    X, y = data()
    reference, history = uninterrupted(config, fit_args, X, y)
    net = network(config)
    if fit_args["batch_size"] is None:
        batch = 0           # one batch per epoch
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=EPOCHS, callbacks=[stop_at(epoch, batch)], **fit_args)
    assert net.position_.done == batch + 1 and net.epoch_ == epoch
    net.save(tmp_path / "stopped.npz")
    resumed = mllib.load(tmp_path / "stopped.npz")
    rest = resumed.fit(X, y)           # everything else continues as it was
    assert_same_model(resumed, reference)
    assert rest.epoch == list(range(epoch, EPOCHS))
    # The interrupted epoch's cost sums the batches from before and after the stop.
    assert rest.history["cost"] == history.history["cost"][epoch:]
    assert rest.history["lr"] == history.history["lr"][epoch:]
    assert resumed.position_ is None


def test_every_mid_epoch_checkpoint_resumes_to_the_same_bits(tmp_path):
    config, fit_args = CONFIGS["adam, dropout, batch norm, decay"]
    X, y = data()
    reference, _ = uninterrupted(config, fit_args, X, y)
    saver = ModelCheckpoint(tmp_path / "ckpt-{epoch}-{batch}.npz", every_batches=2)
    network(config).fit(X, y, epochs=EPOCHS, callbacks=[saver], **fit_args)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == EPOCHS * 3      # 6 batches of 16 rows (the last of 10) per epoch
    assert saver.last_path == str(tmp_path / f"ckpt-{EPOCHS}-6.npz")
    for name in files:
        resumed = mllib.load(tmp_path / name)
        resumed.fit(X, y)
        assert_same_model(resumed, reference)


def test_epoch_checkpoints_every_k_epochs(tmp_path):
    config, fit_args = CONFIGS["momentum, L2, uneven batches"]
    X, y = data()
    net = network(config)
    net.fit(X, y, epochs=5, callbacks=[ModelCheckpoint(tmp_path / "e{epoch}.npz",
                                                       every_epochs=2)], **fit_args)
    assert sorted(os.listdir(tmp_path)) == ["e2.npz", "e4.npz"]
    four = mllib.load(tmp_path / "e4.npz")
    assert four.epoch_ == 4 and four.position_ is None
    four.fit(X, y)                      # the fifth epoch, the rest of the run
    assert_same_model(four, net)


def test_a_monitored_checkpoint_keeps_the_best_epoch(tmp_path):
    config, fit_args = CONFIGS["momentum, L2, uneven batches"]
    X, y = data()
    X_dev, y_dev = data(40, seed=1)
    snapshots = {}
    keep = LambdaCallback(on_epoch_end=lambda e, logs: snapshots.update(
        {e: (logs["val_cost"], net.get_weights())}))
    net = network(config)
    path = tmp_path / "best.npz"
    saver = ModelCheckpoint(path, monitor="val_cost")
    net.fit(X, y, epochs=8, validation_data=(X_dev, y_dev), callbacks=[keep, saver],
            **{**fit_args, "learning_rate": 0.5})
    costs = [snapshots[e][0] for e in range(8)]
    best = int(np.argmin(costs))
    assert best < 7, "the test needs a run whose dev cost rises after its best epoch"
    assert saver.best == costs[best]
    saved = mllib.load(path).get_weights()
    for key, value in snapshots[best][1].items():
        assert np.array_equal(saved[key], value), key


def test_bad_checkpoint_arguments_are_refused():
    with pytest.raises(ValueError, match="filepath"):
        ModelCheckpoint("ckpt-{step}.npz")
    with pytest.raises(ValueError, match="every_batches"):
        ModelCheckpoint("c.npz", every_batches=0)
    with pytest.raises(ValueError, match="cannot be combined"):
        ModelCheckpoint("c.npz", every_batches=3, monitor="val_cost")
    net = network(CONFIGS["rmsprop, full batch"][0])
    with pytest.raises(ValueError, match="monitor 'val_cost' is not logged"):
        net.fit(*data(), epochs=1, callbacks=[ModelCheckpoint("c.npz", monitor="val_cost")])
    assert not net.fitted_


def test_ctrl_c_inside_a_step_takes_effect_after_that_step(tmp_path):
    """SIGINT arrives while a batch is prepared; the step finishes, then fit raises."""
    config, fit_args = CONFIGS["adam, dropout, batch norm, decay"]
    X, y = data()
    reference, _ = uninterrupted(config, fit_args, X, y)
    calls = []

    def identity_that_presses_ctrl_c(batch, rng):
        calls.append(1)
        if len(calls) == 9:
            os.kill(os.getpid(), signal.SIGINT)
        return batch

    net, plain = network(config), network(config)
    # Python's own handler, whatever an earlier test (or a library it used) left there.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            net.fit(X, y, epochs=EPOCHS, augment=identity_that_presses_ctrl_c, **fit_args)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
    assert (net.epoch_, net.position_.done) == (1, 3)   # 6 steps in epoch 1, then 3
    net.save(tmp_path / "m.npz")
    resumed = mllib.load(tmp_path / "m.npz")
    resumed.fit(X, y, augment=lambda batch, rng: batch)
    plain.fit(X, y, epochs=EPOCHS, augment=lambda batch, rng: batch, **fit_args)
    assert_same_model(resumed, plain)
    assert_same_model(plain, reference)


def test_load_then_fit_continues_the_learning_rate_schedule_and_batch_size(tmp_path):
    X, y = data()
    config = dict(nodes=[5, 8, 1], activators=["relu", "sigmoid"])
    args = dict(optimizer="gd", learning_rate=0.3, lr_decay="exponential:0.5", batch_size=10)
    whole = network(config)
    whole.fit(X, y, epochs=5, **args)
    first = network(config)
    first.fit(X, y, epochs=3, **args)
    first.save(tmp_path / "m.npz")
    later = mllib.load(tmp_path / "m.npz")
    history = later.fit(X, y, epochs=2)
    assert history.history["lr"] == whole.history_.history["lr"][3:]
    assert_same_model(later, whole)


def test_a_schedule_function_lost_in_the_file_must_be_given_again(tmp_path):
    X, y = data()
    net = network(CONFIGS["rmsprop, full batch"][0])
    net.fit(X, y, epochs=1, learning_rate=0.01, lr_decay=lambda epoch: 0.01 / (1 + epoch))
    net.fit(X, y, epochs=1)            # in memory, the function is still there
    net.save(tmp_path / "m.npz")
    loaded = mllib.load(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="schedule function .*<lambda>.*pass learning_rate"):
        loaded.fit(X, y, epochs=1)
    assert loaded.epoch_ == 2
    loaded.fit(X, y, epochs=1, learning_rate=0.005)
    assert loaded.epoch_ == 3


def test_resuming_mid_epoch_needs_the_same_rows_and_batch_size(tmp_path):
    config, fit_args = CONFIGS["momentum, L2, uneven batches"]
    X, y = data()
    net = network(config)
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=2, callbacks=[stop_at(1, 3)], **fit_args)
    before = net.get_weights()
    with pytest.raises(ValueError, match="epoch 2 of 90 training rows, and X has 89"):
        net.fit(X[:-1], y[:-1])
    with pytest.raises(ValueError, match="batch_size=7; resume it with that batch size, not 8"):
        net.fit(X, y, batch_size=8)
    after = net.get_weights()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert net.position_.done == 4


def test_epochs_default_to_the_rest_of_the_run_or_a_hundred_and_never_start_a_second_run():
    X, y = data()
    net = network(CONFIGS["rmsprop, full batch"][0])
    assert resolve_run(net, 90, optimizer=None, learning_rate=None, lr_decay=None,
                       epochs=None, batch_size=None)[2] == DEFAULT_EPOCHS
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=5, callbacks=[stop_at(1, 0)])
    assert resolve_run(net, 90, optimizer=None, learning_rate=None, lr_decay=None,
                       epochs=None, batch_size=None)[2] == 4    # epoch 2, under way, to 5
    net.fit(X, y)
    assert net.epoch_ == 5
    before = net.get_weights()
    with pytest.raises(ValueError, match=r"^epochs=None finishes an interrupted run, but this "
                       r"model's last run ended, at epoch 5: pass epochs=N to train N more "
                       r"epochs$"):
        net.fit(X, y)
    assert net.epoch_ == 5 and all(np.array_equal(before[k], w)
                                   for k, w in net.get_weights().items())
    net.fit(X, y, epochs=2)                 # as Keras's fit(epochs=2): two more
    assert net.epoch_ == 7
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=3, callbacks=[stop_at(8, 0)])
    with pytest.raises(ValueError, match="^epochs=None finishes an interrupted run, but "
                       "another optimizer than the model's starts a new run: pass epochs=N"):
        net.fit(X, y, optimizer="gd")
    assert net.epoch_ == 8 and net.position_.done == 1


def test_the_last_checkpoint_of_a_run_does_not_train_on_without_epochs(tmp_path):
    config, fit_args = CONFIGS["momentum, L2, uneven batches"]
    X, y = data()
    net = network(config)
    net.fit(X, y, epochs=EPOCHS, callbacks=[ModelCheckpoint(tmp_path / "ck-{epoch}-{batch}.npz")],
            **fit_args)
    last = mllib.load(tmp_path / f"ck-{EPOCHS}-0.npz")
    assert_same_model(last, net)
    with pytest.raises(ValueError, match=f"last run ended, at epoch {EPOCHS}: pass epochs=N"):
        last.fit(X, y)
    assert last.epoch_ == EPOCHS
    last.fit(X, y, epochs=1)
    net.fit(X, y, epochs=1)
    assert last.epoch_ == EPOCHS + 1
    assert_same_model(last, net)


@pytest.mark.parametrize("field, value, message", [
    ("done", 99, "after batch 99 of 13"),
    ("n_batches", 12, "had 12 batches, but batch_size=7 makes 13 of its rows"),
    ("done", -1, "'done' must be an integer >= 0"),
    ("shuffle", {"bit_generator": "PCG64", "state": "x"}, "'shuffle' is not a Generator's"),
    ("epoch", 3, "the saved position is in epoch 4, but the model has trained 1 epochs"),
])
def test_a_damaged_position_is_refused_when_loaded_or_resumed(tmp_path, field, value, message):
    from mllib.io import ModelFileError, loads_model, model_file_bytes, read_model_file

    config, fit_args = CONFIGS["momentum, L2, uneven batches"]
    X, y = data()
    net = network(config)
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=2, callbacks=[stop_at(1, 3)], **fit_args)
    net.save(tmp_path / "m.npz")
    header, arrays = read_model_file(tmp_path / "m.npz")
    header["position"][field] = value
    if field == "n_batches":      # found when fit draws the batches again
        model = loads_model(model_file_bytes(header, arrays))
        before = model.get_weights()
        with pytest.raises(ValueError, match=message):
            model.fit(X, y)
        assert all(np.array_equal(before[k], v) for k, v in model.get_weights().items())
        assert model.epoch_ == 1 and model.optimizer_.t == 13 + 4
        return
    with pytest.raises(ModelFileError, match=message):
        loads_model(model_file_bytes(header, arrays))
