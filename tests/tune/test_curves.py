"""Learning curves: nested, stratified training sets, each point a plain fit of the full
set's optimizer steps."""

import numpy as np
import pytest

from mllib.optim import single_threaded
from mllib.training import Callback
from mllib.training.engine.resume import epoch_batches
from mllib.tune import fit, learning_curve
from mllib.tune.curves import _order

RNG = np.random.default_rng(0)
X = RNG.normal(size=(400, 10))
Y = ((X[:, 0] > 0) ^ (RNG.random(400) < 0.2)).astype(int)       # 20 % of labels flipped
TRAIN, DEV = (X[:300], Y[:300]), (X[300:], Y[300:])
BIG = {"hidden": [128, 128], "activation": "relu", "epochs": 300, "learning_rate": 0.01}


def test_a_high_variance_model_gains_from_more_data():
    # BLAS on one thread: products of 64 × 128 × 128 are too small for a second thread to
    # pay, and waiting for it made these 4,500 steps take 23 s, not 1.5 s, on a busy machine.
    with single_threaded():
        curve = learning_curve(BIG, TRAIN, DEV, sizes=[20, 60, 300])
    assert curve.sizes == [20, 60, 300]
    assert max(curve.train_error) < 0.05                  # it fits every training set
    assert curve.dev_error[0] - curve.dev_error[-1] > 0.05  # and more data closes the gap
    assert curve.diagnosis.high_variance and not curve.diagnosis.high_bias


def test_each_point_is_a_fit_on_the_first_rows_of_one_seeded_order():
    settings = {"hidden": [4], "epochs": 5}
    curve = learning_curve(settings, TRAIN, DEV, sizes=[0.5, 1.0], seed=3)
    order = _order(TRAIN[1], True, np.random.default_rng(3))
    rows = np.sort(order[:150])
    # Batches of 64 (the default): B(300) = 5, S = 5 · 5 = 25 steps, B(150) = 3, ⌈25/3⌉ = 9.
    model = fit({**settings, "epochs": 9}, (TRAIN[0][rows], TRAIN[1][rows]), seed=3)
    assert curve.train_error[0] == 1 - model.evaluate(TRAIN[0][rows], TRAIN[1][rows])["accuracy"]
    assert curve.dev_error[0] == 1 - model.evaluate(*DEV)["accuracy"]


class StepCounter(Callback):
    """Counts the batches that ended, one optimizer step each (no sample weights here)."""

    def __init__(self):
        super().__init__()
        self.steps = 0

    def on_batch_end(self, batch, logs=None):
        self.steps += 1


def refit(settings, n, epochs, seed=0):
    """The curve's point of n rows trained again for ``epochs``, and its steps counted."""
    rows = np.sort(_order(TRAIN[1], True, np.random.default_rng(seed))[:n])
    part = (TRAIN[0][rows], TRAIN[1][rows])
    counter = StepCounter()
    model = fit({**settings, "epochs": epochs}, part, seed=seed, callbacks=[counter])
    errors = [1 - model.evaluate(X, y)["accuracy"] for X, y in (part, DEV)]
    return errors, counter.steps, model


# The rule: S = epochs · B(N) with N = 300 rows, E(n) = ⌈S / B(n)⌉, steps(n) = E(n) · B(n),
# S ≤ steps(n) < S + B(n). Batches of 32, 4 epochs: B(300) = ⌈300/32⌉ = 10, S = 40.
SMALL = {"hidden": [4], "epochs": 4, "batch_size": 32}
# n:          20            70              150             300
# B(n):       1             3               5               10
# E(n):       40            ⌈40/3⌉ = 14     8               4
# steps(n):   40            42              40              40
EQUAL_STEPS = ([20, 70, 150, 300], [40, 14, 8, 4], [40, 42, 40, 40], [1, 3, 5, 10])


def test_every_size_trains_the_full_sets_steps_rounded_up_to_whole_epochs():
    sizes, epochs, steps, batches = EQUAL_STEPS
    curve = learning_curve(SMALL, TRAIN, DEV, sizes=sizes)
    for i, n in enumerate(sizes):
        errors, counted, model = refit(SMALL, n, epochs[i])
        # The curve's own model trained exactly as long as this one: same bits.
        assert [curve.train_error[i], curve.dev_error[i]] == errors
        assert counted == model.optimizer_.t == steps[i] == epochs[i] * batches[i]
        assert model.epoch_ == epochs[i] and len(model.history_.epoch) == epochs[i]
    assert curve.epochs == epochs and curve.steps == steps and curve.budget == "steps"
    full = steps[-1]
    assert all(full <= s < full + b for s, b in zip(curve.steps, batches))
    document = curve.to_dict()
    assert (document["epochs"], document["steps"], document["budget"]) == (epochs, steps,
                                                                            "steps")


def test_the_budget_is_the_whole_training_sets_even_when_the_sizes_stop_short():
    curve = learning_curve(SMALL, TRAIN, DEV, sizes=[150])
    assert curve.epochs == [8] and curve.steps == [40]      # S = 4 · B(300) = 40, not 4 · 5


def test_with_batch_norm_a_one_row_last_batch_is_no_step_of_its_own():
    # 97 = 3 · 32 + 1: the 1-row batch joins the one before, so B(97) = 3, not 4, and
    # S = 3 · B(300) = 30 steps make 10 epochs of 97 rows.
    settings = {"hidden": [4], "epochs": 3, "batch_size": 32, "batch_norm": True}
    curve = learning_curve(settings, TRAIN, DEV, sizes=[97, 300])
    assert curve.epochs == [10, 3] and curve.steps == [30, 30]
    _, counted, _ = refit(settings, 97, 10)
    assert counted == 30


def test_a_full_batch_takes_one_step_per_epoch_so_every_size_gets_the_epochs():
    curve = learning_curve({**SMALL, "batch_size": "full"}, TRAIN, DEV, sizes=[20, 300])
    assert curve.epochs == [4, 4] and curve.steps == [4, 4]


def test_budget_epochs_keeps_the_epochs_equal_and_the_steps_grow_with_the_rows():
    sizes, _, _, batches = EQUAL_STEPS
    curve = learning_curve(SMALL, TRAIN, DEV, sizes=sizes, budget="epochs")
    assert curve.epochs == [4] * 4 and curve.steps == [4 * b for b in batches]
    errors, _, _ = refit(SMALL, 20, 4)
    assert [curve.train_error[0], curve.dev_error[0]] == errors
    with pytest.raises(ValueError, match=r"budget must be 'steps' or 'epochs', got 'rows'"):
        learning_curve(SMALL, TRAIN, DEV, sizes=[20], budget="rows")


def test_batches_per_epoch_counts_the_batches_an_epoch_draws():
    from mllib.training.engine.resume import batches_per_epoch     # new with equal steps

    rng = np.random.default_rng(0)
    for n in range(1, 70):
        for b in (None, 1, 2, 3, 7, 32, 64, 100):
            for two_rows in (False, True):
                drawn = len(epoch_batches(rng, n, b, two_rows))
                assert batches_per_epoch(n, b, two_rows) == drawn, (n, b, two_rows)


def test_a_regression_curve_reads_one_minus_r2_above_one():
    # An untrained linear model predicts about 0 for targets about 100: R² far below 0.
    y = X[:, 0] + 100.0
    settings = {"hidden": [], "epochs": 0, "standardize_target": False}
    curve = learning_curve(settings, (X[:300], y[:300]), (X[300:], y[300:]), sizes=[50, 300])
    assert curve.regression and min(curve.train_error + curve.dev_error) > 1
    assert curve.epochs == [0, 0] and curve.steps == [0, 0]
    assert curve.diagnosis.high_bias and curve.diagnosis.train_error == curve.train_error[-1]


def test_the_order_keeps_every_prefix_stratified():
    y = np.array([0] * 90 + [1] * 10)
    order = _order(y, True, np.random.default_rng(1))
    assert sorted(order) == list(range(100))
    for n in (10, 20, 50):
        assert abs(np.sum(y[order[:n]] == 1) - n / 10) <= 1


@pytest.mark.parametrize("sizes, match", [
    ([], r"sizes must be a non-empty list"),
    ([0.5, 0.25], r"sizes must give increasing row counts, got \[150, 75\]"),
    ([1.5], r"sizes must be a number in \(0, 1\]"),
    ([400], r"sizes: 400 is 400 rows, but the training set has 300"),
    ([1], r"sizes must be an integer >= 2, got 1"),
])
def test_bad_sizes_are_refused(sizes, match):
    with pytest.raises(ValueError, match=match):
        learning_curve({"epochs": 1}, TRAIN, DEV, sizes=sizes)
